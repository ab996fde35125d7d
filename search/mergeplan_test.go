package search

import (
	"encoding/json"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/google/go-cmp/cmp"
)

// planSegment is a segment of the merge simulation below.
type planSegment struct {
	id   uint64
	docs int64
}

func (s *planSegment) Id() uint64          { return s.id }
func (s *planSegment) FullSize() int64     { return s.docs }
func (s *planSegment) LiveSize() int64     { return s.docs }
func (s *planSegment) HasVector() bool     { return false }
func (s *planSegment) FileSize() int64     { return s.docs * 7000 }
func (s *planSegment) LiveFileSize() int64 { return s.docs * 7000 }

// rewrites feeds scorch's merge planner a shard's segments as batches of
// batch documents add them (total in all), carrying out every merge it
// plans at once, and returns the documents the merges wrote per document
// indexed, and the segments left.
func rewrites(t *testing.T, o *mergeplan.MergePlanOptions, total, batch int64) (float64, int) {
	t.Helper()
	var segs []*planSegment
	var id uint64
	var written int64
	for done := int64(0); done < total; done += batch {
		id++
		segs = append(segs, &planSegment{id, batch})
		for {
			in := make([]mergeplan.Segment, len(segs))
			for i, s := range segs {
				in[i] = s
			}
			plan, err := mergeplan.Plan(in, o)
			if err != nil {
				t.Fatal(err)
			}
			if plan == nil || len(plan.Tasks) == 0 {
				break
			}
			for _, task := range plan.Tasks {
				merged := map[uint64]bool{}
				var docs int64
				for _, s := range task.Segments {
					merged[s.Id()] = true
					docs += s.LiveSize()
				}
				kept := segs[:0]
				for _, s := range segs {
					if !merged[s.id] {
						kept = append(kept, s)
					}
				}
				id++
				segs = append(kept, &planSegment{id, docs})
				written += docs
			}
		}
	}
	return float64(written) / float64(total), len(segs)
}

// The merges of an import's small batches write each document a few
// times at most: with scorch's default floor (2,000 documents) a shard
// fed batches of 50 documents rewrote its growing segment after nearly
// every batch, 20 times each document.
func TestMergePlanRewrites(t *testing.T) {
	o := mergePlanOptions((&Options{MaxSegmentDocs: 4096}).withDefaults())
	for _, c := range []struct {
		total, batch int64
		max          float64
	}{
		{17_000, 10, 4},   // a sync's trickle
		{17_000, 50, 2.5}, // an import on a busy machine
		{17_000, 500, 1},  // an import on a quiet one
		{2_500, 50, 1.5},  // a year's partition
	} {
		amp, segs := rewrites(t, &o, c.total, c.batch)
		if amp > c.max {
			t.Errorf("%d documents in batches of %d: merges wrote %.2f times the documents, want at most %.1f", c.total, c.batch, amp, c.max)
		}
		if limit := int(c.total/2048) + 2*o.MaxSegmentsPerTier; segs > limit {
			t.Errorf("%d documents in batches of %d: %d segments left, want at most %d", c.total, c.batch, segs, limit)
		}
	}
}

// scorch decodes the merge options of the runtime config over its
// defaults: they must arrive as mergePlanOptions says.
func TestRuntimeConfigMergePlan(t *testing.T) {
	o := (&Options{MaxSegmentDocs: 4096}).withDefaults()
	b, err := json.Marshal(runtimeConfig(o)["scorchMergePlanOptions"])
	if err != nil {
		t.Fatal(err)
	}
	got := mergeplan.DefaultMergePlanOptions
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := mergePlanOptions(o)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b func([]mergeplan.Segment, *mergeplan.MergePlanOptions) float64) bool { return true }), cmp.Comparer(func(a, b func(int64, int64, *mergeplan.MergePlanOptions) int) bool { return true })); diff != "" {
		t.Errorf("runtime config decodes to other merge options (-want +got):\n%s", diff)
	}
	if want.FloorSegmentSize != mergeFloorDocs || want.MaxSegmentSize != 4096 {
		t.Errorf("mergePlanOptions = floor %d, max %d; want %d, 4096", want.FloorSegmentSize, want.MaxSegmentSize, mergeFloorDocs)
	}
}

// planned is how many of segs scorch's planner merges with o, and the
// largest of them.
func planned(t *testing.T, o mergeplan.MergePlanOptions, segs []*planSegment) (n int, biggest int64) {
	t.Helper()
	in := make([]mergeplan.Segment, len(segs))
	for i, s := range segs {
		in[i] = s
	}
	p, err := mergeplan.Plan(in, &o)
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		return 0, 0
	}
	for _, task := range p.Tasks {
		for _, s := range task.Segments {
			n++
			biggest = max(biggest, s.LiveSize())
		}
	}
	return n, biggest
}

// A shard of a year partition (two import segments) with the two small
// segments a link run adds: scorch's floor merges it, rewriting the
// import's segments; with the index's floor the small segments wait for
// their tier to fill. A tier full of small segments is still merged, the
// small ones only.
func TestMergeFloorLink(t *testing.T) {
	shard := []*planSegment{{1, 2367}, {2, 719}, {3, 150}, {4, 140}}
	if n, _ := planned(t, mergeplan.DefaultMergePlanOptions, shard); n == 0 {
		t.Errorf("scorch's floor: no merge planned for the shard; the test no longer shows what the floor changes")
	}
	o := mergePlanOptions((&Options{}).withDefaults())
	if n, _ := planned(t, o, shard); n != 0 {
		t.Errorf("floor %d: %d segments merged, want none", o.FloorSegmentSize, n)
	}
	many := append([]*planSegment(nil), shard[:2]...)
	for i := range 12 {
		many = append(many, &planSegment{uint64(10 + i), 120})
	}
	if n, biggest := planned(t, o, many); n == 0 || biggest > 120 {
		t.Errorf("floor %d, twelve small segments: %d merged, the biggest of %d documents; want small ones only", o.FloorSegmentSize, n, biggest)
	}
}
