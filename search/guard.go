package search

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"patchtrail/internal/admit"
)

// Cost control of searches.
//
// bleve checks the context of a search only between collected hits (every
// 1024), so a phrase query that reads the postings of many common words
// while it finds few matches never looks at it: a 200-word phrase ran for
// tens of seconds past its deadline. Phrase queries are therefore compiled
// to guardedPhrase, whose term readers check the context as they go.
//
// The cost of a search is its phrase terms: each word of a phrase, on
// each field the phrase is looked for in (nine for an unprefixed phrase),
// opens a term reader with positions on every shard and segment, and these
// are what a long phrase spends its memory and time on. So:
//
//   - at most MaxPhraseTerms per query (more is a query error): the
//     budget that bounds the memory of one search;
//   - over HeavyPhraseTerms, a search is heavy and runs in one of
//     Options.HeavySlots slots; Options.HeavyQueue more wait (until their
//     deadline), any further one is refused at once with ErrBusy, which
//     servers answer 503 with Retry-After.
//
// Light searches (terms, short phrases, ranges) never wait.

// MaxPhraseTerms caps the phrase terms (words × fields) of one query: an
// unprefixed phrase of 455 words, or one of 4096 words on one field.
const MaxPhraseTerms = 4096

// HeavyPhraseTerms is the number of phrase terms over which a search is
// heavy (an unprefixed phrase of more than 28 words).
const HeavyPhraseTerms = 256

// ErrBusy is returned (wrapped) when a heavy search finds every slot and
// the queue taken. Retry later.
var ErrBusy = admit.ErrBusy

// ErrTooCostly is returned (wrapped) for a query over MaxPhraseTerms; it
// is a query error (IsQueryError).
var ErrTooCostly = errors.New("search: query too costly")

// phraseWords counts the terms of the guarded phrases of q, one per
// word and field.
func phraseWords(q query.Query) int {
	switch q := q.(type) {
	case *guardedPhrase:
		return len(q.Terms)
	case *query.ConjunctionQuery:
		n := 0
		for _, c := range q.Conjuncts {
			n += phraseWords(c)
		}
		return n
	case *query.DisjunctionQuery:
		n := 0
		for _, c := range q.Disjuncts {
			n += phraseWords(c)
		}
		return n
	case *query.BooleanQuery:
		n := 0
		for _, c := range []query.Query{q.Must, q.Should, q.MustNot} {
			if c != nil {
				n += phraseWords(c)
			}
		}
		return n
	}
	return 0
}

// admit checks the cost of a prepared search and, for a heavy one, takes
// a slot; release must be called when the search is done.
func (ix *Index) admit(ctx context.Context, p *prepared) (release func(), err error) {
	if p.words > MaxPhraseTerms {
		return nil, fmt.Errorf("%w: its phrases need %d word lookups (words × fields searched), at most %d; use shorter phrases or a field prefix (b:, s:)", ErrTooCostly, p.words, MaxPhraseTerms)
	}
	if p.words <= HeavyPhraseTerms || ix.heavy == nil {
		return func() {}, nil
	}
	start := time.Now()
	if err := ix.heavy.Acquire(ctx); err != nil {
		return nil, err
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		ix.opts.Logger.Debug("heavy search waited for a slot", "wait", d, "phrase_terms", p.words)
	}
	return ix.heavy.Release, nil
}

// guardedPhrase is a phrase query whose term readers check the context.
// It matches exactly as query.PhraseQuery.
type guardedPhrase struct {
	*query.PhraseQuery
}

func newGuardedPhrase(terms []string, field string) *guardedPhrase {
	return &guardedPhrase{query.NewPhraseQuery(terms, field)}
}

func (q *guardedPhrase) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	if ctx == nil {
		return q.PhraseQuery.Searcher(ctx, i, m, options)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := ctxReader{IndexReader: i, ctx: ctx, pace: pacerOf(ctx, i)}
	if q.plain(options) {
		return newPhraseSearcher(ctx, r, q.Terms, q.FieldVal)
	}
	return q.PhraseQuery.Searcher(ctx, r, m, options)
}

// plain reports whether q can run on phraseSearcher: a search that
// neither scores, explains nor asks for locations, of a phrase with a
// field, a word that is not a gap and no fuzziness.
func (q *guardedPhrase) plain(o bsearch.SearcherOptions) bool {
	if o.Score != "none" || o.Explain || o.IncludeTermVectors || q.FieldVal == "" || q.Fuzziness != 0 {
		return false
	}
	return slices.ContainsFunc(q.Terms, func(t string) bool { return t != "" })
}

// ctxReader hands out term readers that check ctx.
type ctxReader struct {
	index.IndexReader
	ctx  context.Context
	pace *pacer
}

func (r ctxReader) TermFieldReader(ctx context.Context, term []byte, field string, includeFreq, includeNorm, includeTermVectors bool) (index.TermFieldReader, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	tfr, err := r.IndexReader.TermFieldReader(ctx, term, field, includeFreq, includeNorm, includeTermVectors)
	if err != nil {
		return nil, err
	}
	return &ctxTermReader{TermFieldReader: tfr, ctx: r.ctx, pace: r.pace}, nil
}

// checkEvery is how many postings a term reader steps over between looks
// at its context (ctx.Err takes a lock) and yields the processor.
const checkEvery = 256

// Pacing of long phrase searches. A phrase search that has run for
// batchAfter is batch work (a short one is done long before): from then
// on it pauses batchPause after every batchRun of running, so that it
// takes at most half of a core and the short requests that arrive
// meanwhile find a free one. A heavy search runs on every shard at once
// (one goroutine each); paced, the two shards of this machine's index
// take one core between them, not both. Short searches are not slowed.
const (
	batchAfter = 30 * time.Millisecond
	batchRun   = time.Millisecond
	batchPause = time.Millisecond
)

// pacer paces the term readers of one search on one shard, which run on
// one goroutine: every phrase of the search (an unprefixed phrase is one
// per field) on that shard shares it.
type pacer struct {
	start int64        // Unix ns the first searcher was made
	last  atomic.Int64 // Unix ns of the last pause
}

// pacerSet holds the pacers of one search, one per shard (index
// reader); Index.run puts a fresh one in the search's context, so a
// search's pacers end with it.
type pacerSet struct {
	sync.Mutex
	m map[index.IndexReader]*pacer
}

type pacerSetKey struct{}

func withPacers(ctx context.Context) context.Context {
	return context.WithValue(ctx, pacerSetKey{}, &pacerSet{})
}

func pacerOf(ctx context.Context, r index.IndexReader) *pacer {
	now := time.Now().UnixNano()
	p := &pacer{start: now}
	p.last.Store(now)
	set, _ := ctx.Value(pacerSetKey{}).(*pacerSet)
	// Outside Index.run, or with an uncomparable reader (no standard
	// one is), each phrase gets a pacer of its own.
	if set == nil || !reflect.TypeOf(r).Comparable() {
		return p
	}
	set.Lock()
	defer set.Unlock()
	if old := set.m[r]; old != nil {
		return old
	}
	if set.m == nil {
		set.m = map[index.IndexReader]*pacer{}
	}
	set.m[r] = p
	return p
}

// step is called every checkEvery postings: it yields the processor, and
// pauses a search that has run long (see batchAfter).
func (p *pacer) step() {
	now := time.Now().UnixNano()
	if now-p.start < int64(batchAfter) || now-p.last.Load() < int64(batchRun) {
		// Let waiting goroutines (other requests) run: a search must
		// not hold a core for a whole scheduler slice at a time.
		runtime.Gosched()
		return
	}
	time.Sleep(batchPause)
	p.last.Store(time.Now().UnixNano())
}

// ctxTermReader is a term reader that fails with the context's error
// once the context ends, looking every checkEvery steps.
type ctxTermReader struct {
	index.TermFieldReader
	ctx  context.Context
	pace *pacer
	n    int
}

func (r *ctxTermReader) check() error {
	r.n++
	if r.n%checkEvery == 0 {
		r.pace.step()
		return r.ctx.Err()
	}
	return nil
}

func (r *ctxTermReader) Next(pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.TermFieldReader.Next(pre)
}

func (r *ctxTermReader) Advance(id index.IndexInternalID, pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.TermFieldReader.Advance(id, pre)
}

// Optimize lets scorch combine the reader with others as it would the
// unwrapped one (index.Optimizable).
func (r *ctxTermReader) Optimize(kind string, octx index.OptimizableContext) (index.OptimizableContext, error) {
	if o, ok := r.TermFieldReader.(index.Optimizable); ok {
		return o.Optimize(kind, octx)
	}
	return nil, nil
}
