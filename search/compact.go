package search

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// compactRounds bounds the force merges of one shard in Compact: each
// merges up to SegmentsPerMergeTask segments per task.
const compactRounds = 4

// CompactOptions are the options of Index.Compact.
type CompactOptions struct {
	// Closed merges every shard of every partition but the newest into
	// one segment, whatever the cap on merged segments
	// (Options.MaxSegmentDocs) says. Batches go mostly to the newest
	// partition; an older one is written again only by mail dated in its
	// span (another list's history), so its one segment stays whole
	// until then. Every search visits every segment of the partitions it
	// reads: at 433,541 messages in year partitions the capped merges
	// leave 160 segments, and a word's search reads each one's
	// dictionary (doc/scaling.md). With Options.ReleasePages the pages
	// such a merge maps are released while it runs, once they add
	// releaseEvery to the process's resident size, so the merge's memory
	// is not the size of the segments it reads.
	Closed bool
}

// releaseEvery is how much the mapped pages of an index's files may add
// to the resident size of a process during a whole-partition merge
// before they are released (CompactOptions.Closed).
const releaseEvery = 64 << 20

// Compact merges the segments of every shard down to as few as the cap on
// merged segments allows (Options.MaxSegmentDocs; CompactOptions.Closed:
// one per shard of a closed partition): the merge floor
// (mergeFloorDocs) keeps an import's many small batches in segments of
// their own, which saves rewriting them after every batch but leaves up
// to a dozen segments per shard, and every search visits each of them.
// An import calls it once at its end, so each document is rewritten once
// more, not after every batch. Shards that already hold one segment are
// left alone. The answers do not change; only which segment holds a
// document does. The capped merges of different shards run side by side,
// one per core (at the end of an import of the io-uring epoch: 12.4 s
// of merging one shard after the other, 8.4 s so). With
// Options.ReleasePages the pages the merges mapped are released while
// they run, once they add releaseEvery to the resident size, and after
// each shard: two merges side by side map the segments of both (an
// import of linux-bluetooth, 48k messages, into a store holding
// io-uring peaked at 380 MiB in its compaction without the first, 363
// MiB with it). o may be nil.
func (ix *Index) Compact(ctx context.Context, o *CompactOptions) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	if o == nil {
		o = &CompactOptions{}
	}
	capped := mergeplan.SingleSegmentMergePlanOptions
	if ix.opts.MaxSegmentDocs > 0 {
		capped.MaxSegmentSize = int64(ix.opts.MaxSegmentDocs)
		capped.FloorSegmentSize = int64(ix.opts.MaxSegmentDocs)
	}
	whole := mergeplan.SingleSegmentMergePlanOptions
	// One task merges every segment of the shard: a shard of a closed
	// partition ends in one round.
	whole.SegmentsPerMergeTask = 1 << 20
	// The capped merges of different shards run side by side, one per
	// core: they are independent, and each merges at most a capped
	// segment's worth at a time. A closed partition's shards are merged
	// whole, one after the other, their memory bounded one at a time.
	type task struct {
		p *partition
		i int
	}
	var capTasks []task
	for n, p := range ix.parts {
		if !o.Closed || n == 0 { // ix.parts is newest first
			for i := range p.shards {
				capTasks = append(capTasks, task{p, i})
			}
			continue
		}
		for i, s := range p.shards {
			if err := ix.compactShard(ctx, s, &whole, ix.opts.ReleasePages); err != nil {
				return fmt.Errorf("search: compact partition %q shard %d: %w", p.key, i, err)
			}
			if ix.opts.ReleasePages {
				// What the merges read and wrote is mapped: hand it back
				// shard by shard, as Batch.Execute does after a batch.
				ix.releaseMappedPages()
			}
		}
	}
	if len(capTasks) > 0 && ix.opts.ReleasePages {
		// One watcher for the merges side by side: a release hands back
		// the pages of all of them.
		stop := ix.releaseWhileRunning()
		defer stop()
	}
	work := make(chan task)
	errs := make(chan error, len(capTasks))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(capTasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				err := ix.compactShard(ctx, t.p.shards[t.i], &capped, false)
				if err != nil {
					errs <- fmt.Errorf("search: compact partition %q shard %d: %w", t.p.key, t.i, err)
					continue
				}
				if ix.opts.ReleasePages {
					ix.releaseMappedPages()
				}
			}
		}()
	}
	for _, t := range capTasks {
		work <- t
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// compactShard force-merges the segments of shard s with po, in rounds
// until one segment is left or a round merges nothing; with release it
// bounds the pages the merges map (CompactOptions.Closed).
func (ix *Index) compactShard(ctx context.Context, s bleve.Index, po *mergeplan.MergePlanOptions, release bool) error {
	sc, err := scorchOf(s)
	if err != nil {
		return err
	}
	if release {
		stop := ix.releaseWhileRunning()
		defer stop()
	}
	for range compactRounds {
		before := segmentCount(sc)
		if before <= 1 {
			return nil
		}
		if err := sc.ForceMerge(ctx, po); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if segmentCount(sc) >= before {
			return nil
		}
	}
	return nil
}

// releaseWhileRunning releases the index's mapped pages whenever the
// process's file-backed resident size grew by releaseEvery since the
// last release, checking every 50 ms, until the returned function is
// called. A merge reads its segments through their mappings from
// start to end; what it has read is not needed again, and a page it
// does need is read back.
func (ix *Index) releaseWhileRunning() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		last := fileResident()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if now := fileResident(); now > last+releaseEvery {
				ix.releaseMappedPages()
				last = fileResident()
			} else if now < last {
				last = now
			}
		}
	}()
	return func() { close(done); wg.Wait() }
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

// Segments returns the number of file segments of every shard of every
// partition: what a search over all of them visits.
func (ix *Index) Segments() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	n, _, err := segmentsOf(ix.parts)
	return n, err
}

// ClosedSegments returns the file segments of the shards of every
// partition but the newest, and the number of those shards: what
// Compact with CompactOptions.Closed would leave of them. A search reads
// every segment of the partitions it visits; an import leaves capped
// segments in each closed partition it writes into (another list's
// history), and only `patchtrail compact` merges them.
func (ix *Index) ClosedSegments() (segments, shards uint64, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, 0, ErrClosed
	}
	return segmentsOf(ix.parts[min(1, len(ix.parts)):]) // ix.parts is newest first
}

// segmentsOf counts the file segments and the shards of parts.
func segmentsOf(parts []*partition) (segments, shards uint64, err error) {
	for _, p := range parts {
		for _, s := range p.shards {
			sc, err := scorchOf(s)
			if err != nil {
				return 0, 0, err
			}
			segments += segmentCount(sc)
			shards++
		}
	}
	return segments, shards, nil
}
