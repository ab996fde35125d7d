// Package progress draws a one-line progress display for long operations
// (messages, MB, MB/s, ETA) on a terminal, and stays quiet otherwise: when
// the output is not a terminal the caller's log lines carry the news.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar is a progress line. The zero value and a nil *Bar do nothing.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	what  string
	total int64 // expected items, 0 = unknown
	size  int64 // expected bytes, 0 = unknown
	done  int64
	bytes int64
	start time.Time
	last  time.Time
}

// New returns a bar writing to w when w is a terminal, else nil (which
// draws nothing). total is the expected number of items, 0 if unknown.
func New(w io.Writer, what string, total int64) *Bar {
	if w == nil {
		return nil
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	now := time.Now()
	return &Bar{w: w, what: what, total: total, start: now}
}

// SetTotal sets the expected number of items and bytes (0 = unknown).
func (b *Bar) SetTotal(items, bytes int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.total, b.size = items, bytes
	b.mu.Unlock()
}

// Add counts n more items of size bytes, redrawing at most 10 times a second.
func (b *Bar) Add(n, bytes int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.bytes += bytes
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond {
		b.last = now
		b.draw(now)
	}
}

func (b *Bar) draw(now time.Time) {
	el := now.Sub(b.start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	mb := float64(b.bytes) / 1e6
	// The fraction done, by items when their number is known, else by bytes.
	frac := -1.0
	count := fmt.Sprint(b.done)
	switch {
	case b.total > 0:
		frac = float64(b.done) / float64(b.total)
		count = fmt.Sprintf("%d/%d", b.done, b.total)
	case b.size > 0:
		frac = float64(b.bytes) / float64(b.size)
	}
	line := fmt.Sprintf("%s: %s %.1f MB %.1f MB/s %.0f msg/s", b.what, count, mb, mb/el, float64(b.done)/el)
	if frac >= 0 {
		frac = min(frac, 1)
		eta := "?"
		if frac > 0 {
			eta = time.Duration(el * (1 - frac) / frac * float64(time.Second)).Round(time.Second).String()
		}
		line = fmt.Sprintf("%s %s %3.0f%% ETA %s", line, bar(frac*100), frac*100, eta)
	}
	fmt.Fprintf(b.w, "\r\033[K%s", line)
}

func bar(pct float64) string {
	const width = 20
	n := int(pct / 100 * width)
	if n > width {
		n = width
	}
	out := make([]byte, 0, width+2)
	out = append(out, '[')
	for i := 0; i < width; i++ {
		if i < n {
			out = append(out, '#')
		} else {
			out = append(out, '.')
		}
	}
	return string(append(out, ']'))
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(time.Now())
	fmt.Fprintln(b.w)
}
