package admit

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPool(t *testing.T) {
	p := New("test", 1, 1)
	ctx := context.Background()
	if err := p.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- p.Acquire(ctx) }() // waits in the queue
	for p.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("Acquire with the slot and the queue taken = %v, want ErrBusy", err)
	}
	if p.Refused() != 1 {
		t.Errorf("Refused = %d, want 1", p.Refused())
	}
	p.Release()
	if err := <-got; err != nil {
		t.Errorf("queued Acquire = %v, want the freed slot", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := p.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire waiting past its deadline = %v, want DeadlineExceeded", err)
	}
	p.Release()
	if p.Running() != 0 || p.Waiting() != 0 {
		t.Errorf("after all releases: running %d, waiting %d", p.Running(), p.Waiting())
	}
}
