package search

import (
	"fmt"
	"time"

	"patchtrail/internal/lru"
)

// resultCache keeps recent search results: lore-style traffic repeats
// the same queries (b4 and lei polling, the front page of a list), and a
// date-sorted query over many hits visits every one of them. Any write to
// the index empties the cache; entries also expire after cacheTTL, so
// that relative dates ("2.weeks.ago") move on.
type resultCache struct{ c *lru.Cache[string, *Result] }

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
	return &resultCache{lru.New[string, *Result](int64(max), cacheTTL, nil)}
}

// cacheKey names a search; "" means do not cache (an explicit Now).
func cacheKey(q string, o *SearchOptions) string {
	if !o.Now.IsZero() {
		return ""
	}
	return fmt.Sprintf("%q %d %d %s %t %q %q %t", q, o.Limit, o.Offset, o.Sort, o.Threads, o.List, o.ThreadID, o.MessagesOnly)
}

func (c *resultCache) get(key string) (*Result, bool) {
	if c == nil || key == "" {
		return nil, false
	}
	r, ok := c.c.Get(key)
	if !ok {
		return nil, false
	}
	return r.clone(), true
}

func (c *resultCache) put(key string, r *Result) {
	if c == nil || key == "" {
		return
	}
	c.c.Put(key, r.clone())
}

// clear drops every entry; called on every write to the index.
func (c *resultCache) clear() {
	if c != nil {
		c.c.Clear()
	}
}

func (r *Result) clone() *Result {
	return &Result{Total: r.Total, TotalApprox: r.TotalApprox, Hits: append([]Hit(nil), r.Hits...)}
}
