package indexer

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"patchtrail/internal/store"
	"patchtrail/mbox"
)

// slowReader yields messages; the n-th call to Next cancels the import and
// then takes a while to return, as a reader blocked on a pipe or a
// network read does. It records whether it was closed or left while a
// Next was still running.
type slowReader struct {
	n, calls int
	cancel   context.CancelFunc
	inNext   atomic.Bool
	closedIn atomic.Bool // Close ran during Next
	err      error
}

func (r *slowReader) Next() (*mbox.Message, error) {
	r.inNext.Store(true)
	defer r.inNext.Store(false)
	r.calls++
	if r.calls == r.n {
		r.cancel()
		time.Sleep(100 * time.Millisecond)
		r.err = errors.New("read after cancel") // written while run may be finishing
		return nil, r.err
	}
	raw := fmt.Sprintf("From: a@example.org\r\nMessage-ID: <m%d@example.org>\r\nSubject: m%d\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody %d\r\n", r.calls, r.calls, r.calls)
	return &mbox.Message{Data: []byte(raw), Where: fmt.Sprintf("test:%d", r.calls)}, nil
}

func (r *slowReader) Close() error {
	if r.inNext.Load() {
		r.closedIn.Store(true)
	}
	return nil
}

func (r *slowReader) Name() string { return "test" }

// TestRunCancelJoinsReader cancels an import mid-read: run must not
// return (and the reader must not be closed) while the reader goroutine
// is still inside Next. Run with -race: the reader's error is read only
// after the reader is done.
func TestRunCancelJoinsReader(t *testing.T) {
	for _, n := range []int{1, 5, 50} {
		st, err := store.Open(context.Background(), t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &slowReader{n: n, cancel: cancel}
		o := (&Options{Workers: 2, List: "test", Hooks: []Hook{PatchHook{}}}).withDefaults()
		_, err = run(ctx, st, r, "test-source", "test", o)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("n=%d: run error = %v, want context.Canceled", n, err)
		}
		if r.inNext.Load() {
			t.Errorf("n=%d: run returned while the reader was inside Next", n)
		}
		r.Close()
		if r.closedIn.Load() {
			t.Errorf("n=%d: reader closed during Next", n)
		}
		cancel()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
		// The store reopens after the cancelled import.
		st, err = store.Open(context.Background(), st.Dir(), nil)
		if err != nil {
			t.Fatalf("n=%d: reopen: %v", n, err)
		}
		st.Close()
	}
}
