package search

import (
	"context"
	"testing"
	"time"
)

// TestCacheInvalidation: a cached result never hides a write.
func TestCacheInvalidation(t *testing.T) {
	ix, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	add := func(id string) {
		b := ix.Batch()
		if err := b.Index(&Doc{MessageID: id, Subject: "cached words", Date: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Execute(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func() uint64 {
		r, err := ix.Search(ctx, "s:cached", nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	add("a@x")
	if n := count(); n != 1 {
		t.Fatalf("first search: %d hits, want 1", n)
	}
	r1, _ := ix.Search(ctx, "s:cached", nil)
	r1.Hits[0].Subject = "changed by the caller"
	if r2, _ := ix.Search(ctx, "s:cached", nil); r2.Hits[0].Subject != "cached words" {
		t.Errorf("a caller's change leaked into the cache: %q", r2.Hits[0].Subject)
	}
	add("b@x")
	if n := count(); n != 2 {
		t.Errorf("after a write: %d hits, want 2", n)
	}
	if err := ix.Delete(ctx, "a@x"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("after a delete: %d hits, want 1", n)
	}
}
