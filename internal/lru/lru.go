// Package lru is a least-recently-used cache bounded by the total cost of
// its entries (bytes, or 1 per entry for a count bound), with an optional
// time to live. It is safe for concurrent use. A nil *Cache holds
// nothing, so callers turn caching off by not making one.
package lru

import (
	"container/list"
	"sync"
	"time"
)

// Cache maps keys to values, evicting the least recently used entries
// when the summed cost exceeds its bound.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	max     int64
	ttl     time.Duration
	cost    func(K, V) int64
	size    int64
	entries map[K]*list.Element
	order   list.List // front = most recently used
	hits    int64
	misses  int64
}

type entry[K comparable, V any] struct {
	key    K
	val    V
	cost   int64
	stored time.Time
}

// New makes a cache holding entries of total cost at most max; cost nil
// counts every entry as 1. Entries older than ttl are not returned (0:
// no expiry). A max ≤ 0 gives nil, a cache that holds nothing.
func New[K comparable, V any](max int64, ttl time.Duration, cost func(K, V) int64) *Cache[K, V] {
	if max <= 0 {
		return nil
	}
	if cost == nil {
		cost = func(K, V) int64 { return 1 }
	}
	return &Cache[K, V]{max: max, ttl: ttl, cost: cost, entries: map[K]*list.Element{}}
}

// Get returns the value of k and marks it recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		c.misses++
		return zero, false
	}
	e := el.Value.(*entry[K, V])
	if c.ttl > 0 && time.Since(e.stored) > c.ttl {
		c.remove(el)
		c.misses++
		return zero, false
	}
	c.order.MoveToFront(el)
	c.hits++
	return e.val, true
}

// Put stores v under k, replacing an older value. A value costing more
// than the whole bound is not stored.
func (c *Cache[K, V]) Put(k K, v V) {
	if c == nil {
		return
	}
	n := c.cost(k, v)
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.remove(el)
	}
	c.entries[k] = c.order.PushFront(&entry[K, V]{key: k, val: v, cost: n, stored: time.Now()})
	c.size += n
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

// Remove drops k.
func (c *Cache[K, V]) Remove(k K) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.remove(el)
	}
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.order.Init()
	c.size = 0
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int {
	return c.Stats().Entries
}

// Stats describes a cache's content and use.
type Stats struct {
	Entries      int
	Size, Max    int64 // summed cost of the entries, and its bound
	Hits, Misses int64 // Get calls that found a live entry, and the others
}

// Stats returns the cache's numbers (zero for a nil cache).
func (c *Cache[K, V]) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.entries), Size: c.size, Max: c.max, Hits: c.hits, Misses: c.misses}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	e := el.Value.(*entry[K, V])
	c.order.Remove(el)
	delete(c.entries, e.key)
	c.size -= e.cost
}
