package search

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Exact totals of word queries from the postings' bitmaps.
//
// Most searches compile to words alone: terms under AND, OR and NOT (a
// word and its stem, a word in every field of a prefix, an address
// keyword, the kind filter). In each segment the documents of such a
// query are an expression of its terms' postings lists, which zap keeps
// as roaring bitmaps; so the query's count in a partition is that
// expression's cardinality, computed without a searcher walking the
// hits one by one. searchDated counts the partitions older than its page
// so (exactCount) before it falls back to counting hits (countRest):
// at 433k messages a word's total was counted up to 10,000 hits and
// estimated beyond them; it is now exact, and cheaper (doc/scaling.md).
// Phrases, ranges and wildcards are no words-only query and are counted
// as before; a phrase's estimate counts its candidates (the documents
// holding all its words) so.

// wordsOnly reports whether exactCount can count q: terms of a named
// field, combined by conjunctions, disjunctions (of which one part
// matching is enough) and boolean queries of a must and a must-not part.
func wordsOnly(q query.Query) bool {
	switch q := q.(type) {
	case *query.TermQuery:
		return q.FieldVal != "" // bleve reads "" as the mapping's default field
	case *query.MatchNoneQuery, *query.MatchAllQuery:
		return true
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			if !wordsOnly(c) {
				return false
			}
		}
		return true
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return false
		}
		for _, c := range q.Disjuncts {
			if !wordsOnly(c) {
				return false
			}
		}
		return true
	case *query.BooleanQuery:
		if q.Filter != nil || q.Must != nil && q.Should != nil {
			return false
		}
		for _, c := range []query.Query{q.Must, q.Should, q.MustNot} {
			if c != nil && !wordsOnly(c) {
				return false
			}
		}
		return true
	}
	return false
}

// candidates is q with each phrase replaced by the AND of its words:
// the documents that may hold q's hits, a words-only query whose count
// (exactCount) bounds q's from above and follows it more closely than
// the rarest word does; nil when q has another kind of part (a range, a
// wildcard). A phrase under NOT is left out with its NOT (the bound
// stays an upper one). estimateRest scales its counts.
func candidates(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.TermQuery, *query.MatchNoneQuery, *query.MatchAllQuery:
		return q
	case *guardedPhrase:
		var words []query.Query
		for _, t := range q.Terms {
			if t != "" {
				words = append(words, termOn(q.FieldVal, t))
			}
		}
		return query.NewConjunctionQuery(words)
	case *query.ConjunctionQuery:
		parts, ok := candidateParts(q.Conjuncts)
		if !ok {
			return nil
		}
		return query.NewConjunctionQuery(parts)
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return nil
		}
		parts, ok := candidateParts(q.Disjuncts)
		if !ok {
			return nil
		}
		return query.NewDisjunctionQuery(parts)
	case *query.BooleanQuery:
		if q.Filter != nil || q.Must != nil && q.Should != nil {
			return nil
		}
		b := &query.BooleanQuery{}
		if q.Must != nil {
			if b.Must = candidates(q.Must); b.Must == nil {
				return nil
			}
		}
		if q.Should != nil {
			if b.Should = candidates(q.Should); b.Should == nil {
				return nil
			}
		}
		if q.MustNot != nil && wordsOnly(q.MustNot) {
			b.MustNot = q.MustNot
		}
		if b.Must == nil && b.Should == nil && b.MustNot == nil {
			return query.NewMatchAllQuery()
		}
		return b
	}
	return nil
}

func candidateParts(qs []query.Query) ([]query.Query, bool) {
	out := make([]query.Query, len(qs))
	for i, c := range qs {
		if out[i] = candidates(c); out[i] == nil {
			return nil, false
		}
	}
	return out, true
}

// noneSearcher reports whether bleve makes a MatchNoneSearcher of q, which
// a boolean query treats as an absent part (not as "no document").
func noneSearcher(q query.Query) bool {
	switch q := q.(type) {
	case *query.MatchNoneQuery:
		return true
	case *query.ConjunctionQuery:
		return len(q.Conjuncts) == 0
	case *query.DisjunctionQuery:
		return len(q.Disjuncts) == 0
	}
	return false
}

// exactCount is the number of hits of q in parts, counted from the
// postings bitmaps; ok is false, and nothing counted, when q is not
// wordsOnly or a shard is no scorch index. between, when not nil, is
// called after each partition (Index.boundPagesHeld).
func exactCount(parts []*partition, q query.Query, between func()) (n uint64, ok bool, err error) {
	if !wordsOnly(q) {
		return 0, false, nil
	}
	for i, p := range parts {
		if i > 0 && between != nil {
			between()
		}
		for _, sh := range p.shards {
			c, ok, err := shardCount(sh, q)
			if err != nil {
				return 0, false, fmt.Errorf("search: count partition %s: %w", p.key, err)
			}
			if !ok {
				return 0, false, nil
			}
			n += c
		}
	}
	return n, true, nil
}

// shardCount counts q in the segments of one shard's current snapshot.
func shardCount(sh bleve.Index, q query.Query) (uint64, bool, error) {
	ai, err := sh.Advanced()
	if err != nil {
		return 0, false, err
	}
	r, err := ai.Reader()
	if err != nil {
		return 0, false, err
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return 0, false, nil
	}
	var n uint64
	for _, ss := range snap.Segments() {
		bm, err := segDocs{seg: ss.Segment(), deleted: ss.Deleted()}.docs(q)
		if err != nil {
			return 0, false, err
		}
		n += bm.GetCardinality()
	}
	return n, true, nil
}

// segDocs evaluates word queries in one segment. The bitmaps it returns
// may be the segment's own postings: never modified.
type segDocs struct {
	seg     segment.Segment
	deleted *roaring.Bitmap
}

// all is every live document of the segment.
func (e segDocs) all() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, e.seg.Count())
	if e.deleted != nil {
		bm.AndNot(e.deleted)
	}
	return bm
}

// docs is the set of live documents of q (wordsOnly) in the segment.
func (e segDocs) docs(q query.Query) (*roaring.Bitmap, error) {
	switch q := q.(type) {
	case *query.TermQuery:
		return e.term(q.FieldVal, q.Term)
	case *query.MatchNoneQuery:
		return roaring.New(), nil
	case *query.MatchAllQuery:
		return e.all(), nil
	case *query.ConjunctionQuery:
		if len(q.Conjuncts) == 0 {
			return roaring.New(), nil
		}
		bms, err := e.each(q.Conjuncts)
		if err != nil {
			return nil, err
		}
		if len(bms) == 1 {
			return bms[0], nil
		}
		return roaring.FastAnd(bms...), nil
	case *query.DisjunctionQuery:
		bms, err := e.each(q.Disjuncts)
		if err != nil {
			return nil, err
		}
		switch len(bms) {
		case 0:
			return roaring.New(), nil
		case 1:
			return bms[0], nil
		}
		return roaring.FastOr(bms...), nil
	case *query.BooleanQuery:
		// As bleve's BooleanQuery.Searcher: a part whose searcher is
		// MatchNone is left out; only a must-not part matches all but it.
		pos, not := q.Must, q.MustNot
		if pos == nil || noneSearcher(pos) {
			pos = q.Should
		}
		if pos != nil && noneSearcher(pos) {
			pos = nil
		}
		if not != nil && noneSearcher(not) {
			not = nil
		}
		var bm *roaring.Bitmap
		switch {
		case pos != nil:
			b, err := e.docs(pos)
			if err != nil {
				return nil, err
			}
			bm = b
		case not != nil:
			bm = e.all()
		default:
			return roaring.New(), nil
		}
		if not == nil {
			return bm, nil
		}
		nb, err := e.docs(not)
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(bm, nb), nil
	}
	return nil, fmt.Errorf("search: no words-only query: %T", q)
}

func (e segDocs) each(qs []query.Query) ([]*roaring.Bitmap, error) {
	bms := make([]*roaring.Bitmap, 0, len(qs))
	for _, c := range qs {
		bm, err := e.docs(c)
		if err != nil {
			return nil, err
		}
		bms = append(bms, bm)
	}
	return bms, nil
}

// term is the live documents holding term in field.
func (e segDocs) term(field, term string) (*roaring.Bitmap, error) {
	d, err := e.seg.Dictionary(field)
	if err != nil {
		return nil, err
	}
	pl, err := d.PostingsList([]byte(term), e.deleted, nil)
	if err != nil {
		return nil, err
	}
	it := pl.Iterator(false, false, false, nil)
	oi, ok := it.(segment.OptimizablePostingsIterator)
	if !ok {
		// Not zap: walk the postings.
		bm := roaring.New()
		for p, err := it.Next(); p != nil || err != nil; p, err = it.Next() {
			if err != nil {
				return nil, err
			}
			bm.Add(uint32(p.Number()))
		}
		return bm, nil
	}
	if n, ok := oi.DocNum1Hit(); ok {
		return roaring.BitmapOf(uint32(n)), nil
	}
	if bm := oi.ActualBitmap(); bm != nil {
		return bm, nil
	}
	return roaring.New(), nil
}
