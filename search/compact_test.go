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
	n0, err := ix.Segments()
	if err != nil {
		t.Fatal(err)
	}
	if n0 <= minSegs {
		t.Fatalf("%d segments in %d shards before Compact: the test no longer starts from small segments", n0, minSegs)
	}
	if err := ix.Compact(ctx, nil); err != nil {
		t.Fatal(err)
	}
	n1, err := ix.Segments()
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

// With CompactOptions.Closed every shard of every partition but the
// newest ends in one segment, above the cap on merged segments, and the
// answers do not change.
func TestCompactClosed(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(t.TempDir(), &Options{Shards: 2, MaxSegmentDocs: 20, ReleasePages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	docs := newSynth(11).docs(600)
	b := ix.Batch()
	for i, d := range docs {
		// Four years, every batch writing each of them.
		d.Date = d.Date.AddDate(i%4-3, 0, 0)
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
	queries := []string{docs[5].Subject, "s:" + newSynth(11).word(), "d:2018-01-01..2019-01-01", "rt:..2030-01-01", "b:" + newSynth(3).word()}
	answers := func() map[string]string {
		m := map[string]string{}
		for _, q := range queries {
			for _, sort := range []string{"date", "relevance"} {
				r, err := ix.Search(ctx, q, &SearchOptions{Limit: 1000, Sort: sort})
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				m[q+" "+sort] = fmt.Sprint(r.Total, ids(r))
			}
		}
		return m
	}
	// perPartition is the most segments a shard of the partitions
	// older than the newest holds, and the newest's.
	perPartition := func() (closed, newest uint64) {
		for n, p := range ix.parts {
			for _, s := range p.shards {
				sc, err := scorchOf(s)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					newest = max(newest, segmentCount(sc))
				} else {
					closed = max(closed, segmentCount(sc))
				}
			}
		}
		return closed, newest
	}
	if len(ix.parts) != 4 {
		t.Fatalf("%d partitions, want 4", len(ix.parts))
	}
	if err := ix.Compact(ctx, nil); err != nil {
		t.Fatal(err)
	}
	before := answers()
	closed, newest := perPartition()
	if closed < 2 {
		t.Fatalf("a closed partition's shard holds at most %d segments under the cap: the test no longer starts from capped segments", closed)
	}
	segs, shards, err := ix.ClosedSegments()
	if err != nil || segs <= shards || shards != 3*uint64(len(ix.parts[0].shards)) {
		t.Errorf("before Compact(Closed): ClosedSegments = %d segments, %d shards, %v; want more segments than shards, and the shards of 3 partitions", segs, shards, err)
	}
	if err := ix.Compact(ctx, &CompactOptions{Closed: true}); err != nil {
		t.Fatal(err)
	}
	if segs2, shards2, err := ix.ClosedSegments(); err != nil || segs2 != shards || shards2 != shards {
		t.Errorf("after Compact(Closed): ClosedSegments = %d segments, %d shards, %v; want %d of each", segs2, shards2, err, shards)
	}
	closed2, newest2 := perPartition()
	t.Logf("segments per shard: closed %d → %d, newest %d → %d", closed, closed2, newest, newest2)
	if closed2 != 1 {
		t.Errorf("a closed partition's shard holds %d segments after Compact(Closed), want 1", closed2)
	}
	if newest2 != newest {
		t.Errorf("the newest partition's shards went from %d to %d segments: it is not closed", newest, newest2)
	}
	after := answers()
	for q, want := range before {
		if after[q] != want {
			t.Errorf("%s after Compact(Closed): %s, want %s", q, after[q], want)
		}
	}
}
