package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	index "github.com/blevesearch/bleve_index_api"
)

// pollCtx is a context that its observers end: it is cancelled by the
// after-th look at it (Err or Done), as a deadline passing while a search
// runs. A search that never looks at its context while it works finishes.
type pollCtx struct {
	context.Context
	cancel context.CancelFunc
	polls  atomic.Int64
	after  int64
}

func newPollCtx(after int64) *pollCtx {
	ctx, cancel := context.WithCancel(context.Background())
	return &pollCtx{Context: ctx, cancel: cancel, after: after}
}

func (c *pollCtx) look() {
	if c.polls.Add(1) == c.after {
		c.cancel()
	}
}

func (c *pollCtx) Err() error                  { c.look(); return c.Context.Err() }
func (c *pollCtx) Done() <-chan struct{}       { c.look(); return c.Context.Done() }
func (c *pollCtx) Value(k any) any             { return c.Context.Value(k) }
func (c *pollCtx) String() string              { return "pollCtx" }
func (c *pollCtx) Deadline() (time.Time, bool) { return c.Context.Deadline() }

// scrambled are messages that hold the words of a phrase, never in its
// order: every one is a candidate of the phrase search, none a match,
// so bleve's collector never sees a hit and never checks the context.
func scrambled(n int) []*Doc {
	docs := make([]*Doc, n)
	for i := range docs {
		d := &Doc{MessageID: fmt.Sprintf("s%d@example.com", i), ThreadID: fmt.Sprintf("T%d", i), Lists: []string{"io-uring"},
			Subject: "scrambled", Date: at("2024-01-10 09:00").Add(time.Duration(i) * time.Minute)}
		d.AddBodyText(strings.Repeat("gamma beta alpha delta ", 5))
		docs[i] = d
	}
	return docs
}

func TestPhraseSearchStopsWhenCancelled(t *testing.T) {
	ix := openTestIndex(t, scrambled(1500))
	// The phrase matches nothing, but the search steps through the
	// postings of 1500 candidates: a context ended during the search must
	// stop it, although no hit is ever collected.
	ctx := newPollCtx(10)
	_, err := ix.Search(ctx, `b:"alpha beta gamma"`, &SearchOptions{Sort: SortRelevance})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Search with a context cancelled during the phrase search = %v (after %d looks at the context), want context.Canceled", err, ctx.polls.Load())
	}
	// The same search with a live context runs to the end.
	res, err := ix.Search(context.Background(), `b:"alpha beta gamma"`, nil)
	if err != nil || res.Total != 0 {
		t.Fatalf("Search = %v, %v; want no hits", res, err)
	}
	if res, err := ix.Search(context.Background(), `b:"beta alpha delta"`, &SearchOptions{Limit: 1}); err != nil || res.Total != 1500 {
		t.Fatalf("Search for a present phrase = %v, %v; want 1500 hits", res, err)
	}
}

func TestHeavySearchAdmission(t *testing.T) {
	ix, err := Open(t.TempDir(), &Options{Shards: 2, HeavySlots: 1, HeavyQueue: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	b := ix.Batch()
	for _, d := range scrambled(10) {
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	long := `"` + strings.Repeat("gamma beta alpha delta ", 10) + `"` // 40 words on every default field: heavy
	short := `"gamma beta alpha"`

	// Take the one slot, and the one place in the queue.
	if err := ix.heavy.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	queued := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := ix.Search(context.Background(), long, &SearchOptions{Sort: SortRelevance})
		queued <- err
	}()
	for ix.heavy.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	// Pool and queue full: a heavy search is refused at once, a light one runs.
	if _, err := ix.Search(context.Background(), long+" OR zzz", nil); !errors.Is(err, ErrBusy) {
		t.Errorf("heavy search with every slot and the queue taken = %v, want ErrBusy", err)
	}
	if res, err := ix.Search(context.Background(), short, nil); err != nil || res.Total != 10 {
		t.Errorf("light search while the heavy pool is full = %v, %v; want 10 hits", res, err)
	}
	ix.heavy.Release()
	wg.Wait()
	if err := <-queued; err != nil {
		t.Errorf("queued heavy search = %v, want it to run once the slot is free", err)
	}

	// A waiting heavy search whose deadline passes gives up.
	if err := ix.heavy.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := ix.Search(ctx, long+" OR yyy", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("heavy search waiting past its deadline = %v, want context.DeadlineExceeded", err)
	}
	ix.heavy.Release()
	if _, err := ix.Search(context.Background(), long+" OR xxx", nil); err != nil {
		t.Errorf("heavy search with a free slot = %v", err)
	}

	// Over the budget: a query error, whatever the load.
	huge := `"` + strings.Repeat("gamma beta alpha delta ", 120) + `"`
	if _, err := ix.Search(context.Background(), huge, nil); !errors.Is(err, ErrTooCostly) || !IsQueryError(err) {
		t.Errorf("search over MaxPhraseTerms = %v, want ErrTooCostly, a query error", err)
	}
}

// TestPacer: the phrases of one search on one shard share a pacer, which
// lives in the search's context (Index.run) and ends with it; a search
// that has run for batchAfter pauses once per batchRun, a younger one
// never does.
func TestPacer(t *testing.T) {
	ctx := withPacers(context.Background())
	type reader struct{ indexReaderStub }
	r1, r2 := &reader{}, &reader{}
	p := pacerOf(ctx, r1)
	derived, cancel := context.WithCancel(ctx) // as bleve hands a shard its context
	defer cancel()
	if pacerOf(ctx, r1) != p || pacerOf(derived, r1) != p || pacerOf(ctx, r2) == p || pacerOf(context.Background(), r1) == p {
		t.Errorf("pacers are not one per search and shard")
	}
	if pacerOf(withPacers(context.Background()), r1) == p {
		t.Errorf("two searches share a pacer")
	}
	if pacerOf(context.Background(), r1) == pacerOf(context.Background(), r1) {
		t.Errorf("phrases outside a search share a pacer")
	}

	young := &pacer{start: time.Now().UnixNano()}
	young.last.Store(young.start - int64(time.Second))
	last := young.last.Load()
	young.step()
	if young.last.Load() != last {
		t.Errorf("a search younger than batchAfter paused")
	}
	old := &pacer{start: time.Now().Add(-time.Second).UnixNano()}
	old.last.Store(time.Now().UnixNano())
	last = old.last.Load()
	old.step()
	if old.last.Load() != last {
		t.Errorf("a long search paused before it ran batchRun since its last pause")
	}
	old.last.Store(time.Now().Add(-batchRun).UnixNano())
	last = old.last.Load()
	old.step()
	if old.last.Load()-last < int64(batchRun+batchPause) {
		t.Errorf("a long search that ran batchRun did not pause")
	}
}

// indexReaderStub stands for a shard's index reader in TestPacer.
type indexReaderStub struct{ index.IndexReader }
