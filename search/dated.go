package search

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
)

// countBudget is how many hits searchDated counts beyond the partitions
// that filled the page before it estimates the rest of the total
// (Result.TotalApprox). Counting without sorting costs about a tenth of
// a sorted hit (doc/scaling.md); 50,000 hits are a few milliseconds.
// A query with a phrase also stops after counting partitions of that
// many documents: counting a phrase reads the positions of its words in
// every document holding all of them, a cost that follows the documents
// counted, not the hits (a phrase of common words with few hits).
var countBudget uint64 = 50000

// datedPage is what searchDated found.
type datedPage struct {
	hits   []*bsearch.DocumentMatch
	total  uint64 // of the whole query (when counted)
	approx bool   // total is an estimate
}

// candidates are the partitions, newest first, that may hold hits of p
// sorted by date after the key after (nil: from the newest): those
// overlapping the query's d: range and not newer than after. A nil p
// is every partition.
func (ix *Index) candidates(p *prepared, after []string) []*partition {
	if p == nil {
		return ix.parts
	}
	top := int64(math.MaxInt64)
	if after != nil && !p.relevance {
		if f, err := strconv.ParseFloat(after[0], 64); err == nil {
			top = int64(f) >> 20
		}
	}
	var out []*partition
	for _, q := range ix.parts {
		if q.lo <= top && q.overlaps(p.dlo, p.dhi) {
			out = append(out, q)
		}
	}
	return out
}

// searchParts runs req on the shards of parts at once.
func searchParts(ctx context.Context, parts []*partition, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	a := parts[0].alias
	if len(parts) > 1 {
		var shards []bleve.Index
		for _, p := range parts {
			shards = append(shards, p.shards...)
		}
		a = bleve.NewIndexAlias(shards...)
	}
	res, err := a.SearchInContext(withPacers(ctx), req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	for name, err := range res.Status.Errors {
		return nil, fmt.Errorf("search: shard %s: %w", name, err)
	}
	return res, nil
}

// minGroupDocs is the fewest documents searchDated searches in one
// round (unless fewer are left): a round has a fixed cost per shard, and
// a small newest partition (the first weeks of a year) would otherwise
// be a round of its own. (A variable for tests, which use few documents.)
var minGroupDocs uint64 = 4096

// searchDated finds the hits [from, from+size) of p in date order (after
// the key after, then from must be 0) by searching the partitions newest
// first and stopping once the page is full: older partitions can only
// hold older hits. Partitions are searched in groups sized in documents:
// at least minGroupDocs, then as many as the hits per document so far
// say still hold the page (half as many again), at most twice the
// documents searched so far; so a sparse query does not search them one
// by one, and a broad one stops after the newest.
//
// With count, total is the query's whole count: the hits of the
// partitions searched plus a count (no sorting, no scores) of the older
// ones; beyond countBudget counted hits the rest is estimated from the
// hits per document of the partitions counted so far (approx).
func (ix *Index) searchDated(ctx context.Context, p *prepared, size, from int, after []string, count bool) (*datedPage, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, ErrClosed
	}
	parts := ix.candidates(p, after)
	out := &datedPage{}
	skip := uint64(from)
	i := 0
	var seen uint64 // documents in parts[:i]
	need := minGroupDocs
	for i < len(parts) && len(out.hits) < size {
		j, docs := i, uint64(0)
		for j < len(parts) && (j == i || docs < need) {
			n, err := parts[j].docCount()
			if err != nil {
				return nil, err
			}
			docs += n
			j++
		}
		req := p.request(size-len(out.hits), after)
		req.From = int(skip)
		res, err := searchParts(ctx, parts[i:j], req)
		if err != nil {
			return nil, err
		}
		out.total += res.Total
		out.hits = append(out.hits, res.Hits...)
		skip -= min(skip, res.Total)
		i, seen = j, seen+docs
		want := skip + uint64(size-len(out.hits))
		need = 2 * seen
		if out.total > 0 {
			need = min(need, want*seen/out.total*3/2)
		}
		need = max(need, minGroupDocs)
	}
	if count && i < len(parts) {
		n, approx, err := countRest(ctx, p, parts[:i], parts[i:], out.total)
		if err != nil {
			return nil, err
		}
		out.total += n
		out.approx = approx
	}
	return out, nil
}

// countRest counts the hits of p in rest, newest first, in doubling
// groups; once more than countBudget hits were counted (or, for a query
// with a phrase, partitions of more than countBudget documents), what is
// left is estimated from the hits per document of the partitions seen
// (done, with hits, and the counted part of rest).
func countRest(ctx context.Context, p *prepared, done, rest []*partition, hits uint64) (uint64, bool, error) {
	var n, counted uint64 // hits and documents counted in rest[:i]
	i, group := 0, 1
	if left, err := docCount(rest); err != nil {
		return 0, false, err
	} else if left <= countBudget {
		group = len(rest) // cannot pass the budget: one round
	}
	for i < len(rest) {
		if n > countBudget || p.words > 0 && counted > countBudget {
			seen, err := docCount(append(done[:len(done):len(done)], rest[:i]...))
			if err != nil {
				return 0, false, err
			}
			left, err := docCount(rest[i:])
			if err != nil || seen == 0 {
				return 0, false, err
			}
			est := float64(hits+n) / float64(seen) * float64(left)
			return n + uint64(math.Round(est)), true, nil
		}
		g := rest[i:min(i+group, len(rest))]
		req := bleve.NewSearchRequestOptions(p.q, 0, 0, false)
		req.Score = "none"
		res, err := searchParts(ctx, g, req)
		if err != nil {
			return 0, false, err
		}
		if p.words > 0 { // only a phrase's count is bounded by documents
			docs, err := docCount(g)
			if err != nil {
				return 0, false, err
			}
			counted += docs
		}
		n += res.Total
		i += len(g)
		group *= 2
	}
	return n, false, nil
}

// docCount is the number of documents in parts.
func docCount(parts []*partition) (uint64, error) {
	var n uint64
	for _, p := range parts {
		c, err := p.docCount()
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

// docCount is the number of documents in the partition.
func (p *partition) docCount() (uint64, error) {
	n, err := p.alias.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count partition %s: %w", p.key, err)
	}
	return n, nil
}

// partOfHit is the partition of a hit (from its order sort key), or nil.
// ix.mu is held.
func (ix *Index) partOfHit(p *prepared, h *bsearch.DocumentMatch) *partition {
	k := 0
	if p.relevance {
		k = 1
	}
	if len(h.DecodedSort) <= k {
		return nil
	}
	f, err := strconv.ParseFloat(h.DecodedSort[k], 64)
	if err != nil {
		return nil
	}
	sec := int64(f) >> 20
	for _, q := range ix.parts {
		if q.lo <= sec && sec < q.hi {
			return q
		}
	}
	return nil
}
