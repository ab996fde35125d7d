package search

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// facts are counts that let prepare leave out filters that keep every
// document: the commit exclusion of an index without commits, the list
// filter of a list that holds every message (the usual single-list
// server). Each such filter costs a term lookup in every segment of every
// shard for every query. The counts are taken at most once per write
// (Batch.Execute bumps the generation) and per list.
type facts struct {
	gen atomic.Uint64 // bumped by every write

	mu      sync.Mutex
	at      uint64 // the generation of the counts below
	valid   bool
	docs    uint64
	commits uint64
	lists   map[string]uint64
}

// written records a write: the counts are recomputed when next needed.
func (f *facts) written() { f.gen.Add(1) }

// count runs q for its total alone; ok is false on an error (then no
// filter is left out).
func (ix *Index) count(q query.Query) (uint64, bool) {
	req := bleve.NewSearchRequestOptions(q, 0, 0, false)
	req.Score = "none"
	res, err := ix.run(context.Background(), nil, req)
	if err != nil {
		return 0, false
	}
	return res.Total, true
}

// currentFacts brings the document and commit counts up to the index's
// generation; the caller holds f.mu.
func (ix *Index) currentFacts() bool {
	f := &ix.facts
	gen := f.gen.Load()
	if f.valid && f.at == gen {
		return true
	}
	docs, ok := ix.count(query.NewMatchAllQuery())
	if !ok {
		return false
	}
	commits, ok := ix.count(termOn(FieldKind, KindCommit))
	if !ok {
		return false
	}
	f.at, f.valid, f.docs, f.commits, f.lists = gen, true, docs, commits, nil
	return true
}

// hasNoCommits reports whether the index surely holds no commit
// documents.
func (ix *Index) hasNoCommits() bool {
	f := &ix.facts
	f.mu.Lock()
	defer f.mu.Unlock()
	return ix.currentFacts() && f.commits == 0
}

// listHoldsAll reports whether every message of the index is on list,
// so that filtering by it keeps everything.
func (ix *Index) listHoldsAll(list string) bool {
	f := &ix.facts
	f.mu.Lock()
	defer f.mu.Unlock()
	if !ix.currentFacts() {
		return false
	}
	n, seen := f.lists[list]
	if !seen {
		var ok bool
		if n, ok = ix.count(termOn(FieldList, list)); !ok {
			return false
		}
		if f.lists == nil {
			f.lists = map[string]uint64{}
		}
		f.lists[list] = n
	}
	return n+f.commits == f.docs
}
