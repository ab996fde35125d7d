package api

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"patchtrail/internal/store"
	"patchtrail/search"
)

// BenchmarkLinkedQueries measures what a search costs on a data
// directory with a repository linked (PATCHTRAIL_LINKED_DATA, e.g.
// io-uring with liburing): one page of 50 hits with their links
// (Search, Hits, LinkHits), result cache off, for message queries beside
// the same queries reaching commits or filtered by link state:
//
//	PATCHTRAIL_LINKED_DATA=DATA go test -run '^$' -bench LinkedQueries -benchtime 20x ./api
func BenchmarkLinkedQueries(b *testing.B) {
	data := os.Getenv("PATCHTRAIL_LINKED_DATA")
	if data == "" {
		b.Skip("set PATCHTRAIL_LINKED_DATA to a data directory with a repository linked and indexed")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, data, &store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ix, err := search.Open(filepath.Join(data, "index"), &search.Options{ReadOnly: true, CacheEntries: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	for _, q := range []string{"s:sqpoll", "b:leak", "dfn:io_uring/net.c", "f:axboe@kernel.dk"} {
		for _, v := range []struct{ name, q string }{
			{"message", q},
			{"commit", "is:commit " + q},
			{"both", "(is:commit OR is:message) " + q},
			{"applied", "is:applied " + q},
			{"unapplied", "is:unapplied " + q},
		} {
			b.Run(v.name+"/"+q, func(b *testing.B) {
				var total uint64
				var hits, links int
				for b.Loop() {
					res, err := ix.Search(ctx, v.q, &search.SearchOptions{Limit: 50})
					if err != nil {
						b.Fatal(err)
					}
					hs := Hits(res.Hits)
					if err := LinkHits(ctx, st, hs); err != nil {
						b.Fatal(err)
					}
					total, hits, links = res.Total, len(hs), 0
					for _, h := range hs {
						links += len(h.Commits) + len(h.Postings)
					}
				}
				b.ReportMetric(float64(total), "matches")
				b.ReportMetric(float64(hits), "hits")
				b.ReportMetric(float64(links), "links")
			})
		}
	}
}
