package search

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/blevesearch/bleve/v2"
)

// Batch collects index and delete operations for one Execute. Documents are
// routed to the partition of their date (partition.go) and, within it, to
// a shard by an FNV-1a hash of the primary Message-ID, so a message always
// lands in (and is deleted from) the same shard.
//
// Sizing: scorch turns each executed shard batch into one in-memory segment
// (and, without NoSync, one fsynced zap file), then merges segments in the
// background. Batches of about 1,000 messages are the sweet spot: on 2
// cores BenchmarkIndex gives ~1,350 docs/s at 1,000 and no gain at 5,000 or
// with NoSync; the real io-uring epoch (33,490 messages, 269 MB) indexes in
// ~31 s into 230 MB (BenchmarkCorpus). Within a shard batch scorch analyses
// documents on all cores; shard batches run concurrently (Options.BatchShards
// at a time), so segment building and persisting use every core too.
type Batch struct {
	ix    *Index
	parts map[string]*partBatch // by partition key
	n     int
}

// partBatch is the part of a batch for one partition: the work of each
// shard.
type partBatch struct{ shards []*shardBatch }

// shardBatch is one shard's part of a batch: bleve batches applied in
// order, each built into one segment. A new one starts when the last
// holds Options.MaxBatchWords words, so that what a segment costs to
// analyse and build stays bounded whatever the batch holds.
type shardBatch struct {
	chunks []*bleve.Batch
	words  int // of the last chunk
}

func (sb *shardBatch) size() int {
	n := 0
	for _, c := range sb.chunks {
		n += c.Size()
	}
	return n
}

// add returns the chunk to put an operation on a document of words
// words into.
func (sb *shardBatch) add(s bleve.Index, words, max int) *bleve.Batch {
	last := sb.chunks[len(sb.chunks)-1]
	if max > 0 && sb.words > 0 && sb.words+words > max {
		last = s.NewBatch()
		sb.chunks = append(sb.chunks, last)
		sb.words = 0
	}
	sb.words += words
	return last
}

// Batch returns an empty batch. A Batch is not safe for concurrent use.
func (ix *Index) Batch() *Batch {
	return &Batch{ix: ix, parts: make(map[string]*partBatch)}
}

// of is the batch of partition p.
func (b *Batch) of(p *partition) *partBatch {
	pb := b.parts[p.key]
	if pb == nil {
		pb = &partBatch{shards: make([]*shardBatch, len(p.shards))}
		for i, s := range p.shards {
			pb.shards[i] = &shardBatch{chunks: []*bleve.Batch{s.NewBatch()}}
		}
		b.parts[p.key] = pb
	}
	return pb
}

func (ix *Index) shardFor(id string) int {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int(h.Sum64() % uint64(ix.opts.Shards))
}

// Index adds (or replaces) d. The document is built now; d may be reused
// after Index returns. It goes to the partition of its date (created if
// need be); a document's date must not change between versions (a
// message's Date and a commit's author date do not), or the old version
// stays in its old partition until deleted.
func (b *Batch) Index(d *Doc) error { return b.IndexAnalysed(d, nil) }

// IndexAnalysed is Index reusing the text fields of an (Analyze, of d or
// of a document d was made from) whose values are still d's.
func (b *Batch) IndexAnalysed(d *Doc, an *Analysis) error {
	doc, err := toDocumentWith(d, b.ix.kw, an)
	if err != nil {
		return err
	}
	for i, f := range doc.Fields {
		doc.Fields[i] = asWordsField(f)
	}
	p, err := b.ix.partFor(clampSec(d.Date))
	if err != nil {
		return fmt.Errorf("search: index %s: %w", doc.ID(), err)
	}
	i, words := b.ix.shardFor(doc.ID()), 0
	if b.ix.opts.MaxBatchWords > 0 { // a pass over the text, only when bounded
		words = d.Words()
	}
	chunk := b.of(p).shards[i].add(p.shards[i], words, b.ix.opts.MaxBatchWords)
	if err := chunk.IndexAdvanced(doc); err != nil {
		return fmt.Errorf("search: index %s: %w", doc.ID(), err)
	}
	b.n++
	return nil
}

// Delete removes the message with this primary Message-ID (with or
// without <>). Its date is not known here: the deletion goes to every
// partition (deletions are rare: messages purged from an archive).
func (b *Batch) Delete(messageID string) {
	id := trimID(messageID)
	if id == "" {
		return
	}
	b.ix.mu.RLock()
	parts := b.ix.parts
	b.ix.mu.RUnlock()
	for _, p := range parts {
		i := b.ix.shardFor(id)
		b.of(p).shards[i].add(p.shards[i], 0, 0).Delete(id)
	}
	b.n++
}

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return b.n }

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	clear(b.parts)
	b.n = 0
}

// Execute applies the batch to the shards of the partitions it touches,
// Options.BatchShards of them at a time (all by default), and resets it;
// a shard's part, when it holds more than Options.MaxBatchWords words,
// in chunks one after the other. ctx is checked before the work starts;
// a started shard batch is not interrupted. When Execute fails, the
// chunks applied are emptied and the others kept: executing the batch
// again retries those (re-applying any operation is harmless anyway:
// updates are idempotent).
func (b *Batch) Execute(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("search: batch: %w", err)
	}
	b.ix.mu.RLock()
	defer b.ix.mu.RUnlock()
	if b.ix.closed {
		return ErrClosed
	}
	if b.ix.opts.ReadOnly {
		return errors.New("search: batch on a read-only index")
	}
	var errs []error
	var emu sync.Mutex
	var wg sync.WaitGroup
	at := b.ix.opts.BatchShards
	if at <= 0 {
		at = len(b.parts) * b.ix.opts.Shards // all at once
	}
	slots := make(chan struct{}, at)
	for key, pb := range b.parts {
		p := b.ix.partByKey(key)
		if p == nil { // cannot happen: partitions are never removed
			emu.Lock()
			errs = append(errs, fmt.Errorf("search: batch on a vanished partition %q", key))
			emu.Unlock()
			continue
		}
		for i, sb := range pb.shards {
			if sb.size() == 0 {
				continue
			}
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer func() { <-slots; wg.Done() }()
				for j, c := range sb.chunks {
					if c.Size() == 0 {
						continue
					}
					if err := p.shards[i].Batch(c); err != nil {
						emu.Lock()
						errs = append(errs, fmt.Errorf("search: batch on partition %s shard %d: %w", key, i, err))
						emu.Unlock()
						return
					}
					// The documents hold their analysis (term frequencies
					// and locations) until the batch lets go of them: now,
					// not when every shard is done. The applied chunk is
					// replaced, not reset: scorch's goroutine that queued
					// its documents may still be reading its map when
					// Batch returns (a data race with Reset, which the
					// race detector saw in TestBatchChunksByWords).
					sb.chunks[j] = p.shards[i].NewBatch()
				}
			}()
		}
	}
	wg.Wait()
	if b.ix.opts.ReleasePages {
		b.ix.releaseMappedPages()
	}
	b.ix.cache.clear()
	b.ix.facts.written()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	b.Reset()
	return nil
}

// Delete removes one message by primary Message-ID right away.
func (ix *Index) Delete(ctx context.Context, messageID string) error {
	b := ix.Batch()
	b.Delete(messageID)
	return b.Execute(ctx)
}
