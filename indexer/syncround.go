package indexer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"patchtrail/internal/config"
	"patchtrail/internal/mirror"
)

// SyncResult is how one job of a sync round went and, when it
// succeeded, what it did. It encodes to JSON as the mirror.JobResult it
// embeds.
type SyncResult struct {
	mirror.JobResult
	// Detail says what the job did ("read 3, added 3, duplicates 0,
	// rejected 0"; "linux: 12 new commits, 9 linked"); "" when it did
	// not get that far.
	Detail string `json:"-"`
}

// SyncReport is the outcome of a sync round, in the order of its jobs.
type SyncReport struct {
	Results []SyncResult
}

// Failed returns the names of the jobs that failed.
func (r *SyncReport) Failed() []string {
	var failed []string
	for _, res := range r.Results {
		if res.Err != nil {
			failed = append(failed, res.Name)
		}
	}
	return failed
}

// Err returns an error naming the jobs that failed, nil when none did.
func (r *SyncReport) Err() error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d sync jobs failed: %s", len(failed), len(r.Results), strings.Join(failed, "; "))
}

// Round runs jobs (from Jobs or MirrorJob of this Syncer) with the
// configured retries and backoff, then finishes the hooks once for all
// of them (the radar scores what the round stored: a job named
// finishJob in the report, there only when it fails).
func (s *Syncer) Round(ctx context.Context, jobs []mirror.Job) *SyncReport {
	s.details = nil
	res := mirror.Round(ctx, jobs, &mirror.RoundOptions{
		Retries: s.cfg.Sync.Retries, Backoff: time.Duration(s.cfg.Sync.Backoff), Logger: s.opts.Logger,
	})
	rep := &SyncReport{Results: make([]SyncResult, len(res))}
	for i, r := range res {
		rep.Results[i] = SyncResult{JobResult: r, Detail: s.details[r.Name]}
	}
	if ctx.Err() != nil {
		return rep // what is queued is scored by the next writer
	}
	start := time.Now()
	if err := FinishHooks(ctx, s.hooks); err != nil {
		s.opts.Logger.Error("sync: finishing the round", "err", err)
		rep.Results = append(rep.Results, SyncResult{JobResult: mirror.JobResult{
			Name: finishJob, Attempts: 1, Err: err, Error: err.Error(), Elapsed: time.Since(start)}})
	}
	return rep
}

// finishJob names the hooks' work after a sync round in its report.
const finishJob = "score the radar"

// Loop runs a round every interval (measured from the end of the
// previous one) until ctx ends. Before each round it takes the
// configuration from SyncOptions.Reload and indexes what is queued for
// SyncOptions.Index; each round is logged.
func (s *Syncer) Loop(ctx context.Context, interval time.Duration) {
	log := s.opts.Logger
	for {
		start := time.Now()
		if err := s.reload(); err != nil {
			log.Error("sync: configuration unusable, skipping the round", "err", err)
		} else {
			if s.opts.Index != nil {
				if n, err := Drain(ctx, s.st, s.opts.Index, nil); err != nil {
					log.Error("sync: indexing queued messages", "err", err)
				} else if n > 0 {
					log.Info("sync: indexed queued messages", "messages", n)
				}
			}
			jobs, err := s.Jobs(ctx)
			if err != nil {
				log.Error("sync: listing sources", "err", err)
			}
			failed := len(s.Round(ctx, jobs).Failed())
			log.Info("sync: round done", "sources", len(jobs), "failed", failed, "elapsed", time.Since(start).Round(time.Millisecond))
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// reload replaces the configuration with the one of SyncOptions.Reload.
func (s *Syncer) reload() error {
	if s.opts.Reload == nil {
		return nil
	}
	cfg, err := s.opts.Reload()
	if err != nil {
		return err
	}
	if cfg == nil {
		cfg = &config.Config{}
	}
	s.cfg = cfg
	return nil
}
