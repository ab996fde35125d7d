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
	done  int64
	bytes int64
	start time.Time
	last  time.Time
}

// New returns a bar writing to w when w is a terminal, else nil (which
// draws nothing). total is the expected number of items, 0 if unknown.
func New(w io.Writer, what string, total int64) *Bar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	now := time.Now()
	return &Bar{w: w, what: what, total: total, start: now}
}

// SetTotal updates the expected number of items.
func (b *Bar) SetTotal(total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.total = total
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
	line := fmt.Sprintf("%s: %d", b.what, b.done)
	if b.total > 0 {
		pct := float64(b.done) * 100 / float64(b.total)
		eta := "?"
		if b.done > 0 && b.done < b.total {
			rem := time.Duration(el * float64(b.total-b.done) / float64(b.done) * float64(time.Second))
			eta = rem.Round(time.Second).String()
		} else if b.done >= b.total {
			eta = "0s"
		}
		line = fmt.Sprintf("%s: %d/%d (%.0f%%) %s", b.what, b.done, b.total, pct, bar(pct))
		line += fmt.Sprintf(" %.1f MB %.1f MB/s %.0f msg/s ETA %s", mb, mb/el, float64(b.done)/el, eta)
	} else {
		line += fmt.Sprintf(" %.1f MB %.1f MB/s %.0f msg/s", mb, mb/el, float64(b.done)/el)
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
