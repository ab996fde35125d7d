package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// SearchHook keeps the full-text index current during an import. Search
// documents are built in the parse workers; the writer queues every
// changed message in the store transaction, and once that commits the
// documents go to the index in one batch, after which the queue entries
// are removed. Messages whose document must be rebuilt from the store
// (a thread merge, a message seen on one more list) are indexed from the
// queue in the same step, in batches of their own bounded like the
// import's (a merge of two big threads rebuilds every message of both),
// and whatever a crash left queued is indexed on the next run (Drain).
//
// A batch is written to the index in the background while the writer
// fills the next one (flight): the index's segment building and the
// store's transactions take turns on one core otherwise. What a batch
// written in the background leaves to do — dequeuing its documents,
// rebuilding those that changed under it — is done by the writer when
// it next commits, before the next batch starts, so batches reach the
// index in the order they were committed. Flush waits for the last one.
type SearchHook struct {
	st         *store.Store
	ix         *search.Index
	logger     *slog.Logger
	batchBytes int64

	flight     *searchBatch // being written to the index, or nil
	flightDone chan error   // its Execute's result
}

// NewSearchHook returns the hook writing to ix.
func NewSearchHook(st *store.Store, ix *search.Index, logger *slog.Logger) *SearchHook {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SearchHook{st: st, ix: ix, logger: logger, batchBytes: DefaultBatchBytes}
}

// SetBatchBytes bounds the raw mail of the documents rebuilt from the
// store in one index batch (ByteBounded; Import sets it to its own
// bound, DefaultBatchBytes otherwise).
func (h *SearchHook) SetBatchBytes(n int64) {
	if n > 0 {
		h.batchBytes = n
	}
}

// Prepare builds the message's search document in a parse worker.
func (h *SearchHook) Prepare(p *Parsed) error {
	a := p.Analysis
	if a == nil {
		a = patch.Analyze(p.Msg)
	}
	p.Doc = BuildDoc(p.Msg, a)
	return nil
}

// Begin starts the hook's part of a store transaction.
func (h *SearchHook) Begin(tx *store.Tx) (HookBatch, error) {
	return &searchBatch{h: h, tx: tx, b: h.ix.Batch()}, nil
}

type searchBatch struct {
	h    *SearchHook
	tx   *store.Tx
	b    *search.Batch
	done []int64        // indexed from the batch's own documents
	redo map[int64]bool // to rebuild from the store after commit
}

func (sb *searchBatch) Stored(a *store.Added, p *Parsed) error {
	if err := sb.tx.Enqueue(a.ID); err != nil {
		return err
	}
	if a.Duplicate {
		// One more list carries it: rebuild its document from the store.
		sb.mark(a.ID)
		return nil
	}
	if len(a.Merged) > 0 {
		// Messages of the merged threads carry a stale thread id.
		if err := sb.tx.EnqueueThread(a.Thread); err != nil {
			return err
		}
		ids, err := sb.tx.ThreadMembers(a.Thread)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id != a.ID {
				sb.mark(id)
			}
		}
	}
	doc := p.Doc
	if doc == nil {
		return fmt.Errorf("indexer: no search document prepared for %s", a.MessageID)
	}
	doc.MessageID = a.MessageID
	doc.Received = p.received()
	doc.ThreadID = strconv.FormatInt(a.Thread, 10)
	doc.Lists = []string{p.List}
	// A message new to the store has no links yet (link re-indexes it
	// when it gets one).
	doc.States = messageStates(p.Analysis, false, false, false)
	if err := sb.b.Index(doc); err != nil {
		return err
	}
	sb.done = append(sb.done, a.ID)
	return nil
}

func (sb *searchBatch) mark(id int64) {
	if sb.redo == nil {
		sb.redo = map[int64]bool{}
	}
	sb.redo[id] = true
}

func (sb *searchBatch) Deleted(id int64) error { return sb.tx.Enqueue(id) }

func (sb *searchBatch) Commit() error { return nil }

// Committed lands the batch written in the background before (Flush),
// then starts writing this one to the index in the background.
func (sb *searchBatch) Committed(ctx context.Context) error {
	if err := sb.h.land(ctx, sb.redo); err != nil {
		return err
	}
	if len(sb.done) == 0 && len(sb.redo) == 0 && sb.b.Len() == 0 {
		return nil
	}
	ch := make(chan error, 1)
	sb.h.flight, sb.h.flightDone = sb, ch
	go func() { ch <- sb.b.Execute(ctx) }()
	return nil
}

// Flush waits until the batch written in the background is in the index
// and lands it (Flusher).
func (h *SearchHook) Flush(ctx context.Context) error { return h.land(ctx, nil) }

// land waits for the batch in flight, then clears the queue entries of
// its documents and rebuilds the documents that changed under it from
// the store, in batches of at most batchBytes of raw mail, each dequeued
// once written. A message both indexed by the batch and rebuilt stays
// queued until its rebuilt document is written, so a crash in between
// indexes it again on the next run; next holds the messages the
// transaction committed since marked to rebuild, which stay queued too.
func (h *SearchHook) land(ctx context.Context, next map[int64]bool) error {
	sb := h.flight
	if sb == nil {
		return nil
	}
	err := <-h.flightDone
	h.flight, h.flightDone = nil, nil
	if err != nil {
		return err
	}
	done := sb.done[:0:0]
	for _, id := range sb.done {
		if !sb.redo[id] && !next[id] {
			done = append(done, id)
		}
	}
	if err := h.st.Dequeue(ctx, done); err != nil {
		return err
	}
	if len(sb.redo) == 0 {
		return nil
	}
	redo := make([]int64, 0, len(sb.redo))
	for id := range sb.redo {
		redo = append(redo, id)
	}
	slices.Sort(redo)
	_, err = indexFromStore(ctx, h.st, sb.b, redo, h.batchBytes, nil)
	return err
}

// indexFromStore rebuilds the documents of message rows ids from the
// store into b and writes them, in batches of at most batchBytes of raw
// mail (at least one message each), dequeuing each batch's ids once it
// is written. It returns how many it indexed; progress, if not nil, is
// told after each batch.
func indexFromStore(ctx context.Context, st *store.Store, b *search.Batch, ids []int64, batchBytes int64, progress func(n int)) (int, error) {
	total := 0
	for len(ids) > 0 {
		var bytes int64
		n := 0
		for n < len(ids) && bytes < batchBytes {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			sz, err := addFromStore(ctx, st, b, ids[n])
			if err != nil {
				return total, err
			}
			bytes += sz
			n++
		}
		if err := b.Execute(ctx); err != nil {
			return total, err
		}
		if err := st.Dequeue(ctx, ids[:n]); err != nil {
			return total, err
		}
		total += n
		ids = ids[n:]
		if progress != nil {
			progress(n)
		}
	}
	return total, nil
}

// addFromStore adds the current document of message row id to b (or its
// deletion, for a message no longer on any list) and returns the size of
// the raw message.
func addFromStore(ctx context.Context, st *store.Store, b *search.Batch, id int64) (int64, error) {
	doc, err := DocFromStore(ctx, st, id)
	if err != nil {
		return 0, err
	}
	if doc == nil {
		m, err := st.Message(ctx, id)
		if err != nil {
			return 0, err
		}
		b.Delete(m.MessageID)
		return 0, nil
	}
	return doc.Size, b.Index(doc)
}

// DocFromStore rebuilds the search document of message row id from the
// stored raw message; nil for a deleted message.
func DocFromStore(ctx context.Context, st *store.Store, id int64) (*search.Doc, error) {
	m, err := st.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Deleted {
		return nil, nil
	}
	sd, err := parseStored(ctx, st, m)
	if err != nil {
		return nil, err
	}
	return sd.finish(ctx, st, m)
}

// storedDoc is the document of a stored message as its raw mail gives it,
// before finish adds what the store decides (its ids, thread, lists,
// links).
type storedDoc struct {
	doc *search.Doc
	ids []string         // the Message-IDs of the mail itself
	a   *patch.Analysis  // what the link fields depend on (setLinks)
	an  *search.Analysis // its analysed text, when prepared ahead
}

// parseStored parses the raw mail of m into its document; the fields
// finish sets are set from m too, so that the document can be analysed
// (search.Analyze) as it will be indexed.
func parseStored(ctx context.Context, st *store.Store, m *store.Message) (*storedDoc, error) {
	raw, err := st.Raw(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	pm, err := message.Parse(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("indexer: stored message %s: %w", m.MessageID, err)
	}
	a := patch.Analyze(pm)
	sd := &storedDoc{doc: BuildDoc(pm, a), a: a}
	sd.ids = slices.Clip(sd.doc.MessageIDs)
	setStored(sd, sd.doc, m)
	return sd, nil
}

func setStored(sd *storedDoc, doc *search.Doc, m *store.Message) {
	doc.MessageID = m.MessageID
	doc.MessageIDs = append(sd.ids, m.IDs...)
	doc.ThreadID = strconv.FormatInt(m.Thread, 10)
	doc.Lists = m.Lists
	doc.Received = m.Received
}

// finish returns the document of message m (as the store has it now:
// ids, thread, lists, links); sd.an still applies to it where its text
// is the same.
func (sd *storedDoc) finish(ctx context.Context, st *store.Store, m *store.Message) (*search.Doc, error) {
	doc := *sd.doc
	setStored(sd, &doc, m)
	if err := setLinks(ctx, st, m.ID, &doc, sd.a); err != nil {
		return nil, err
	}
	return &doc, nil
}

// BuildDoc makes the search document of a parsed message with every
// patch-id the analysis found (the store's Message-ID choice, thread and
// list are set by the caller).
func BuildDoc(m *message.Message, a *patch.Analysis) *search.Doc {
	d := search.NewDoc(m)
	if a != nil {
		d.PatchIDs = append(d.PatchIDs, a.PatchIDs()...)
	}
	return d
}

// Drain indexes every message still queued (after a crash, or after
// `patchtrail reindex` queued them all), in batches of at most 2000
// messages and DefaultBatchBytes of raw mail.
func Drain(ctx context.Context, st *store.Store, ix *search.Index, progress func(n int)) (int, error) {
	return DrainBatches(ctx, st, ix, DefaultBatchBytes, progress)
}

// DrainBatches is Drain with batches of at most batchBytes of raw mail.
func DrainBatches(ctx context.Context, st *store.Store, ix *search.Index, batchBytes int64, progress func(n int)) (int, error) {
	total := 0
	var after int64
	b := ix.Batch()
	for {
		ids, err := st.Queued(ctx, after, 2000)
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		n, err := indexFromStore(ctx, st, b, ids, batchBytes, progress)
		total += n
		if err != nil {
			return total, err
		}
		after = ids[len(ids)-1]
	}
}
