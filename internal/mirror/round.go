package mirror

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Job is one unit of a sync round: bringing one source up to date
// (fetch a mirror and import it, poll an IMAP mailbox, re-import a path,
// link the code repositories).
type Job struct {
	// Name identifies the job in logs and reports
	// ("io-uring mirror https://lore.kernel.org/io-uring").
	Name string
	// Run does the work; an error makes the job be tried again later in
	// the round.
	Run func(ctx context.Context) error
}

// JobResult is how one job of a round went.
type JobResult struct {
	Name     string        `json:"name"`
	Attempts int           `json:"attempts"`
	Err      error         `json:"-"`
	Error    string        `json:"error,omitempty"` // Err as text, for JSON
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// RoundOptions tunes Round. A nil *RoundOptions means defaults.
type RoundOptions struct {
	// Retries is how many times a failed job is tried again (default 3).
	Retries int
	// Backoff is the delay before the first retry; it doubles with each
	// retry up to MaxBackoff (defaults 5s and 5m).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Logger receives a line per failure; nil discards.
	Logger *slog.Logger
}

// Round runs every job, one at a time (jobs share the store's single
// writer). A job that fails is tried again after a delay that doubles
// with each attempt, up to Retries more times; while it waits, the jobs
// after it run, so a broken source never holds the others up. The round
// ends when every job succeeded or ran out of retries, or when ctx ends.
// The results are in the order of jobs.
func Round(ctx context.Context, jobs []Job, opts *RoundOptions) []JobResult {
	o := RoundOptions{Retries: 3, Backoff: 5 * time.Second, MaxBackoff: 5 * time.Minute}
	if opts != nil {
		if opts.Retries > 0 {
			o.Retries = opts.Retries
		}
		if opts.Backoff > 0 {
			o.Backoff = opts.Backoff
		}
		if opts.MaxBackoff > 0 {
			o.MaxBackoff = opts.MaxBackoff
		}
		o.Logger = opts.Logger
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	res := make([]JobResult, len(jobs))
	due := make([]time.Time, len(jobs)) // zero: ready now
	pending := make([]bool, len(jobs))
	left := len(jobs)
	for i, j := range jobs {
		res[i].Name = j.Name
		pending[i] = true
	}
	for left > 0 {
		// The job due first; ties go to the earlier job.
		next := -1
		for i := range jobs {
			if pending[i] && (next < 0 || due[i].Before(due[next])) {
				next = i
			}
		}
		if wait := time.Until(due[next]); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			for i := range jobs {
				if pending[i] && res[i].Err == nil {
					res[i].Err = err
				}
			}
			break
		}
		r := &res[next]
		start := time.Now()
		err := runJob(ctx, jobs[next])
		r.Attempts++
		r.Elapsed += time.Since(start)
		r.Err = err
		if err == nil || ctx.Err() != nil || r.Attempts > o.Retries {
			pending[next] = false
			left--
			if err != nil && ctx.Err() == nil {
				o.Logger.Error("sync: giving up on source for this round", "source", r.Name, "attempts", r.Attempts, "err", err)
			}
			continue
		}
		delay := o.Backoff << (r.Attempts - 1)
		if delay > o.MaxBackoff || delay <= 0 {
			delay = o.MaxBackoff
		}
		due[next] = time.Now().Add(delay)
		o.Logger.Warn("sync: source failed, will retry", "source", r.Name, "attempt", r.Attempts, "retry_in", delay, "err", err)
	}
	for i := range res {
		if res[i].Err != nil {
			res[i].Error = res[i].Err.Error()
		}
	}
	return res
}

// runJob runs one job, turning a panic into an error: one bad source
// must not take the serving process down.
func runJob(ctx context.Context, j Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sync: %s: panic: %v", j.Name, v)
		}
	}()
	return j.Run(ctx)
}
