package search

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// resultCache keeps recent search results: lore-style traffic repeats
// the same queries (b4 and lei polling, the front page of a list), and a
// date-sorted query over many hits visits every one of them. Any write to
// the index empties the cache; entries also expire after cacheTTL, so
// that relative dates ("2.weeks.ago") move on.
type resultCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   *list.List // front = most recently used
}

type cacheEntry struct {
	key    string
	res    *Result
	stored time.Time
}

const (
	cacheEntries = 512
	cacheTTL     = time.Minute
)

// newResultCache makes a cache of max entries (0: cacheEntries); nil,
// which caches nothing, when max is negative.
func newResultCache(max int) *resultCache {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = cacheEntries
	}
	return &resultCache{max: max, entries: map[string]*list.Element{}, order: list.New()}
}

// cacheKey names a search; "" means do not cache (an explicit Now).
func cacheKey(q string, o *SearchOptions) string {
	if !o.Now.IsZero() {
		return ""
	}
	return fmt.Sprintf("%q %d %d %s %t %q %q", q, o.Limit, o.Offset, o.Sort, o.Threads, o.List, o.ThreadID)
}

func (c *resultCache) get(key string) (*Result, bool) {
	if c == nil || key == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if time.Since(e.stored) > cacheTTL {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.res.clone(), true
}

func (c *resultCache) put(key string, r *Result) {
	if c == nil || key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value = &cacheEntry{key: key, res: r.clone(), stored: time.Now()}
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, res: r.clone(), stored: time.Now()})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).key)
	}
}

// clear drops every entry; called on every write to the index.
func (c *resultCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]*list.Element{}
	c.order.Init()
}

func (r *Result) clone() *Result {
	return &Result{Total: r.Total, Hits: append([]Hit(nil), r.Hits...)}
}
