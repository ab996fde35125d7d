package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Sort orders.
const (
	SortDate      = "date"      // newest first (the default, like lore)
	SortRelevance = "relevance" // best score first, then newest
)

// Paging limits.
const (
	DefaultLimit = 50    // hits per page when Limit is 0 (public-inbox's default)
	MaxLimit     = 1000  // larger limits are cut to this
	MaxOffset    = 10000 // deeper pages are an error; use Iterate to export everything

	// maxCollapseScan bounds the messages read to fill one page of
	// collapsed threads.
	maxCollapseScan = 100000
	scanPage        = 1000
)

var errBadSort = errors.New("search: unknown sort")

// ErrOffsetTooLarge is returned for SearchOptions.Offset > MaxOffset.
var ErrOffsetTooLarge = fmt.Errorf("search: offset larger than %d", MaxOffset)

// SearchOptions control one search. nil means the defaults.
type SearchOptions struct {
	Limit  int    // hits per page; 0 = DefaultLimit, capped at MaxLimit
	Offset int    // hits (threads when Threads) to skip; at most MaxOffset
	Sort   string // SortDate (default) or SortRelevance
	// Threads collapses the hits to one per ThreadID: the first hit of
	// each thread in sort order (the newest, or the best). Cost: messages
	// are read in pages until Offset+Limit distinct threads are found
	// (or 100,000 messages were read: deeper thread pages come back
	// short), so a page of threads costs about as much as the number of
	// matching messages it skips over.
	Threads  bool
	Now      time.Time // anchors relative dates; zero = time.Now()
	List     string    // only this list ("" = all lists)
	ThreadID string    // only this thread ("" = all threads)
	// MessagesOnly keeps commits out even when the query names them
	// (is:commit): the lore-compatible endpoints answer with messages.
	MessagesOnly bool
}

// Result is one page of hits.
type Result struct {
	Total uint64 // matching messages (before thread collapsing)
	// TotalApprox says Total is an estimate: a date-sorted search stops
	// counting the older partitions after many hits (partition.go).
	TotalApprox bool
	Hits        []Hit
}

// Hit is one matching message, from the stored fields.
type Hit struct {
	MessageID string
	Subject   string
	From      string // "Name <addr>" of the first From address
	Date      time.Time
	List      string
	ThreadID  string
	Score     float64 // 0 when sorting by date

	// Kind is KindMessage or KindCommit. A commit hit has SHA and Repos
	// (and MessageID = CommitDocID(SHA)); Repos of a message hit are the
	// repositories of the commits linked to it.
	Kind  string
	SHA   string
	Repos []string
}

var hitFields = []string{FieldSubject, FieldFromShow, FieldDate, FieldList, FieldThreadID, FieldKind, FieldSHA, FieldRepo}

// prepared is a search ready to run: the bleve query and how it sorts.
type prepared struct {
	q         query.Query
	relevance bool  // by score, then newest; else newest first
	threads   bool  // the thread id is a last sort key (sortOrder)
	words     int   // phrase terms: the cost (guard.go)
	dlo, dhi  int64 // the dates a hit must have (dateBounds)
}

func (ix *Index) prepare(q string, o *SearchOptions) (*prepared, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	n, err := Parse(q, now)
	if err != nil {
		return nil, err
	}
	if err := ix.checkWildcards(n); err != nil {
		return nil, err
	}
	bq, err := Compile(n)
	if err != nil {
		return nil, err
	}
	var filters []query.Query
	if o.List != "" && !ix.listHoldsAll(o.List) {
		filters = append(filters, listFilter(n, o))
	}
	if o.ThreadID != "" {
		filters = append(filters, termOn(FieldThreadID, o.ThreadID))
	}
	if len(filters) > 0 {
		bq = query.NewConjunctionQuery(append([]query.Query{bq}, filters...))
	}
	if !ix.hasNoCommits() {
		bq = kindFilter(n, bq, o.MessagesOnly)
	}
	p := &prepared{q: bq, words: phraseWords(bq)}
	p.dlo, p.dhi = dateBounds(n)
	switch o.Sort {
	case "", SortDate:
	case SortRelevance:
		p.relevance = true
	default:
		return nil, fmt.Errorf("%w %q (want %q or %q)", errBadSort, o.Sort, SortDate, SortRelevance)
	}
	p.threads = o.Threads
	return p, nil
}

// sortOrder is a new sort order for one request of p. It must be new:
// bleve's SortField keeps the sort values of the hit being collected in
// slices inside it, and an IndexAlias gives each index it searches a
// shallow copy (SortField.Copy), which shares those slices' arrays once
// the original has been used on its own (a search of one index, or of a
// partition of one shard, uses the request's SortField directly). Two
// shards collecting at once then write each other's values, and a hit
// comes back with the order key of another document: date-sorted pages
// in a wrong order, not on every run.
func (p *prepared) sortOrder() bsearch.SortOrder {
	order := &bsearch.SortField{Field: FieldOrder, Type: bsearch.SortFieldAsNumber, Desc: true}
	so := bsearch.SortOrder{order}
	if p.relevance {
		so = bsearch.SortOrder{&bsearch.SortScore{Desc: true}, order}
	}
	if p.threads {
		// Collapsing threads: the thread id as a last sort key (order is
		// already total) comes back with every hit from doc values, so
		// the scan needs no stored-field loads. A plain page does not
		// pay for it: the collector reads a sort key's doc values for
		// every hit, not only the page's.
		so = append(so, &bsearch.SortField{Field: FieldThreadID, Type: bsearch.SortFieldAsString, Desc: true})
	}
	return so
}

// checkWildcards refuses a word* that expands to too many words.
func (ix *Index) checkWildcards(n Node) error {
	ws := wildcards(n, nil)
	if len(ws) == 0 {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	for _, w := range ws {
		for _, s := range ix.allShards() {
			d, err := s.FieldDictPrefix(w[0], []byte(w[1]))
			if err != nil {
				return fmt.Errorf("search: expand %s*: %w", w[1], err)
			}
			count := 0
			for {
				e, err := d.Next()
				if err != nil || e == nil {
					break
				}
				if count++; count > ix.opts.MaxWildcardTerms {
					break
				}
			}
			d.Close()
			if count > ix.opts.MaxWildcardTerms {
				return fmt.Errorf("search: %s* matches more than %d words: %w", w[1], ix.opts.MaxWildcardTerms, ErrQueryTooBroad)
			}
		}
	}
	return nil
}

// request is a bleve request for a page of p's hits without their stored
// fields: load reads those of the page alone. Asked for in the request,
// each shard would load them for all of its own best size+from hits
// before the alias keeps size of them all.
func (p *prepared) request(size int, after []string) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(p.q, size, 0, false)
	req.SortByCustom(p.sortOrder())
	if !p.relevance {
		req.Score = "none"
	}
	if after != nil {
		req.SetSearchAfter(after)
	}
	return req
}

// afterKey is the search_after key of a hit in the prepared sort order.
func (p *prepared) afterKey(h *bsearch.DocumentMatch) []string {
	key := slices.Clone(h.DecodedSort)
	if p.relevance {
		key[0] = strconv.FormatFloat(h.Score, 'g', -1, 64)
	}
	return key
}

// threadOf is the thread id of a hit, from its last sort key.
func threadOf(h *bsearch.DocumentMatch) string {
	if n := len(h.DecodedSort); n > 0 {
		return h.DecodedSort[n-1]
	}
	return ""
}

func toHit(h *bsearch.DocumentMatch, relevance bool) Hit {
	str := func(f string) string {
		s, _ := h.Fields[f].(string)
		return s
	}
	list := str(FieldList)
	if vs, ok := h.Fields[FieldList].([]interface{}); ok && len(vs) > 0 {
		list, _ = vs[0].(string) // a message on several lists
	}
	hit := Hit{MessageID: h.ID, Subject: str(FieldSubject), From: str(FieldFromShow), List: list, ThreadID: str(FieldThreadID)}
	if hit.ThreadID == "" {
		hit.ThreadID = threadOf(h)
	}
	if v, ok := h.Fields[FieldDate].(float64); ok {
		hit.Date = time.Unix(int64(v), 0).UTC()
	}
	if relevance && !math.IsNaN(h.Score) && !math.IsInf(h.Score, 0) {
		// bleve scores a match on a field without norms (a Message-ID
		// keyword) NaN, which JSON cannot carry: such a hit scores 0.
		hit.Score = h.Score
	}
	setKind(&hit, h.Fields)
	return hit
}

// allShards is every shard of every partition. ix.mu is held.
func (ix *Index) allShards() []bleve.Index {
	var out []bleve.Index
	for _, p := range ix.parts {
		out = append(out, p.shards...)
	}
	return out
}

// run runs req on the partitions that may hold hits of p (all for a
// relevance search but those outside its d: range).
func (ix *Index) run(ctx context.Context, p *prepared, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, ErrClosed
	}
	parts := ix.candidates(p, nil)
	if len(parts) == 0 {
		return &bleve.SearchResult{Status: &bleve.SearchStatus{}}, nil
	}
	return searchParts(ctx, parts, req)
}

// page runs one page of p: by date, partitions newest first
// (searchDated); by relevance, on all partitions at once.
func (ix *Index) page(ctx context.Context, p *prepared, size, from int, after []string, count bool) (*datedPage, error) {
	if !p.relevance {
		return ix.searchDated(ctx, p, size, from, after, count)
	}
	req := p.request(size, after)
	req.From = from
	res, err := ix.run(ctx, p, req)
	if err != nil {
		return nil, err
	}
	return &datedPage{hits: res.Hits, total: res.Total}, nil
}

// Search runs a query and returns one page of hits. Query errors are
// *ParseError or wrap ErrQueryTooBroad (see IsQueryError).
func (ix *Index) Search(ctx context.Context, q string, opts *SearchOptions) (*Result, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	o.Limit = min(o.Limit, MaxLimit)
	o.Offset = max(o.Offset, 0)
	if o.Offset > MaxOffset {
		return nil, ErrOffsetTooLarge
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	key := cacheKey(q, &o)
	if r, ok := ix.cache.get(key); ok {
		return r, nil
	}
	r, err := ix.search(ctx, q, &o)
	ix.boundPages()
	if err == nil {
		ix.cache.put(key, r)
	}
	return r, err
}

func (ix *Index) search(ctx context.Context, q string, opts *SearchOptions) (*Result, error) {
	o := *opts
	p, err := ix.prepare(q, &o)
	if err != nil {
		return nil, err
	}
	release, err := ix.admit(ctx, p)
	if err != nil {
		return nil, err
	}
	defer release()
	if !o.Threads {
		res, err := ix.page(ctx, p, o.Limit, o.Offset, nil, true)
		if err != nil {
			return nil, err
		}
		out := &Result{Total: res.total, TotalApprox: res.approx}
		out.Hits, err = ix.load(ctx, p, res.hits)
		return out, err
	}

	// Collapse threads: scan hits without stored fields, keep the first
	// of each thread, then load the fields of the page's hits only.
	out := &Result{}
	need := o.Offset + o.Limit
	page := min(MaxLimit, max(10*need, 200)) // re-running the query per page costs more than a bigger page
	seen := make(map[string]bool)
	var picked []*bsearch.DocumentMatch
	err = ix.scan(ctx, p, page, func(h *bsearch.DocumentMatch, total uint64, approx bool) bool {
		out.Total, out.TotalApprox = total, approx
		k := threadOf(h)
		if seen[k] {
			return true
		}
		seen[k] = true
		if len(seen) > o.Offset {
			picked = append(picked, h)
		}
		return len(seen) < need
	})
	if err != nil || len(picked) == 0 {
		return out, err
	}
	out.Hits, err = ix.load(ctx, p, picked)
	return out, err
}

// load fetches the stored fields of hits, keeping their order and
// scores. Each hit is read from the one shard that holds it (the
// partition its order key falls in, the shard its id hashes to): at the
// document number the search found it under (docReader), or by id where
// that snapshot changed since; no search, and nothing read for hits that
// are not on the page.
func (ix *Index) load(ctx context.Context, p *prepared, hits []*bsearch.DocumentMatch) ([]Hit, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, ErrClosed
	}
	readers := map[bleve.Index]*docReader{}
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	out := make([]Hit, 0, len(hits))
	for i, h := range hits {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("search: %w", err)
			}
		}
		q := ix.partOfHit(p, h)
		var f map[string]interface{}
		ok := false
		if q != nil {
			sh := q.shards[ix.shardFor(h.ID)]
			r := readers[sh]
			if r == nil {
				var err error
				if r, err = newDocReader(sh); err != nil {
					return nil, fmt.Errorf("search: load %s: %w", h.ID, err)
				}
				readers[sh] = r
			}
			var err error
			if f, ok, err = r.fields(h.IndexInternalID, h.ID); err != nil {
				return nil, fmt.Errorf("search: load %s: %w", h.ID, err)
			}
		}
		if !ok {
			var err error
			if f, err = ix.storedFields(q, h.ID); err != nil {
				return nil, err
			}
		}
		h.Fields = f
		out = append(out, toHit(h, p.relevance))
	}
	return out, nil
}

// storedFields reads the hitFields of document id from its shard in
// partition q (nil: whichever partition holds it), as bleve would for a
// search that asks for them (numbers as float64, repeated fields as
// []interface{}); nil if no partition holds it (deleted meanwhile).
// ix.mu is held.
func (ix *Index) storedFields(q *partition, id string) (map[string]interface{}, error) {
	parts := ix.parts
	if q != nil {
		parts = []*partition{q}
	}
	for _, q := range parts {
		doc, err := q.shards[ix.shardFor(id)].Document(id)
		if err != nil {
			return nil, fmt.Errorf("search: load %s: %w", id, err)
		}
		if doc == nil {
			continue
		}
		dm := &bsearch.DocumentMatch{}
		doc.VisitFields(func(f index.Field) {
			name := f.Name()
			if !slices.Contains(hitFields, name) {
				return
			}
			switch f := f.(type) {
			case index.TextField:
				dm.AddFieldValue(name, f.Text())
			case index.NumericField:
				if n, err := f.Number(); err == nil {
					dm.AddFieldValue(name, n)
				}
			}
		})
		return dm.Fields, nil
	}
	return nil, nil
}

// scan walks hits (without stored fields) in sort order with search_after
// paging until fn returns false, the hits run out or maxCollapseScan hits
// were read. fn gets the total of the query (counted with the first page).
func (ix *Index) scan(ctx context.Context, p *prepared, page int, fn func(*bsearch.DocumentMatch, uint64, bool) bool) error {
	var after []string
	var total uint64
	var approx bool
	for read := 0; read < maxCollapseScan; {
		res, err := ix.page(ctx, p, page, 0, after, after == nil)
		if err != nil {
			return err
		}
		if after == nil {
			total, approx = res.total, res.approx
		}
		for _, h := range res.hits {
			if !fn(h, total, approx) {
				return nil
			}
		}
		read += len(res.hits)
		if len(res.hits) < page {
			return nil
		}
		after = p.afterKey(res.hits[len(res.hits)-1])
	}
	return nil
}

// Iterate calls fn for every hit of q in order, ignoring Limit (Offset
// still skips), for exports such as lore's x=m mbox downloads. With
// Threads, only the first hit of each thread is passed. It stops at the
// first error from fn, which it returns. Memory is bounded by one page
// (plus the set of thread ids seen when Threads).
func (ix *Index) Iterate(ctx context.Context, q string, opts *SearchOptions, fn func(Hit) error) error {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	p, err := ix.prepare(q, &o)
	if err != nil {
		return err
	}
	release, err := ix.admit(ctx, p)
	if err != nil {
		return err
	}
	defer release()
	defer ix.boundPages() // and after each page: an export reads them all
	var after []string
	seen := make(map[string]bool)
	skip := max(o.Offset, 0)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("search: %w", err)
		}
		res, err := ix.page(ctx, p, scanPage, 0, after, false)
		if err != nil {
			return err
		}
		for _, dm := range res.hits {
			if o.Threads {
				k := threadOf(dm)
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			if skip > 0 {
				skip--
				continue
			}
			// The page comes without stored fields (request): read
			// those of each hit passed on, when it is, so that an fn
			// that stops early (a page of the JSON API) reads no more.
			h, err := ix.load(ctx, p, []*bsearch.DocumentMatch{dm})
			if err != nil {
				return err
			}
			if err := fn(h[0]); err != nil {
				return err
			}
		}
		if len(res.hits) < scanPage {
			return nil
		}
		ix.boundPages()
		after = p.afterKey(res.hits[len(res.hits)-1])
	}
}

// IsQueryError reports whether err is the client's fault: a *ParseError,
// an over-broad wildcard, a bad sort, an offset beyond MaxOffset or
// phrases over MaxPhraseTerms.
func IsQueryError(err error) bool {
	var pe *ParseError
	return errors.As(err, &pe) || errors.Is(err, ErrQueryTooBroad) || errors.Is(err, ErrOffsetTooLarge) || errors.Is(err, errBadSort) || errors.Is(err, ErrTooCostly)
}
