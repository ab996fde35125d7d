package search

import (
	"context"
	"fmt"
	"testing"
)

// An index fed many small batches keeps them in segments of their own
// (the merge floor); Compact merges each shard down to what the cap on
// merged segments allows, and every query answers as before.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(t.TempDir(), &Options{Shards: 2, MaxSegmentDocs: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	docs := newSynth(7).docs(400)
	b := ix.Batch()
	for i, d := range docs {
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if err := b.Execute(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	queries := []string{docs[3].Subject, "s:" + newSynth(7).word(), "d:2020-01-01..", "rt:..2030-01-01"}
	before := map[string]string{}
	for _, q := range queries {
		r, err := ix.Search(ctx, q, &SearchOptions{Limit: 1000})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		before[q] = fmt.Sprint(r.Total, ids(r))
	}
	parts, _ := ix.Partitions()
	minSegs := uint64(len(parts) * ix.Shards())
	n0, err := ix.segments()
	if err != nil {
		t.Fatal(err)
	}
	if n0 <= minSegs {
		t.Fatalf("%d segments in %d shards before Compact: the test no longer starts from small segments", n0, minSegs)
	}
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	n1, err := ix.segments()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("segments: %d before Compact, %d after, %d shards", n0, n1, minSegs)
	if n1 > minSegs {
		t.Errorf("%d segments after Compact (%d before), want at most one per shard (%d)", n1, n0, minSegs)
	}
	for _, q := range queries {
		r, err := ix.Search(ctx, q, &SearchOptions{Limit: 1000})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := fmt.Sprint(r.Total, ids(r)); got != before[q] {
			t.Errorf("%s after Compact: %s, want %s", q, got, before[q])
		}
	}
}
