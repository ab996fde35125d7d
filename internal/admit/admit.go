// Package admit is admission control: a bounded pool of slots with a
// short, bounded queue. Work that finds every slot taken waits in the
// queue while its context lasts; work that finds the queue full too is
// refused at once with ErrBusy, so an overload is answered quickly
// (servers answer 503 with Retry-After) instead of piling up memory and
// latency.
package admit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrBusy is returned (wrapped) by Acquire when every slot and the queue
// are taken.
var ErrBusy = errors.New("too much expensive work at once")

// Pool is a bounded pool of slots with a bounded queue; safe for
// concurrent use.
type Pool struct {
	name    string
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
	refused atomic.Int64
}

// New makes a pool of slots (at least 1) and a queue of queue waiters
// (at least 0); name prefixes its errors.
func New(name string, slots, queue int) *Pool {
	return &Pool{name: name, slots: make(chan struct{}, max(slots, 1)), queue: int64(max(queue, 0))}
}

// Acquire takes a slot, waiting while ctx lasts when the queue has room.
// It fails with an error wrapping ErrBusy when the queue is full, or
// wrapping ctx's error when ctx ends first. Each successful Acquire must
// be followed by one Release.
func (p *Pool) Acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.waiting.Add(1) > p.queue {
		p.waiting.Add(-1)
		p.refused.Add(1)
		return fmt.Errorf("%s: %w", p.name, ErrBusy)
	}
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: waiting for a slot: %w", p.name, ctx.Err())
	}
}

// Release gives back a slot taken by Acquire.
func (p *Pool) Release() { <-p.slots }

// Running is the number of slots taken; Waiting the number of waiters;
// Refused the number of Acquire calls refused with ErrBusy so far.
func (p *Pool) Running() int   { return len(p.slots) }
func (p *Pool) Waiting() int   { return int(p.waiting.Load()) }
func (p *Pool) Refused() int64 { return p.refused.Load() }
