package mbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangGuard fails the test when f does not return within a minute: a
// guard against a hang, not a speed limit.
func hangGuard(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s does not return", what)
	}
}

// zeros is an endless stream of NUL bytes (like /dev/zero) that cancels
// a context once it has served after bytes.
type zeros struct {
	n, after int64
	cancel   func()
}

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	if z.n >= z.after {
		z.cancel()
	}
	return len(p), nil
}

// TestCancelSkippingJunk cancels the context while the reader skips an
// endless run of bytes before the first From line (`import /dev/zero`).
func TestCancelSkippingJunk(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := newMboxReader(ctx, "/dev/zero", &zeros{after: 64 << 20, cancel: cancel}, nil, withDefaults(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hangGuard(t, "Next on endless junk after cancel", func() {
		if _, err := r.Next(); !errors.Is(err, context.Canceled) {
			t.Errorf("Next = %v, want context.Canceled", err)
		}
	})
}

// TestCancelFIFO cancels the context while Open waits for a FIFO's
// writer, and while Next waits for more bytes from it.
func TestCancelFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	hangGuard(t, "Open of a FIFO without writer after cancel", func() {
		if r, err := Open(ctx, fifo, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Open = %v, %v, want context.Canceled", r, err)
		}
	})

	// A second FIFO: the reader the first Open left behind is closed
	// asynchronously, and a writer connecting to it before that would
	// see a broken pipe.
	fifo = filepath.Join(t.TempDir(), "fifo2")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	opened := make(chan Reader, 1)
	go func() {
		r, err := Open(ctx, fifo, nil)
		if err != nil {
			t.Error(err)
		}
		opened <- r
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // open until the end: the reader sees no EOF
	if _, err := w.WriteString("From a Mon Sep 17 00:00:00 2001\nSubject: 1\n\none\n\nFrom b Mon Sep 17 00:00:00 2001\nSubject: 2\n\n"); err != nil {
		t.Fatal(err)
	}
	r := <-opened
	if r == nil {
		t.FailNow()
	}
	defer r.Close()
	m, err := r.Next()
	if err != nil || string(m.Data) != "Subject: 1\n\none\n" {
		t.Fatalf("Next = %+v, %v, want message 1", m, err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	hangGuard(t, "Next blocked on a FIFO after cancel", func() {
		if m, err := r.Next(); !errors.Is(err, context.Canceled) {
			t.Errorf("Next = %+v, %v, want context.Canceled", m, err)
		}
	})
}

// TestHostileFixtures reads testdata/hostile: each file is a subtest
// naming what its items must be.
func TestHostileFixtures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "hostile")
	for _, tc := range []struct {
		file string
		want func(t *testing.T, ms []*Message)
	}{
		{"body-from.mbox", func(t *testing.T, ms []*Message) {
			// "From " lines after blank lines in a body without the
			// shape of a postmark split nothing.
			if len(ms) != 2 || ms[0].Err != nil || !strings.Contains(string(ms[0].Data), "\n\nFrom what I see, nothing splits here.\n") {
				t.Errorf("got %d items (first %.300q), want 2 messages, the first with both From lines", len(ms), datas(ms))
			}
		}},
		{"cr-only.mbox", func(t *testing.T, ms []*Message) {
			if len(ms) != 1 || ms[0].Err == nil || !strings.Contains(ms[0].Err.Error(), "bare CR") {
				t.Errorf("got %v, want one item whose error says lines end in a bare CR", ms)
			}
		}},
		{"truncated.mbox.gz", wantTruncated},
		{"truncated.mbox.xz", wantTruncated},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ms, err := openAll(t, filepath.Join(dir, tc.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, ms)
		})
	}
}

// wantTruncated checks the items of a cut compressed archive: messages,
// then a problem saying how many were kept.
func wantTruncated(t *testing.T, ms []*Message) {
	if len(ms) < 2 {
		t.Fatalf("got %d items, want messages and a problem", len(ms))
	}
	last := ms[len(ms)-1]
	want := fmt.Sprintf("truncated; kept the %d messages", len(ms)-1)
	if last.Err == nil || !strings.Contains(last.Err.Error(), want) {
		t.Errorf("last item %v, want an error saying %q", last.Err, want)
	}
	for _, m := range ms[:len(ms)-1] {
		if m.Err != nil {
			t.Errorf("%s: %v", m.Where, m.Err)
		}
	}
}
