package indexer

import (
	"context"

	"patchtrail/internal/store"
)

// Hook lets a later stage (patch analysis, the search index) take part in
// an import: it prepares per-message work in the parse workers and writes
// inside the writer's store transaction.
type Hook interface {
	// Begin is called when the writer opens a store transaction.
	Begin(tx *store.Tx) (HookBatch, error)
}

// Preparer is a Hook that also does work in the parse workers: Prepare
// fills its own field of p (the search hook sets Parsed.Doc); the writer
// hands p back to Stored.
type Preparer interface {
	Prepare(p *Parsed) error
}

// HookBatch is a hook's part of one store transaction.
type HookBatch interface {
	// Stored is called for every message stored (or found duplicate).
	Stored(a *store.Added, p *Parsed) error
	// Deleted is called when a message left the archive.
	Deleted(id int64) error
	// Commit is called just before the store transaction commits.
	Commit() error
	// Committed is called once the store transaction is durable.
	Committed(ctx context.Context) error
}

// Finisher is a Hook with work to do once an import ends without error
// (the radar scores what its batches left queued).
type Finisher interface {
	Finish(ctx context.Context) error
}

// FinishHooks runs Finish of the hooks that are Finishers.
func FinishHooks(ctx context.Context, hooks []Hook) error {
	for _, h := range hooks {
		if f, ok := h.(Finisher); ok {
			if err := f.Finish(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flusher is a Hook whose batches may still be at work after Committed
// returned (the search hook writes a batch to the index while the writer
// fills the next); Flush waits for them and finishes what they leave.
// Import calls it once its last transaction is committed, with or
// without an error.
type Flusher interface {
	Flush(ctx context.Context) error
}

// FlushHooks runs Flush of the hooks that are Flushers, all of them
// whatever fails, and returns the first error.
func FlushHooks(ctx context.Context, hooks []Hook) error {
	var first error
	for _, h := range hooks {
		if f, ok := h.(Flusher); ok {
			if err := f.Flush(ctx); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// ByteBounded is a Hook with work of its own after a commit (the search
// hook rebuilds documents from the store when threads merge); Import
// tells it the batch bound (Options.BatchBytes) so that work stays within
// the same memory.
type ByteBounded interface {
	SetBatchBytes(n int64)
}
