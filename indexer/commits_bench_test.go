package indexer

import (
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"patchtrail/internal/gitrepo"
	"patchtrail/search"
)

// BenchmarkIndexCommitsLiburing indexes the documents of every commit of
// a liburing clone (PATCHTRAIL_LIBURING) into an empty index: in one
// batch, in batches of 500, and in batches of commitChunkBytes of text as
// link writes them.
// cpu-s/op is the process's CPU time (user + sys, the index's background
// work included), the measure that holds on a shared machine:
//
//	PATCHTRAIL_LIBURING=DIR go test -run '^$' -bench IndexCommitsLiburing -benchtime 2x ./indexer
func BenchmarkIndexCommitsLiburing(b *testing.B) {
	repo := os.Getenv("PATCHTRAIL_LIBURING")
	if repo == "" {
		b.Skip("liburing clone absent: set PATCHTRAIL_LIBURING to a clone of https://github.com/axboe/liburing")
	}
	ctx := context.Background()
	lr, err := gitrepo.Log(ctx, repo, &gitrepo.LogOptions{WithDiff: true})
	if err != nil {
		b.Fatal(err)
	}
	var docs []*search.Commit
	for {
		c, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		var files []string
		for _, f := range c.Files {
			files = append(files, f.Path)
		}
		docs = append(docs, &search.Commit{SHA: c.SHA, Repos: []string{"liburing"}, Subject: c.Subject, Body: c.Body,
			Author: search.Address{Name: c.AuthorName, Addr: c.AuthorEmail}, AuthorDate: c.AuthorDate, Files: files,
			Diff: c.Diff, HunkHeaders: c.HunkHeaders, PatchID: c.PatchID})
	}
	lr.Close()
	for _, v := range []struct {
		name  string
		batch int
		bytes int64
	}{{"one-batch", len(docs), 0}, {"batches-of-500", 500, 0}, {"batches-of-4MiB", len(docs), commitChunkBytes}} {
		b.Run(v.name, func(b *testing.B) {
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ix, err := search.Open(b.TempDir(), nil)
				if err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime()
				b.StartTimer()
				bt := ix.Batch()
				var text int64
				for k, c := range docs {
					if k > 0 && k%v.batch == 0 || v.bytes > 0 && text >= v.bytes {
						if err := bt.Execute(ctx); err != nil {
							b.Fatal(err)
						}
						text = 0
					}
					text += int64(len(c.Subject) + len(c.Body) + len(c.Diff))
					if err := bt.Index(search.NewCommitDoc(c)); err != nil {
						b.Fatal(err)
					}
				}
				if err := bt.Execute(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime() - c0
				if err := ix.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(docs)), "commits/op")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the CPU time (user + sys) of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
