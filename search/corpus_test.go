package search

import (
	"context"
	"io/fs"
	"os"
	"patchtrail/internal/message"
	"patchtrail/internal/testcorpus"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// corpusDocs parses up to limit real messages (0 = all) with the message
// parser and returns their documents and raw size.
func corpusDocs(tb testing.TB, limit int) ([]*Doc, int64) {
	var docs []*Doc
	var size int64
	testcorpus.Messages(tb, func(i int, _ string, raw []byte) {
		if limit > 0 && len(docs) >= limit {
			return
		}
		m, err := message.Parse(raw, nil)
		if err != nil || len(m.IDs) == 0 {
			return
		}
		docs = append(docs, NewDoc(m))
		size += int64(len(raw))
	})
	return docs, size
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestCorpusSmoke indexes the first 1,000 real messages and checks that
// every one is findable by mid: and that typical queries find something.
func TestCorpusSmoke(t *testing.T) {
	docs, _ := corpusDocs(t, 1000)
	ix, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	indexAll(t, ix, docs, 1000)
	ctx := context.Background()
	for i := 0; i < len(docs); i += len(docs)/50 + 1 {
		r, err := ix.Search(ctx, "mid:"+docs[i].MessageID, nil)
		if err != nil || r.Total == 0 {
			t.Errorf("mid:%s: %v, %v", docs[i].MessageID, r, err)
		}
	}
	for _, q := range []string{"s:io_uring", "f:axboe@kernel.dk", "dfn:fs/io_uring.c", "dfb:io_req*", "lid:io-uring.vger.kernel.org", "d:20191201..20200301", "Reviewed-by"} {
		r, err := ix.Search(ctx, q, nil)
		if err != nil || r.Total == 0 {
			t.Errorf("Search(%q) = %v, %v; want hits", q, r, err)
		}
	}
}

// BenchmarkCorpus indexes the whole io-uring epoch (or
// PATCHTRAIL_CORPUS_LIMIT messages) once, logs throughput and index size,
// then measures query latency:
//
//	PATCHTRAIL_CORPUS=/tmp/corpus go test -run XXX -bench Corpus -benchtime 20x ./search
func BenchmarkCorpus(b *testing.B) {
	limit, _ := strconv.Atoi(os.Getenv("PATCHTRAIL_CORPUS_LIMIT"))
	start := time.Now()
	docs, bytes := corpusDocs(b, limit)
	b.Logf("read and parsed %d messages (%.0f MB) in %v", len(docs), float64(bytes)/1e6, time.Since(start).Round(time.Millisecond))
	dir := filepath.Join(b.TempDir(), "ix")
	ix, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	start = time.Now()
	indexAll(b, ix, docs, 2000)
	ix.Close()
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.Logf("indexed %d messages in %v (%.0f docs/s, %.1f MB/s; %.0f docs per CPU-second) into %d shards, %.0f MB on disk",
		len(docs), el.Round(time.Millisecond), float64(len(docs))/el.Seconds(), float64(bytes)/1e6/el.Seconds(),
		float64(len(docs))/cpu.Seconds(), ix.Shards(), float64(dirSize(dir))/1e6)
	if ix, err = Open(dir, &Options{ReadOnly: true}); err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	for _, q := range []string{
		"io_uring", "s:io_uring", "f:axboe@kernel.dk", "dfn:fs/io_uring.c", `"use after free"`,
		"sqpoll OR iopoll", "io_uring -s:re", "dfb:io_req*", "d:20200101..20200201", "nq:Reviewed-by",
	} {
		for _, threads := range []bool{false, true} {
			name := q
			if threads {
				name += "/threads"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := ix.Search(ctx, q, &SearchOptions{Threads: threads}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
