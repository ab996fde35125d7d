package indexer

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"

	"patchtrail/internal/progress"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// IndexDirName is the directory of the data directory that holds the
// search index.
const IndexDirName = "index"

// IndexDir is the search index directory of data directory dataDir.
func IndexDir(dataDir string) string { return filepath.Join(dataDir, IndexDirName) }

// WriterOptions tunes OpenWriter. A nil *WriterOptions means defaults.
type WriterOptions struct {
	// NoIndex leaves the search index closed: what is imported stays
	// queued for the next import or reindex.
	NoIndex bool
	// Logger receives a line when messages left queued by an earlier
	// run are indexed; nil discards.
	Logger *slog.Logger
	// Progress, when a terminal, shows a progress bar while queued
	// messages are indexed.
	Progress io.Writer
	// NoRadar leaves out the security-fix radar's hook (to measure its
	// cost): what is imported is scored by the next import or sync.
	NoRadar bool
	// MemoryBudget is the memory the import is sized for (the same as
	// the batches', BatchBytesFor): it caps the segments the index's
	// merges build (SegmentDocsFor). Default DefaultMemoryBudget.
	MemoryBudget int64
}

// Writer is a data directory opened for writing: the store and the
// stages that take part in every import (the search index's hook, unless
// NoIndex). One process at a time holds it.
type Writer struct {
	Store *store.Store
	// Index is the search index, nil with NoIndex.
	Index *search.Index
	// Hooks are the stages to pass to Import and NewSyncer.
	Hooks []Hook
}

// OpenWriter opens the store of dataDir for writing and, unless
// opts.NoIndex, its search index, after indexing whatever an interrupted
// run left queued. A schema mismatch of the index is a *search.SchemaError.
func OpenWriter(ctx context.Context, dataDir string, opts *WriterOptions) (*Writer, error) {
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(ctx, dataDir, nil)
	if err != nil {
		return nil, err
	}
	w := &Writer{Store: st}
	if !o.NoRadar {
		rh, err := OpenRadarHook(ctx, st, dataDir, &o)
		if err != nil {
			st.Close()
			return nil, err
		}
		w.Hooks = append(w.Hooks, rh)
	}
	if o.NoIndex {
		return w, nil
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	ix, err := search.Open(IndexDir(dataDir), SearchOptions(o.MemoryBudget, o.Logger))
	if err != nil {
		st.Close()
		return nil, err
	}
	w.Index = ix
	if n, err := DrainWithProgress(ctx, st, ix, BatchBytesFor(o.MemoryBudget), o.Progress); err != nil {
		w.Close()
		return nil, err
	} else if n > 0 {
		o.Logger.Info("indexed messages and commits left queued by an earlier run", "documents", n)
	}
	w.Hooks = append([]Hook{NewSearchHook(st, ix, o.Logger)}, w.Hooks...)
	return w, nil
}

// Close closes the index and the store.
func (w *Writer) Close() {
	if w.Index != nil {
		w.Index.Close()
	}
	w.Store.Close()
}

// SearchOptions are the options of a search index written within a
// memory budget (an import's, a reindex's): shard batches one at a time,
// each built in segments of at most BatchWordsFor words, merged segments
// capped (SegmentDocsFor), the pages of the index files handed back
// after every batch.
func SearchOptions(budget int64, logger *slog.Logger) *search.Options {
	return &search.Options{Logger: logger, BatchShards: 1, MaxSegmentDocs: SegmentDocsFor(budget),
		MaxBatchWords: BatchWordsFor(budget), ReleasePages: true}
}

// DrainWithProgress is DrainBatches (batches of at most batchBytes of
// raw mail; 0: DefaultBatchBytes), then DrainCommits, with a progress
// bar on out when out is a terminal. It returns the number of messages
// and commits indexed.
func DrainWithProgress(ctx context.Context, st *store.Store, ix *search.Index, batchBytes int64, out io.Writer) (int, error) {
	n, err := st.QueueLen(ctx)
	if err != nil {
		return 0, err
	}
	nc, err := st.CommitQueueLen(ctx)
	if err != nil || n+nc == 0 {
		return 0, err
	}
	bar := progress.New(out, "index", n+nc)
	if batchBytes <= 0 {
		batchBytes = DefaultBatchBytes
	}
	done, err := DrainBatches(ctx, st, ix, batchBytes, func(k int) { bar.Add(int64(k), 0) })
	if err == nil {
		var dc int
		dc, err = DrainCommits(ctx, st, ix, func(k int) { bar.Add(int64(k), 0) }, nil)
		done += dc
	}
	bar.Finish()
	return done, err
}
