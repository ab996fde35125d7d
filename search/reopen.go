package search

import (
	"fmt"
	"syscall"
)

// ReopenReadOnly closes the shards of an index opened for writing and
// opens them again read-only, under the same Index: searches running
// meanwhile finish first, later ones use the read-only shards. A server
// that indexed what an interrupted run left (cmd serve) uses it to give
// up its write lock on the index once done, so imports and other readers
// can open it again. It is a no-op on a read-only index.
func (ix *Index) ReopenReadOnly() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	if ix.opts.ReadOnly {
		return nil
	}
	if err := ix.closeShards(); err != nil {
		ix.closed = true
		ix.unlock()
		return err
	}
	o := ix.opts
	o.ReadOnly = true
	if ix.lock != nil { // exclusive to shared: readers may open it now
		if err := flockWait(ix.lock, syscall.LOCK_SH, o.LockTimeout); err != nil {
			ix.parts, ix.closed = nil, true
			ix.unlock()
			return fmt.Errorf("search: reopen %s read-only: %w", ix.dir, err)
		}
	}
	parts := make([]*partition, 0, len(ix.parts))
	for _, old := range ix.parts {
		p, err := openPartition(ix.dir, ix.span, old.key, o, false)
		if err != nil {
			for _, p := range parts {
				p.close()
			}
			ix.parts, ix.closed = nil, true
			ix.unlock()
			return err
		}
		parts = append(parts, p)
	}
	ix.opts = o
	ix.setParts(parts)
	ix.bindPages(o)
	ix.facts.written()
	return nil
}
