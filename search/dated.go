package search

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// countBudget is how many hits searchDated counts beyond the partitions
// that filled the page before it estimates the rest of the total
// (Result.TotalApprox, estimateRest). Counting without sorting costs
// about a tenth of a sorted hit (doc/scaling.md), which at 433k messages
// was still a third of a median query's CPU with a budget of 50,000;
// the estimate from the words' counts is as good after 10,000 hits as
// after 50,000 (6.9 % off on average over the scale queries, exact for
// a word), so 10,000 it is.
// A query with a phrase also stops after counting partitions of that
// many documents: counting a phrase reads the positions of its words in
// every document holding all of them, a cost that follows the documents
// counted, not the hits (a phrase of common words with few hits).
var countBudget uint64 = 10000

// exactTotals makes searchDated count a words-only query's hits in the
// partitions after its page from the postings bitmaps (exactCount),
// exactly, rather than counting them up to countBudget and estimating
// the rest. (A variable for the tests of the estimate.)
var exactTotals = true

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
// partitions searched plus those of the older ones, from the postings
// bitmaps for a words-only query (exactCount), else counted (no sorting,
// no scores); beyond countBudget counted hits the rest is estimated from
// the hits per document of the partitions counted so far (approx).
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
	if count && i < len(parts) && exactTotals {
		n, ok, err := exactCount(parts[i:], p.q, ix.boundPagesHeld)
		if err != nil {
			return nil, err
		}
		if ok {
			out.total += n
			return out, nil
		}
	}
	if count && i < len(parts) {
		n, approx, err := countRest(ctx, p, parts[:i], parts[i:], out.total, ix.coldPages(), ix.boundPagesHeld)
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
// with a phrase, partitions of more than countBudget documents, those
// the page's search read included), what is left is estimated
// (estimateRest) from the partitions seen: done, whose hits the page's
// search counted, and the counted part of rest.
func countRest(ctx context.Context, p *prepared, done, rest []*partition, hits uint64, cold bool, between func()) (uint64, bool, error) {
	var n, counted uint64 // hits in rest[:i]; documents counted in done and rest[:i]
	i, group := 0, 1
	if p.words > 0 {
		d, err := docCount(done)
		if err != nil {
			return 0, false, err
		}
		counted = d
	}
	if left, err := docCount(rest); err != nil {
		return 0, false, err
	} else if left <= countBudget {
		group = len(rest) // cannot pass the budget: one round
	}
	for i < len(rest) {
		if n > countBudget || p.words > 0 && counted > countBudget {
			seen := append(done[:len(done):len(done)], rest[:i]...)
			est, err := estimateRest(ctx, p, seen, rest[i:], hits+n, cold, between)
			if err != nil {
				return 0, false, err
			}
			return n + est, true, nil
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
		if between != nil {
			between()
		}
	}
	return n, false, nil
}

// estimateRest estimates the hits of p in the partitions left, from the
// hits counted in the partitions seen. What a partition holds of a
// query's hits follows what its index says of the query's words more
// than its size: a list's words are in the years the list was
// archived, a subsystem's file names in the partitions of its lists.
// So the estimate scales the index's count of the query's documents in
// each partition by the hits per count of the partitions seen: the
// documents holding every word of each phrase (candidates, counted from
// the postings bitmaps), or where the query has a range or a wildcard, a
// bound made of its words' document counts (indexCount); only where the
// counts say nothing (none in the partitions seen) does it scale by
// documents.
//
// cold (an index larger than its process keeps mapped: mapped.go) makes
// a query with a phrase scale by documents: the candidates of a phrase
// of common words look each word up in every segment of the partitions
// left, whose dictionary pages are then not mapped, a page fault for
// each step of each lookup (at 433k messages 800-900 faults, 40-60 ms
// of a phrase's 60-80, where the rest of the 40 scale queries take
// 2-15 ms). By documents, a phrase's total is less exact where its use
// changed over the years (doc/scaling.md).
func estimateRest(ctx context.Context, p *prepared, seen, left []*partition, hits uint64, cold bool, between func()) (uint64, error) {
	count := func(parts []*partition) (uint64, error) { return indexCount(ctx, p, parts, between) }
	if cold && p.words > 0 {
		count = func(parts []*partition) (uint64, error) { return docCount(parts) }
	} else if c := candidates(p.q); c != nil && wordsOnly(c) {
		count = func(parts []*partition) (uint64, error) {
			n, _, err := exactCount(parts, c, between)
			return n, err
		}
	}
	seenC, err := count(seen)
	if err != nil {
		return 0, err
	}
	leftC, err := count(left)
	if err != nil {
		return 0, err
	}
	if seenC == 0 {
		if seenC, err = docCount(seen); err != nil {
			return 0, err
		}
		if leftC, err = docCount(left); err != nil {
			return 0, err
		}
	}
	if seenC == 0 {
		return 0, nil
	}
	return uint64(math.Round(float64(hits) / float64(seenC) * float64(leftC))), nil
}

// indexCount is the sum over the shards of parts of what the index says
// of p's query before it runs (queryCount): it looks up the query's
// words in every segment, and reads no posting. between, when not nil,
// is called after each partition.
func indexCount(ctx context.Context, p *prepared, parts []*partition, between func()) (uint64, error) {
	var n uint64
	for i, q := range parts {
		if i > 0 && between != nil {
			between()
		}
		for _, sh := range q.shards {
			ai, err := sh.Advanced()
			var r index.IndexReader
			if err == nil {
				r, err = ai.Reader()
			}
			if err != nil {
				return 0, fmt.Errorf("search: count partition %s: %w", q.key, err)
			}
			c, err := queryCount(ctx, p.q, r, sh.Mapping())
			n += c
			if cerr := r.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return 0, fmt.Errorf("search: count partition %s: %w", q.key, err)
			}
		}
	}
	return n, nil
}

// queryCount is a count of q's documents made from its words' document
// counts alone: exact for a word; for the rest a bound (all of an OR's
// parts, the rarest of an AND's or of a phrase's words, an AND NOT's
// positive part), which estimateRest scales by the hits per count seen.
// Other queries (ranges, wildcards) answer with their searcher's count.
func queryCount(ctx context.Context, q query.Query, r index.IndexReader, m mapping.IndexMapping) (uint64, error) {
	word := func(term, field string) (uint64, error) {
		tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
		if err != nil {
			return 0, err
		}
		n := tfr.Count()
		return n, tfr.Close()
	}
	rarest := func(qs []query.Query) (uint64, error) {
		var low uint64
		for i, c := range qs {
			n, err := queryCount(ctx, c, r, m)
			if err != nil {
				return 0, err
			}
			if i == 0 || n < low {
				low = n
			}
		}
		return low, nil
	}
	switch q := q.(type) {
	case *query.TermQuery:
		return word(q.Term, q.FieldVal)
	case *guardedPhrase:
		var words []query.Query
		for _, t := range q.Terms {
			if t != "" {
				words = append(words, termOn(q.FieldVal, t))
			}
		}
		return rarest(words)
	case *query.ConjunctionQuery:
		return rarest(q.Conjuncts)
	case *query.DisjunctionQuery:
		var sum uint64
		for _, c := range q.Disjuncts {
			n, err := queryCount(ctx, c, r, m)
			if err != nil {
				return 0, err
			}
			sum += n
		}
		return sum, nil
	case *query.BooleanQuery:
		if q.Must != nil {
			return queryCount(ctx, q.Must, r, m)
		}
		if q.Should != nil {
			return queryCount(ctx, q.Should, r, m)
		}
	}
	s, err := q.Searcher(ctx, r, m, bsearch.SearcherOptions{})
	if err != nil {
		return 0, err
	}
	n := s.Count()
	return n, s.Close()
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
