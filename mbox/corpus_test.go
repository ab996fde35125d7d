package mbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"patchtrail/internal/testcorpus"
	"strings"
	"testing"
)

// corpusEpoch returns the io-uring epoch of the real corpus, or skips.
func corpusEpoch(tb testing.TB) string { return testcorpus.Epoch(tb) }

func TestCorpusEpoch(t *testing.T) {
	dir := corpusEpoch(t)
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := Open(context.Background(), dir, &Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := r.Name(), "io-uring"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	var n, bad int
	var size int64
	var last *Message
	var mid string
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 30000 {
			mid = m.Checkpoint
		}
		if m.Err != nil {
			bad++
			t.Logf("item with error: %v (checkpoint %s)", m.Err, m.Checkpoint)
			continue
		}
		if m.Key != "git/0.git" || len(m.Checkpoint) != 40 || m.Received.IsZero() || len(m.Data) == 0 {
			t.Fatalf("bad message %+v", m)
		}
		size += int64(len(m.Data))
		last = m
	}
	t.Logf("%d items, %d with errors, %d bytes", n, bad, size)
	if n != 33494 || bad != 1 {
		t.Errorf("read %d items, %d with Err; want 33494 and 1", n, bad)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	// The 33,495th commit changes nothing: the same message delivered
	// twice in the same second (d3b5277e3a7c, a copy of 8990f27ab34f).
	for _, want := range []string{"messages=33493", "missing=1", "empty_commits=1",
		"skipping commit without message", "commit=d3b5277e3a7c3c37c748c083842683256a6890ab"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
	// Resuming in the middle reads the rest.
	rest, err := openAll(t, dir, resumeAt("git/0.git", mid))
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != n-30000 {
		t.Errorf("resuming after item 30000 read %d items, want %d", len(rest), n-30000)
	}
	// Resuming at the last checkpoint reads nothing more.
	ck := last.Checkpoint
	r2, err := Open(context.Background(), dir, &Options{Checkpoint: func(k string) (string, bool) { return ck, k == "git/0.git" }})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if m, err := r2.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after resuming at the end: Next() = %v, %v; want io.EOF", m, err)
	}
}

// BenchmarkCorpusEpoch reads the whole io-uring epoch. Besides wall
// time it reports the CPU time of this process (cpu-s/op) and of the git
// children (git-cpu-s/op): on a busy machine those are steadier.
func BenchmarkCorpusEpoch(b *testing.B) {
	dir := corpusEpoch(b)
	self0, kids0 := cpuTimes()
	for b.Loop() {
		r, err := Open(context.Background(), dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		var total int64
		for {
			m, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			total += int64(len(m.Data))
		}
		r.Close()
		b.SetBytes(total)
	}
	self1, kids1 := cpuTimes()
	b.ReportMetric((self1-self0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric((kids1-kids0).Seconds()/float64(b.N), "git-cpu-s/op")
}
