package patch

import (
	"syscall"
	"testing"
	"time"
)

// The benchmarks run over every message of the corpus per iteration;
// b.SetBytes is the size of the decoded text they read, so MB/s is the
// analysis throughput. Run them with
//
//	PATCHTRAIL_CORPUS=/tmp/corpus go test -run '^$' -bench Corpus -benchtime 3x ./internal/patch/

// cpuTime is the user+system CPU time of the process so far; the
// benchmarks report it per op ("cpu-ns/op") because wall time on a
// shared machine says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runCorpus times fn over b.N iterations and reports CPU time per op.
func runCorpus(b *testing.B, bytes int64, fn func()) {
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		fn()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func corpusBytes(msgs []corpusMail) int64 {
	var n int64
	for _, m := range msgs {
		n += int64(len(m.Subject))
		for _, p := range m.Parts {
			n += int64(len(p))
		}
	}
	return n
}

// BenchmarkCorpusAnalyze is the whole per-message analysis the ingest
// pipeline does: subject tags, trailers, diffs and patch ids.
func BenchmarkCorpusAnalyze(b *testing.B) {
	msgs := corpusDecoded(b)
	runCorpus(b, corpusBytes(msgs), func() {
		for _, m := range msgs {
			s := ParseSubject(m.Subject)
			_ = NormalizeSubject(m.Subject)
			for _, p := range m.Parts {
				if s.Reply {
					_ = FindReplyTrailers(p)
				} else {
					_ = ParseBodyTrailers(p)
				}
				_, _ = ParsePatches(p)
			}
		}
	})
}

func BenchmarkCorpusSubject(b *testing.B) {
	msgs := corpusDecoded(b)
	var n int64
	for _, m := range msgs {
		n += int64(len(m.Subject))
	}
	runCorpus(b, n, func() {
		for _, m := range msgs {
			_ = ParseSubject(m.Subject)
		}
	})
}

func BenchmarkCorpusTrailers(b *testing.B) {
	msgs := corpusDecoded(b)
	runCorpus(b, corpusBytes(msgs), func() {
		for _, m := range msgs {
			for _, p := range m.Parts {
				_ = ParseBodyTrailers(p)
				_ = FindReplyTrailers(p)
			}
		}
	})
}

func BenchmarkCorpusParsePatches(b *testing.B) {
	msgs := corpusDecoded(b)
	runCorpus(b, corpusBytes(msgs), func() {
		for _, m := range msgs {
			for _, p := range m.Parts {
				_, _ = ParsePatches(p)
			}
		}
	})
}

func BenchmarkCorpusPatchIDs(b *testing.B) {
	msgs := corpusDecoded(b)
	runCorpus(b, corpusBytes(msgs), func() {
		for _, m := range msgs {
			for _, p := range m.Parts {
				_ = PatchIDs(p)
			}
		}
	})
}
