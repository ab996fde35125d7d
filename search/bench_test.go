package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// synth generates realistic-looking kernel list mail: about 8 KiB each
// (the io-uring archive's average), a third of them patches with diffs,
// replies quoting their parent, threads of up to 8 messages.
type synth struct {
	r      *rand.Rand
	vocab  []string
	idents []string
}

func newSynth(seed uint64) *synth {
	s := &synth{r: rand.New(rand.NewPCG(seed, 1))}
	syll := []string{"ka", "lo", "mi", "ne", "ru", "ta", "si", "po", "de", "fu", "ga", "hi", "jo", "be", "ri", "co", "ve", "wa", "xe", "zu"}
	for i := 0; i < 5000; i++ {
		n := 1 + s.r.IntN(4)
		var w strings.Builder
		for j := 0; j < n; j++ {
			w.WriteString(syll[s.r.IntN(len(syll))])
		}
		s.vocab = append(s.vocab, w.String())
	}
	for i := 0; i < 3000; i++ {
		s.idents = append(s.idents, fmt.Sprintf("io_%s_%s", s.word(), s.word()))
	}
	return s
}

func (s *synth) word() string {
	// Zipf-ish: small indexes are much more frequent.
	i := int(float64(len(s.vocab)) * s.r.Float64() * s.r.Float64() * s.r.Float64())
	return s.vocab[i]
}

func (s *synth) sentence(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = s.word()
		if s.r.IntN(12) == 0 {
			w[i] = s.idents[s.r.IntN(len(s.idents))] + "()"
		}
	}
	return strings.Join(w, " ")
}

func (s *synth) doc(i int) *Doc {
	thread := i / 8
	id := fmt.Sprintf("%08d.%d-synth@kernel.example", i, s.r.IntN(1000))
	d := &Doc{
		MessageID: id, ThreadID: fmt.Sprintf("t%d", thread), Lists: []string{"io-uring"}, ListIDs: []string{"<io-uring.vger.kernel.org>"},
		Subject: "[PATCH] io_uring: " + s.sentence(6),
		From:    []Address{{Name: s.word() + " " + s.word(), Addr: s.word() + "@" + s.word() + ".org"}},
		To:      []Address{{Addr: "io-uring@vger.kernel.org"}},
		Cc:      []Address{{Addr: s.word() + "@kernel.org"}, {Addr: s.word() + "@gmail.com"}},
		Date:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Minute),
	}
	var b strings.Builder
	if i%8 != 0 {
		d.Subject = "Re: " + d.Subject
		d.References = []string{fmt.Sprintf("%08d.x-synth@kernel.example", thread*8)}
		for j := 0; j < 30; j++ {
			b.WriteString("> " + s.sentence(10) + "\n")
		}
		b.WriteString("\n")
	}
	for j := 0; j < 15+s.r.IntN(20); j++ {
		b.WriteString(s.sentence(12) + "\n")
	}
	if i%3 == 0 {
		b.WriteString("\nSigned-off-by: " + d.From[0].String() + "\n---\n")
		file := fmt.Sprintf("io_uring/%s.c", s.word())
		fmt.Fprintf(&b, "diff --git a/%s b/%s\nindex %07x..%07x 100644\n--- a/%s\n+++ b/%s\n", file, file, s.r.Uint32()>>4, s.r.Uint32()>>4, file, file)
		for h := 0; h < 3; h++ {
			fmt.Fprintf(&b, "@@ -%d,7 +%d,8 @@ static int %s(struct io_kiocb *req)\n", h*40, h*40, s.idents[s.r.IntN(len(s.idents))])
			for l := 0; l < 12; l++ {
				prefix := []string{" ", " ", " ", "-", "+"}[s.r.IntN(5)]
				b.WriteString(prefix + "\t" + s.sentence(6) + ";\n")
			}
		}
		d.PatchIDs = []string{fmt.Sprintf("%016x%016x%08x", s.r.Uint64(), s.r.Uint64(), s.r.Uint32())}
	}
	d.AddBodyText(b.String())
	d.Size = int64(b.Len() + 800)
	return d
}

func (s *synth) docs(n int) []*Doc {
	out := make([]*Doc, n)
	for i := range out {
		out[i] = s.doc(i)
	}
	return out
}

// BenchmarkIndex indexes 20,000 synthetic messages per iteration into a
// fresh index. Run with -benchtime=1x; it reports docs/s and MB/s of raw
// message text.
func BenchmarkIndex(b *testing.B) {
	const n = 20000
	docs := newSynth(1).docs(n)
	var bytes int64
	for _, d := range docs {
		bytes += d.Size
	}
	for _, bc := range []struct {
		name   string
		batch  int
		noSync bool
	}{
		{"batch=1000", 1000, false},
		{"batch=5000", 5000, false},
		{"batch=1000/nosync", 1000, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				dir := filepath.Join(b.TempDir(), "ix")
				ix, err := Open(dir, &Options{NoSync: bc.noSync})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				indexAll(b, ix, docs, bc.batch)
				if err := ix.Close(); err != nil { // waits for persisting
					b.Fatal(err)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "docs/s")
			b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds(), "docs/cpu-s")
			b.ReportMetric(float64(bytes*int64(b.N))/total.Seconds()/1e6, "MB/s")
		})
	}
}

func indexAll(tb testing.TB, ix *Index, docs []*Doc, batch int) {
	tb.Helper()
	bt := ix.Batch()
	for _, d := range docs {
		if err := bt.Index(d); err != nil {
			tb.Fatal(err)
		}
		if bt.Len() >= batch {
			if err := bt.Execute(context.Background()); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := bt.Execute(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSearch measures query latency over 20,000 synthetic messages.
func BenchmarkSearch(b *testing.B) {
	s := newSynth(1)
	docs := s.docs(20000)
	ix, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	indexAll(b, ix, docs, 5000)
	ctx := context.Background()
	common, rare := s.vocab[0], s.vocab[4000]
	for _, q := range []struct{ name, q string }{
		{"word", common},
		{"rare-word", rare},
		{"two-words", common + " " + s.vocab[1]},
		{"phrase", `"` + common + " " + s.vocab[1] + `"`},
		{"subject", "s:" + common},
		{"from-addr", "f:" + docs[100].From[0].Addr},
		{"dfn", "dfn:io_uring/" + s.vocab[2] + ".c"},
		{"wildcard", s.vocab[3][:3] + "*"},
		{"date-range", "d:20200301..20200401"},
		{"or-not", common + " OR " + rare + " NOT s:re"},
		{"patchid", "patchid:" + docs[300].PatchIDs[0]},
	} {
		for _, threads := range []bool{false, true} {
			name := q.name
			if threads {
				name += "/threads"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := ix.Search(ctx, q.q, &SearchOptions{Limit: 50, Threads: threads}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
