package lru

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestEvictsLeastRecentlyUsedByCost(t *testing.T) {
	c := New[string, []byte](1000, 0, func(k string, v []byte) int64 { return int64(len(v)) })
	c.Put("a", make([]byte, 400))
	c.Put("b", make([]byte, 400))
	if _, ok := c.Get("a"); !ok {
		t.Fatal("a missing")
	}
	c.Put("c", make([]byte, 400)) // 1200 > 1000: b is the least recently used
	for k, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("Get(%q) present = %t, want %t", k, ok, want)
		}
	}
	if c.Stats().Size != 800 || c.Len() != 2 {
		t.Errorf("size %d len %d, want 800 and 2", c.Stats().Size, c.Len())
	}
	c.Put("huge", make([]byte, 2000))
	if _, ok := c.Get("huge"); ok || c.Len() != 2 {
		t.Errorf("a value over the bound was kept or evicted others (len %d)", c.Len())
	}
	c.Put("a", make([]byte, 100)) // replacing adjusts the size
	if c.Stats().Size != 500 {
		t.Errorf("size after replace %d, want 500", c.Stats().Size)
	}
	c.Remove("a")
	c.Clear()
	if c.Stats().Size != 0 || c.Len() != 0 {
		t.Errorf("not empty after Clear: size %d len %d", c.Stats().Size, c.Len())
	}
}

func TestCountBoundAndTTL(t *testing.T) {
	c := New[int, int](3, 20*time.Millisecond, nil)
	for i := range 5 {
		c.Put(i, i)
	}
	if c.Len() != 3 {
		t.Errorf("len %d, want 3", c.Len())
	}
	if _, ok := c.Get(0); ok {
		t.Error("0 should have been evicted")
	}
	if v, ok := c.Get(4); !ok || v != 4 {
		t.Errorf("Get(4) = %d %t", v, ok)
	}
	time.Sleep(30 * time.Millisecond)
	if _, ok := c.Get(4); ok {
		t.Error("an expired entry was returned")
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 2 || st.Max != 3 {
		t.Errorf("stats %+v, want 1 hit (4), 2 misses (0, expired 4), max 3", st)
	}
}

func TestNilHoldsNothing(t *testing.T) {
	c := New[string, int](0, 0, nil)
	if c != nil {
		t.Fatal("max 0 should give a nil cache")
	}
	c.Put("a", 1)
	if _, ok := c.Get("a"); ok || c.Len() != 0 || c.Stats().Size != 0 {
		t.Error("a nil cache held something")
	}
	c.Remove("a")
	c.Clear()
}

func TestConcurrent(t *testing.T) {
	c := New[string, int](100, 0, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := fmt.Sprint((g * i) % 300)
				c.Put(k, i)
				c.Get(k)
			}
		})
	}
	wg.Wait()
	if c.Len() > 100 || c.Stats().Size != int64(c.Len()) {
		t.Errorf("len %d size %d after concurrent use", c.Len(), c.Stats().Size)
	}
}
