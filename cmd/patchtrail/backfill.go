package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"patchtrail/indexer"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// openServeIndex opens the search index serve searches. When the store
// holds messages the index lacks (a reindex or import was killed) and no
// other process writes the data directory, serve opens the index for
// writing and indexes them in the background while it serves (answers
// say the index is incomplete meanwhile), then reopens the index
// read-only and gives up the write lock, so imports can run again. wait
// waits for that background work (it ends with ctx).
func openServeIndex(ctx context.Context, e *env, st *store.Store, cacheEntries int) (ix *search.Index, wait func(), err error) {
	none := func() {}
	n, err := st.QueueLen(ctx)
	if err != nil || n == 0 {
		ix, err := openServedIndex(ctx, e, cacheEntries)
		return ix, none, err
	}
	wst, err := store.Open(ctx, e.data, nil)
	if err != nil {
		if !errors.Is(err, store.ErrLocked) {
			return nil, nil, err
		}
		// The writer (an import) indexes the queue itself.
		e.log.Warn("the search index is incomplete; the process writing the data directory indexes the rest", "not_indexed", n)
		ix, err := openServedIndex(ctx, e, cacheEntries)
		return ix, none, err
	}
	ix, err = openIndex(e, false)
	if err != nil {
		wst.Close()
		if errors.Is(err, search.ErrLocked) {
			ix, err := openServedIndex(ctx, e, cacheEntries)
			return ix, none, err
		}
		return nil, nil, err
	}
	e.log.Warn("the search index is incomplete: indexing the rest in the background", "not_indexed", n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer wst.Close()
		start := time.Now()
		k, err := indexer.Drain(ctx, wst, ix, nil)
		if err != nil {
			e.log.Warn("background indexing stopped; the next serve, import or reindex goes on", "indexed", k, "err", err)
			return
		}
		e.log.Info("search index complete", "indexed", k, "took", time.Since(start).Round(time.Millisecond))
		if err := ix.ReopenReadOnly(); err != nil {
			e.log.Error("reopening the search index read-only", "err", err)
		}
	}()
	return ix, func() { <-done }, nil
}

// incompleteHint explains a non-zero count of messages not indexed.
func incompleteHint(n int64) string {
	if n == 0 {
		return ""
	}
	return " (the search index is incomplete: `patchtrail serve`, `import` or `reindex` indexes the rest)"
}

// warnIncomplete says on stderr that searches may miss messages the
// index does not hold yet.
func warnIncomplete(ctx context.Context, e *env, st *store.Store) {
	if n, err := st.QueueLen(ctx); err == nil && n > 0 {
		fmt.Fprintf(e.stderr, "warning: %d messages are not indexed yet%s; results may be missing\n", n, incompleteHint(n))
	}
}
