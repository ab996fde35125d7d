// Package indexer is the ingestion pipeline: one source reader → parse
// workers (MIME parsing, patch analysis, compression, on every core) → one
// writer that owns the store transaction. The writer applies results in
// archive order, so a checkpoint stored with a batch always covers exactly
// the messages before it; a crash or Ctrl-C loses at most the open batch,
// which the next run reads again.
//
// A Syncer keeps the configured sources up to date by running Import in
// rounds (`patchtrail sync`, `fetch`, `serve --sync`): public-inbox
// mirrors cloned and fetched over HTTP(S), IMAP mailboxes, local
// archives, then the linking of new commits of the code repositories; a
// failing source is retried with backoff while the others go on, and
// each outcome is recorded in the store.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"patchtrail/internal/progress"
	"patchtrail/internal/store"
	"patchtrail/mbox"
)

// Options tunes Import. A nil *Options means defaults.
type Options struct {
	// List names the list the messages belong to; "" takes the source's
	// own name (public-inbox directory) or the first List-Id.
	List string
	// Workers is the number of parse workers; 0 means one per CPU.
	Workers int
	// BatchSize is how many messages a store transaction (and the index
	// batch written after it) covers at most; default 2000.
	BatchSize int
	// BatchBytes bounds the raw message bytes of a transaction as well;
	// default DefaultBatchBytes. The search index holds the documents of
	// a whole batch in memory, analysed, at about 16 times the raw size,
	// so this is what sets the import's peak memory (doc/scaling.md).
	BatchBytes int64
	// BatchInterval bounds how long a batch stays open; default 2 s.
	BatchInterval time.Duration
	// Logger receives progress lines and problems; nil discards.
	Logger *slog.Logger
	// Progress, when a terminal, shows a progress bar.
	Progress io.Writer
	// Hooks are told about every stored message (search index).
	Hooks []Hook
	// DeferFinish leaves the Finisher hooks to the caller (a sync round
	// finishes them once, after all its sources: FinishHooks).
	DeferFinish bool
	// SkipPatches leaves out the patch analysis (for measuring its cost).
	SkipPatches bool
	// IMAP tunes imap:// and imaps:// sources (password file, …).
	IMAP *mbox.IMAPOptions
}

func (o *Options) withDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Workers <= 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 2000
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.BatchInterval <= 0 {
		c.BatchInterval = 2 * time.Second
	}
	// Patch analysis is part of every import.
	if !c.SkipPatches {
		c.Hooks = append([]Hook{PatchHook{}}, c.Hooks...)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &c
}

// DefaultBatchBytes is the default bound on the raw message bytes of one
// import batch; with it an import of any list stays within
// DefaultMemoryBudget (doc/scaling.md).
const DefaultBatchBytes = 12 << 20

// DefaultMemoryBudget is the memory an import is sized for by default: it
// fits a machine with 1 GB of memory beside the page cache.
const DefaultMemoryBudget = 384 << 20

// BatchBytesFor returns the batch bound (Options.BatchBytes) that keeps an
// import within budget bytes of memory: the index writes a batch one
// shard at a time, and a shard's analysed documents and in-memory segment
// take about 20 times the raw size of its mail, so a batch of budget/48
// keeps the live heap well under the Go heap's limit (GoMemoryLimit;
// doc/scaling.md).
func BatchBytesFor(budget int64) int64 {
	return max(budget/48, 1<<20)
}

// GoMemoryLimit returns the soft limit of the Go heap for a memory budget
// (the peak resident size the import should stay under): two thirds of
// it. The rest is for what the process holds outside the Go heap: its
// own code (25 MB), the store's page cache (SQLite's, outside the Go
// heap) and the pages of the index files a merge maps (SegmentDocsFor).
// The limit only keeps the heap near its budget when the live data
// stays well below it (batches written one shard at a time,
// BatchBytesFor); otherwise the collector runs all the time
// (doc/scaling.md).
func GoMemoryLimit(budget int64) int64 {
	return budget / 3 * 2
}

// GCPercent is the Go collector's percent (GOGC) under the soft memory
// limit of GoMemoryLimit. The limit bounds the heap; the percent only
// decides how often the collector runs while the live heap is well
// below it, and at the default 100 it ran at twice a small live heap
// (the parse workers' garbage between batches), 11–15 % of an import's
// CPU. At 300 the heap uses the budget it is given: the io-uring epoch
// took 13 % less CPU at the same peak (doc/bench.md, "The collector's
// percent").
const GCPercent = 300

// BatchWordsFor returns the bound on the words (search.Doc.Words) one
// shard builds into one segment (search.Options.MaxBatchWords) for a
// memory budget: one word per 1.5 KiB, 262,144 for the default budget.
// Building a segment holds about 600 bytes per word at its peak (the
// words' frequencies and positions, zap's postings and dictionaries
// being built, its output), so a segment at the bound stays near
// 150 MB of the Go heap whatever the mail is like; BatchBytesFor alone
// let a batch of patches full of tables and dumps reach 270 MB
// (doc/scaling.md).
func BatchWordsFor(budget int64) int {
	return int(max(budget/1536, 1<<14))
}

// SegmentDocsFor returns the cap on the documents of a segment built by
// the index's merges (search.Options.MaxSegmentDocs) for a memory
// budget: one document per 96 KiB, 4,096 for the default budget. A merge
// maps every page of the segments it reads (about 7 KB a message), and
// each shard merges on its own (doc/scaling.md).
func SegmentDocsFor(budget int64) int {
	return int(max(budget/(96<<10), 1024))
}

// Result counts what an import did.
type Result struct {
	Source     string        `json:"source"`
	List       string        `json:"list"`
	Read       int           `json:"read"`       // items read from the source
	Added      int           `json:"added"`      // new messages stored
	Duplicates int           `json:"duplicates"` // already stored (maybe on another list)
	Deleted    int           `json:"deleted"`    // deletions applied
	Rejected   int           `json:"rejected"`   // unreadable items, recorded as source problems
	Bytes      int64         `json:"bytes"`      // raw bytes read
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// Import reads source (a path, or an imap:// or imaps:// URL) into st,
// resuming from its checkpoints.
func Import(ctx context.Context, st *store.Store, source string, opts *Options) (*Result, error) {
	o := opts.withDefaults()
	for _, h := range o.Hooks {
		if bb, ok := h.(ByteBounded); ok {
			bb.SetBatchBytes(o.BatchBytes)
		}
	}
	path, err := sourcePath(source)
	if err != nil {
		return nil, err
	}
	cps, err := st.Checkpoints(ctx, path)
	if err != nil {
		return nil, err
	}
	r, err := mbox.Open(ctx, path, &mbox.Options{
		Checkpoint: func(key string) (string, bool) { v, ok := cps[key]; return v, ok },
		Logger:     o.Logger,
		IMAP:       o.IMAP,
	})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	list := o.List
	if list == "" {
		if list, err = st.SourceList(ctx, path); err != nil {
			return nil, err
		}
	}
	if list == "" {
		list = r.Name()
	}
	return run(ctx, st, r, path, list, o)
}

// sourcePath names a source in the store: the absolute path of a file or
// directory, the canonical URL of an IMAP mailbox.
func sourcePath(source string) (string, error) {
	if mbox.IsIMAPURL(source) {
		return mbox.CanonicalIMAPURL(source)
	}
	path, err := filepath.Abs(source)
	if err != nil {
		return "", fmt.Errorf("indexer: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("indexer: %w", err)
	}
	return path, nil
}

// item is one message travelling through the pipeline.
type item struct {
	seq    int64
	in     *mbox.Message
	parsed *Parsed
	err    error // parse failure: the item is rejected
}

func run(ctx context.Context, st *store.Store, r mbox.Reader, path, list string, o *Options) (*Result, error) {
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	res := &Result{Source: path, List: list}
	bar := progress.New(o.Progress, "import "+filepath.Base(path), 0)
	if sz, ok := r.(mbox.Sizer); ok && bar != nil {
		bar.SetTotal(sz.Size()) // only on a terminal: counting may take a moment
	}

	work := make(chan *item, o.Workers*8)
	done := make(chan *item, o.Workers*8)
	// inflight bounds the items read but not yet applied by the writer:
	// the writer holds those that arrive out of order until the ones
	// before them are done, and without a bound one slow message would
	// let the others pile up there.
	inflight := make(chan struct{}, o.Workers*16)
	// The reader goroutine is joined (readDone) before readErr is read
	// and before the caller closes r, which must not happen during Next.
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(work)
		for seq := int64(0); ; seq++ {
			if ctx.Err() != nil {
				return
			}
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return
			}
			m, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
			select {
			case work <- &item{seq: seq, in: m}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if it.in.Err == nil {
					it.parsed, it.err = Parse(it.in, st, o.Hooks)
				}
				select {
				case done <- it:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	w := &writer{st: st, path: path, list: list, o: o, res: res, bar: bar, cps: map[string]string{}, ctx: context.WithoutCancel(parent), logged: start, inflight: inflight}
	err := w.loop(ctx, done)
	if errors.Is(err, context.Canceled) {
		err = parent.Err()
	}
	if err != nil && !errors.Is(err, context.Canceled) && w.tx != nil {
		// A half-applied message must not be committed.
		w.tx.Rollback()
		w.tx = nil
	}
	cancel()
	for range done { // let the workers finish
	}
	<-readDone
	bar.Finish()
	// A cancelled import is cancelled, whatever the reader said after
	// (a reader cut off by the cancel may fail its last read).
	if err == nil {
		err = parent.Err()
	}
	if err == nil && readErr != nil {
		err = readErr
	}
	res.Elapsed = time.Since(start)
	if ferr := w.finish(err); ferr != nil && err == nil {
		err = ferr
	}
	if ferr := FlushHooks(w.ctx, o.Hooks); ferr != nil && err == nil {
		err = ferr
	}
	if err == nil && !o.DeferFinish {
		err = FinishHooks(parent, o.Hooks)
	}
	if err != nil {
		return res, fmt.Errorf("indexer: %s: %w", path, err)
	}
	o.Logger.Info("import done", "source", path, "list", res.List, "read", res.Read, "added", res.Added,
		"duplicates", res.Duplicates, "rejected", res.Rejected, "deleted", res.Deleted,
		"mb", fmt.Sprintf("%.1f", float64(res.Bytes)/1e6), "elapsed", res.Elapsed.Round(time.Millisecond))
	return res, nil
}

// writer applies parsed items in archive order inside batched store
// transactions, with the checkpoints they reached.
type writer struct {
	st     *store.Store
	path   string
	list   string
	listID int64
	source int64
	o      *Options
	res    *Result
	bar    *progress.Bar

	// recordedListID is the List-Id recorded on the list, lastListID
	// the one of the last message applied that has one: commit records
	// the latter, so a list shows the List-Id of its newest message in
	// archive order whatever rounds the archive was imported in (replicas
	// that follow one upstream agree; a list that moved shows where it
	// is now).
	recordedListID, lastListID string

	ctx     context.Context
	tx      *store.Tx
	opened  time.Time
	logged  time.Time // last progress log line
	inBatch int
	bytes   int64             // raw bytes of the open batch
	cps     map[string]string // checkpoints reached in the open batch
	hookTx  []HookBatch

	inflight <-chan struct{} // one token per item read and not yet applied
}

func (w *writer) loop(ctx context.Context, done <-chan *item) error {
	pending := map[int64]*item{}
	var next int64
	tick := time.NewTicker(w.o.BatchInterval / 2)
	defer tick.Stop()
	for {
		select {
		case it, ok := <-done:
			if !ok {
				if len(pending) > 0 {
					// A worker cancelled with an item in hand drops it
					// (it does not wait to hand it over): a gap, not a
					// broken pipeline.
					if err := ctx.Err(); err != nil {
						return err
					}
					return errors.New("pipeline ended with messages out of order")
				}
				return nil
			}
			pending[it.seq] = it
			for {
				it := pending[next]
				if it == nil {
					break
				}
				delete(pending, next)
				next++
				err := w.apply(ctx, it)
				<-w.inflight
				if err != nil {
					return err
				}
			}
		case <-tick.C:
			if w.tx != nil && time.Since(w.opened) >= w.o.BatchInterval {
				if err := w.commit(); err != nil {
					return err
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *writer) begin(ctx context.Context) error {
	tx, err := w.st.Begin(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	w.tx, w.opened, w.inBatch, w.bytes = tx, time.Now(), 0, 0
	w.hookTx = w.hookTx[:0]
	for _, h := range w.o.Hooks {
		hb, err := h.Begin(tx)
		if err != nil {
			tx.Rollback()
			w.tx = nil
			return err
		}
		w.hookTx = append(w.hookTx, hb)
	}
	return nil
}

// ensureSource creates the list and source rows once the list name is known.
func (w *writer) ensureSource(p *Parsed) error {
	if w.source != 0 {
		return nil
	}
	listID := ""
	if p != nil && len(p.ListIDs) > 0 {
		listID = p.ListIDs[0]
	}
	if w.list == "" {
		w.list = listNameFromID(listID)
	}
	if w.list == "" {
		w.list = strings.TrimSuffix(filepath.Base(w.path), filepath.Ext(w.path))
		for _, ext := range []string{".mbox", ".mbx"} {
			w.list = strings.TrimSuffix(w.list, ext)
		}
	}
	w.res.List = w.list
	w.recordedListID, w.lastListID = listID, listID
	var err error
	if w.listID, err = w.tx.EnsureList(w.list, listID); err != nil {
		return err
	}
	w.source, err = w.tx.EnsureSource(w.path, w.listID)
	return err
}

// listNameFromID turns a List-Id such as io-uring.vger.kernel.org into a
// list name (io-uring), as lore names its lists.
func listNameFromID(id string) string {
	if i := strings.IndexByte(id, '.'); i > 0 {
		return id[:i]
	}
	return id
}

func (w *writer) apply(ctx context.Context, it *item) error {
	if w.tx == nil {
		if err := w.begin(ctx); err != nil {
			return err
		}
	}
	if err := w.ensureSource(it.parsed); err != nil {
		return err
	}
	in := it.in
	w.res.Read++
	w.res.Bytes += int64(len(in.Data))
	switch {
	case in.Err != nil:
		w.res.Rejected++
		w.o.Logger.Warn("unreadable item skipped", "where", in.Where, "err", in.Err)
		if err := w.tx.AddSourceProblem(w.source, in.Where, in.Err.Error()); err != nil {
			return err
		}
	case it.err != nil:
		w.res.Rejected++
		w.o.Logger.Warn("message rejected", "where", in.Where, "err", it.err)
		if err := w.tx.AddSourceProblem(w.source, in.Where, it.err.Error()); err != nil {
			return err
		}
	case in.Deleted:
		id, err := w.tx.RemoveMessage(it.parsed.Msg.IDs, it.parsed.Msg.ContentHash, w.listID)
		if err != nil {
			return err
		}
		if id != 0 {
			w.res.Deleted++
			for _, h := range w.hookTx {
				if err := h.Deleted(id); err != nil {
					return err
				}
			}
		}
	default:
		if len(it.parsed.ListIDs) > 0 {
			w.lastListID = it.parsed.ListIDs[0]
		}
		it.parsed.List = w.list
		nm := it.parsed.storeMessage(w.listID, w.source)
		added, err := w.tx.AddMessage(nm)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Where, err)
		}
		if added.Duplicate {
			w.res.Duplicates++
		} else {
			w.res.Added++
		}
		for _, h := range w.hookTx {
			if err := h.Stored(added, it.parsed); err != nil {
				return fmt.Errorf("%s: %w", in.Where, err)
			}
		}
	}
	w.cps[in.Key] = in.Checkpoint
	w.inBatch++
	w.bytes += int64(len(in.Data))
	w.bar.Add(1, int64(len(in.Data)))
	if w.inBatch >= w.o.BatchSize || w.bytes >= w.o.BatchBytes {
		return w.commit()
	}
	return nil
}

func (w *writer) commit() error {
	if w.tx == nil {
		return nil
	}
	for k, v := range w.cps {
		if err := w.tx.SetCheckpoint(w.source, k, v); err != nil {
			return err
		}
		delete(w.cps, k)
	}
	if w.lastListID != w.recordedListID {
		if _, err := w.tx.EnsureList(w.list, w.lastListID); err != nil {
			return err
		}
		w.recordedListID = w.lastListID
	}
	for _, h := range w.hookTx {
		if err := h.Commit(); err != nil {
			return err
		}
	}
	err := w.tx.Commit()
	w.tx = nil
	if err != nil {
		return err
	}
	for _, h := range w.hookTx {
		if err := h.Committed(w.ctx); err != nil {
			return err
		}
	}
	if w.o.Logger.Enabled(w.ctx, slog.LevelDebug) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.o.Logger.Debug("batch committed", "read", w.res.Read, "added", w.res.Added,
			"go_heap_mb", ms.HeapAlloc>>20, "go_sys_mb", ms.Sys>>20)
	}
	if w.bar == nil && time.Since(w.logged) >= 30*time.Second {
		// Not on a terminal: a plain log line now and then.
		w.logged = time.Now()
		w.o.Logger.Info("import progress", "source", w.path, "read", w.res.Read, "added", w.res.Added,
			"mb", fmt.Sprintf("%.1f", float64(w.res.Bytes)/1e6))
	}
	return nil
}

// finish commits what was applied (also after an error or Ctrl-C: every
// applied message is complete, and its checkpoint covers only it) and
// records the sync on the source.
func (w *writer) finish(runErr error) error {
	if w.tx == nil && w.source != 0 {
		if err := w.begin(context.Background()); err != nil {
			return err
		}
	}
	if w.tx == nil {
		return nil
	}
	msg := ""
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		msg = runErr.Error()
	}
	if w.source != 0 {
		if err := w.tx.SourceSynced(w.source, time.Now(), w.res.Added, msg); err != nil {
			w.tx.Rollback()
			return err
		}
	}
	return w.commit()
}
