package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
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
		return err
	}
	o := ix.opts
	o.ReadOnly = true
	shards := make([]bleve.Index, 0, len(ix.shards))
	for i := range ix.shards {
		s, err := bleve.OpenUsing(shardDir(ix.dir, i), runtimeConfig(o))
		if err != nil {
			for _, s := range shards {
				s.Close()
			}
			ix.shards, ix.closed = nil, true
			return fmt.Errorf("search: reopen shard %d of %s read-only: %w", i, ix.dir, err)
		}
		shards = append(shards, s)
	}
	ix.shards, ix.opts = shards, o
	ix.alias = bleve.NewIndexAlias(shards...)
	ix.facts.written()
	return nil
}
