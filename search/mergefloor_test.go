package search

import (
	"encoding/json"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// planSegment is a segment of n live documents for mergeplan.Plan.
type planSegment struct{ id, n int64 }

func (s planSegment) Id() uint64          { return uint64(s.id) }
func (s planSegment) FullSize() int64     { return s.n }
func (s planSegment) LiveSize() int64     { return s.n }
func (s planSegment) HasVector() bool     { return false }
func (s planSegment) FileSize() int64     { return 0 }
func (s planSegment) LiveFileSize() int64 { return 0 }

// planOptions are the merge plan options scorch reads from an index's
// runtime config (as it does: scorch's defaults, then the config's
// scorchMergePlanOptions through JSON).
func planOptions(t *testing.T, o Options) *mergeplan.MergePlanOptions {
	t.Helper()
	po := mergeplan.DefaultMergePlanOptions
	if v, ok := runtimeConfig(o)["scorchMergePlanOptions"]; ok {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &po); err != nil {
			t.Fatal(err)
		}
		if err := mergeplan.ValidateMergePlannerOptions(&po); err != nil {
			t.Fatal(err)
		}
	}
	return &po
}

// A shard of a year partition (two import segments) with the two small
// segments a link run adds: scorch's floor merges it, rewriting the
// import's segments; with a floor of 100 the small segments wait for
// their tier to fill. A tier full of small segments is still merged, the
// small ones only.
func TestMergeFloorDocs(t *testing.T) {
	shard := []mergeplan.Segment{planSegment{1, 2367}, planSegment{2, 719}, planSegment{3, 150}, planSegment{4, 140}}
	merged := func(o Options, segs []mergeplan.Segment) (n int, biggest int64) {
		p, err := mergeplan.Plan(segs, planOptions(t, o))
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
	if n, _ := merged(Options{}, shard); n == 0 {
		t.Errorf("scorch's floor: no merge planned for %v; the test no longer shows what the floor changes", shard)
	}
	if n, _ := merged(Options{MergeFloorDocs: 100}, shard); n != 0 {
		t.Errorf("floor 100: %d segments merged, want none", n)
	}
	many := append([]mergeplan.Segment(nil), shard[:2]...)
	for i := range 12 {
		many = append(many, planSegment{int64(10 + i), 120})
	}
	if n, biggest := merged(Options{MergeFloorDocs: 100}, many); n == 0 || biggest > 120 {
		t.Errorf("floor 100, twelve small segments: %d merged, the biggest of %d documents; want small ones only", n, biggest)
	}
}
