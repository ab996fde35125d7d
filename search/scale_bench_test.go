package search

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkIndexSlice indexes the first 3,000 messages of the io-uring
// epoch (PATCHTRAIL_CORPUS_LIMIT changes the count) once per iteration
// into a fresh index, per shard count and batch size, and reports CPU
// seconds and bytes allocated per message besides the wall time:
//
//	go test -run XXX -bench IndexSlice -benchtime 1x ./search
//
// PATCHTRAIL_BENCH_SHARDS=N measures one shard count only.
func BenchmarkIndexSlice(b *testing.B) {
	limit, _ := strconv.Atoi(os.Getenv("PATCHTRAIL_CORPUS_LIMIT"))
	if limit <= 0 {
		limit = 3000
	}
	docs, _ := corpusDocs(b, limit)
	shards := []int{1, 2}
	if v, err := strconv.Atoi(os.Getenv("PATCHTRAIL_BENCH_SHARDS")); err == nil {
		shards = []int{v}
	}
	for _, sh := range shards {
		for _, batch := range []int{500, 2000} {
			b.Run("shards="+strconv.Itoa(sh)+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				var ms0, ms1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				cpu0 := cpuTime()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					ix, err := Open(filepath.Join(b.TempDir(), "ix"), &Options{Shards: sh})
					if err != nil {
						b.Fatal(err)
					}
					indexAll(b, ix, docs, batch)
					if err := ix.Close(); err != nil {
						b.Fatal(err)
					}
				}
				el, cpu := time.Since(start), cpuTime()-cpu0
				runtime.ReadMemStats(&ms1)
				n := float64(len(docs) * b.N)
				b.ReportMetric(cpu.Seconds()*1e6/n, "cpu-µs/msg")
				b.ReportMetric(el.Seconds()*1e6/n, "wall-µs/msg")
				b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/n, "alloc-B/msg")
				b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/msg")
				b.ReportMetric(float64(ms1.NumGC-ms0.NumGC), "gcs")
			})
		}
	}
}
