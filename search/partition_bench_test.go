package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDateSorted measures the latency of date-sorted (default) and
// relevance-sorted searches for one page of 50 hits over the whole
// io-uring epoch, against the number of hits, the case partitioning by
// time is for:
//
//	PATCHTRAIL_CORPUS=/path go test -run XXX -bench DateSorted -benchtime 20x ./search
//
// PATCHTRAIL_BENCH_COPIES=k indexes the epoch k times as k lists (Message-
// IDs, thread ids, list names and List-Ids made distinct per copy, dates
// kept), an /all/ of k lists over the same years: k=9 gives ~300k
// messages. PATCHTRAIL_BENCH_INDEX=dir keeps the index between runs
// (rebuilt when it does not open, e.g. after a schema change);
// PATCHTRAIL_BENCH_SPAN sets the partition span of a new one. Besides
// the wall time (p50, max) it reports the process CPU time per search,
// the steadier figure on a loaded machine.
func BenchmarkDateSorted(b *testing.B) {
	copies, _ := strconv.Atoi(os.Getenv("PATCHTRAIL_BENCH_COPIES"))
	copies = max(copies, 1)
	dir := os.Getenv("PATCHTRAIL_BENCH_INDEX")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "ix")
	}
	ix, err := Open(dir, &Options{ReadOnly: true, CacheEntries: -1})
	if err != nil {
		os.RemoveAll(dir)
		docs, _ := corpusDocs(b, 0)
		// A Message-ID the epoch reuses with another Date: the store
		// gives the later message a generated id; here the last one
		// wins, as it did in one index of all time, so that every
		// layout holds the same documents.
		last := make(map[string]int, len(docs))
		for i, d := range docs {
			last[d.MessageID] = i
		}
		kept := docs[:0]
		for i, d := range docs {
			if last[d.MessageID] == i {
				kept = append(kept, d)
			}
		}
		docs = kept
		w, err := Open(dir, &Options{NoSync: true, Span: os.Getenv("PATCHTRAIL_BENCH_SPAN")})
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuTime()
		for k := 0; k < copies; k++ {
			indexAll(b, w, copyDocs(docs, k), 2000)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("indexed %d copies of %d messages in %v (%v CPU), %.0f MB", copies, len(docs),
			time.Since(start).Round(time.Second), (cpuTime() - cpu0).Round(time.Second), float64(dirSize(dir))/1e6)
		if ix, err = Open(dir, &Options{ReadOnly: true, CacheEntries: -1}); err != nil {
			b.Fatal(err)
		}
	}
	defer ix.Close()
	n, _ := ix.DocCount()
	b.Logf("index %s: %d documents", dir, n)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	queries := []string{
		"s:fix", "c:linux-block@vger.kernel.org", "d:2020..", "d:2020..2021", "io_uring", "f:axboe",
		"s:PATCH", "b:leak", "s:ublk", "s:liburing AND s:test", "t:io-uring@vger.kernel.org", "mid:nothing-at-all",
	}
	type variant struct {
		name string
		o    SearchOptions
	}
	variants := []variant{
		{"date", SearchOptions{Limit: 50}},
		{"date/threads", SearchOptions{Limit: 50, Threads: true}},
		{"date/offset=200", SearchOptions{Limit: 50, Offset: 200}},
		{"relevance", SearchOptions{Limit: 50, Sort: SortRelevance}},
	}
	// PATCHTRAIL_BENCH_QUERIES=file: these queries (one a line, such as
	// the 40 of .ci/bench.sh search), first page by date only, as the
	// search page of /all/ asks for them.
	if f := os.Getenv("PATCHTRAIL_BENCH_QUERIES"); f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		queries = nil
		for _, l := range strings.Split(string(raw), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				queries = append(queries, l)
			}
		}
		variants = variants[:1]
	}
	for _, q := range queries {
		for _, v := range variants {
			o := v.o
			o.Now = now
			r, err := ix.Search(ctx, q, &o)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%s", q, v.name), func(b *testing.B) {
				var ds []time.Duration
				cpu0 := cpuTime()
				for b.Loop() {
					t0 := time.Now()
					if _, err := ix.Search(ctx, q, &o); err != nil {
						b.Fatal(err)
					}
					ds = append(ds, time.Since(t0))
				}
				cpu := cpuTime() - cpu0
				slices.Sort(ds)
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
				b.ReportMetric(float64(r.Total), "hits")
				b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms")
			})
		}
	}
}

// copyDocs returns copy k of docs as another list's messages (k=0: docs
// themselves).
func copyDocs(docs []*Doc, k int) []*Doc {
	if k == 0 {
		return docs
	}
	out := make([]*Doc, len(docs))
	p := fmt.Sprintf("c%d.", k)
	for i, d := range docs {
		c := *d
		c.MessageID = p + d.MessageID
		c.MessageIDs = nil
		for _, id := range d.MessageIDs {
			c.MessageIDs = append(c.MessageIDs, p+id)
		}
		if d.ThreadID != "" {
			c.ThreadID = p + d.ThreadID
		}
		c.Lists = nil
		for _, l := range d.Lists {
			c.Lists = append(c.Lists, p+l)
		}
		c.ListIDs = nil
		for _, l := range d.ListIDs {
			c.ListIDs = append(c.ListIDs, p+l)
		}
		out[i] = &c
	}
	return out
}
