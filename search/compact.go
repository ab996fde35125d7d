package search

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// compactRounds bounds the force merges of one shard in Compact: each
// merges up to SegmentsPerMergeTask segments per task.
const compactRounds = 4

// Compact merges the segments of every shard down to as few as the cap on
// merged segments allows (Options.MaxSegmentDocs): the merge floor
// (mergeFloorDocs) keeps an import's many small batches in segments of
// their own, which saves rewriting them after every batch but leaves up
// to a dozen segments per shard, and every search visits each of them.
// An import calls it once at its end, so each document is rewritten once
// more, not after every batch. Shards that already hold one segment are
// left alone. The answers do not change; only which segment holds a
// document does. With Options.ReleasePages the pages the merges mapped
// are released after each shard.
func (ix *Index) Compact(ctx context.Context) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	po := mergeplan.SingleSegmentMergePlanOptions
	if ix.opts.MaxSegmentDocs > 0 {
		po.MaxSegmentSize = int64(ix.opts.MaxSegmentDocs)
		po.FloorSegmentSize = int64(ix.opts.MaxSegmentDocs)
	}
	for _, p := range ix.parts {
		for i, s := range p.shards {
			sc, err := scorchOf(s)
			if err != nil {
				return fmt.Errorf("search: compact partition %q shard %d: %w", p.key, i, err)
			}
			for range compactRounds {
				before := segmentCount(sc)
				if before <= 1 {
					break
				}
				if err := sc.ForceMerge(ctx, &po); err != nil {
					return fmt.Errorf("search: compact partition %q shard %d: %w", p.key, i, err)
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if segmentCount(sc) >= before {
					break
				}
			}
			if ix.opts.ReleasePages {
				// What the merges read and wrote is mapped: hand it back
				// shard by shard, as Batch.Execute does after a batch.
				ix.releaseMappedPages()
			}
		}
	}
	return nil
}

// segmentCount is the number of file segments of a shard's current root.
func segmentCount(sc *scorch.Scorch) uint64 {
	v, _ := sc.StatsMap()["TotFileSegmentsAtRoot"].(uint64)
	return v
}

// scorchOf is the scorch index under a shard.
func scorchOf(s bleve.Index) (*scorch.Scorch, error) {
	adv, err := s.Advanced()
	if err != nil {
		return nil, err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, fmt.Errorf("index type %T is not scorch", adv)
	}
	return sc, nil
}

// segments returns the number of file segments of every shard.
func (ix *Index) segments() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	var n uint64
	for _, p := range ix.parts {
		for _, s := range p.shards {
			sc, err := scorchOf(s)
			if err != nil {
				return 0, err
			}
			n += segmentCount(sc)
		}
	}
	return n, nil
}
