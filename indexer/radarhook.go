package indexer

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"patchtrail/internal/progress"
	"patchtrail/internal/radar"
	"patchtrail/internal/store"
)

// RadarHook keeps the security-fix radar's scores current during an
// import (doc/radar.md): the parse workers read each message's evidence,
// the writer stores it with the message and queues it in the same
// transaction, and the patch postings the queued messages can change are
// scored when the import ends (Finish) and, in a long import, between
// batches. Whatever a crash left queued is scored by the next Update
// (OpenWriter runs one).
type RadarHook struct {
	sc *radar.Scorer

	// Interval is how old the oldest batch not scored yet must be for a
	// later batch to score it (NewRadarHook: RadarInterval), and Share
	// how many times the last scoring's time must have passed since
	// (RadarShare: at most 1/(Share+1) of an import's time).
	Interval time.Duration
	Share    int

	mu    sync.Mutex
	since time.Time     // when the oldest batch not scored yet committed (zero: none)
	last  time.Duration // how long the last scoring took
}

// An update reads the evidence of every stored message (radar.Scorer),
// so a long import scores between batches only once its oldest batch
// not scored yet is RadarInterval old, and at most a twentieth of its
// time (after an update that took d, not before RadarShare·d); a short
// one scores once, at its end.
const (
	RadarInterval = 5 * time.Minute
	RadarShare    = 19
)

// NewRadarHook returns the hook scoring with sc.
func NewRadarHook(sc *radar.Scorer) *RadarHook {
	return &RadarHook{sc: sc, Interval: RadarInterval, Share: RadarShare}
}

// Prepare reads the message's evidence in a parse worker.
func (h *RadarHook) Prepare(p *Parsed) error {
	p.Radar = radar.Evidence(p.Msg, p.Analysis)
	return nil
}

// Begin starts the hook's part of a store transaction.
func (h *RadarHook) Begin(tx *store.Tx) (HookBatch, error) {
	return &radarBatch{h: h, tx: tx}, nil
}

type radarBatch struct {
	h  *RadarHook
	tx *store.Tx
}

func (b *radarBatch) Stored(a *store.Added, p *Parsed) error {
	if a.Duplicate {
		return nil // same message, same evidence
	}
	if p.Radar == nil {
		p.Radar = radar.Evidence(p.Msg, p.Analysis)
	}
	return b.tx.PutRadarEvidence(a.ID, radar.Rules(), p.Radar)
}

func (b *radarBatch) Deleted(id int64) error { return b.tx.QueueRadar(id) }

func (b *radarBatch) Commit() error { return nil }

// Committed scores what the transactions so far queued once the oldest
// of them is old enough (Finish scores the rest).
func (b *radarBatch) Committed(ctx context.Context) error {
	h := b.h
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.since.IsZero() {
		h.since = now
	}
	if now.Sub(h.since) < max(h.Interval, time.Duration(h.Share)*h.last) {
		return nil
	}
	return h.update(ctx)
}

// update scores what is queued.
func (h *RadarHook) update(ctx context.Context) error {
	start := time.Now()
	_, err := h.sc.Update(ctx)
	h.last = time.Since(start)
	h.since = time.Time{}
	return err
}

// Finish scores what the import left queued.
func (h *RadarHook) Finish(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.update(ctx)
}

// OpenRadarHook makes the radar's hook for the store of dataDir, after
// reading the evidence of messages stored without it and scoring what
// an interrupted run left queued (or everything, after a new model).
// Only Logger and Progress of opts are used.
func OpenRadarHook(ctx context.Context, st *store.Store, dataDir string, opts *WriterOptions) (*RadarHook, error) {
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	model, err := radar.StoreModel(dataDir)
	if err != nil {
		return nil, err
	}
	sc := radar.NewScorer(st, model, o.Logger)
	missing, _, err := st.RadarMissing(ctx, radar.Rules())
	if err != nil {
		return nil, err
	}
	var bar *progress.Bar
	var add func(int)
	if len(missing) > 0 {
		bar = progress.New(o.Progress, "radar", int64(len(missing)))
		add = func(k int) { bar.Add(int64(k), 0) }
	}
	// Backfill also marks the messages as read (RadarMissing), none
	// missing too.
	n, err := sc.Backfill(ctx, add)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return nil, err
	} else if n > 0 {
		o.Logger.Info("radar: read the evidence of messages stored without it", "messages", n)
	}
	if n, err := sc.Update(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		o.Logger.Info("radar: scored patch postings", "postings", n)
	}
	return NewRadarHook(sc), nil
}
