package search_test

import (
	"context"
	"os"
	"testing"

	"patchtrail/search"
)

// BenchmarkMixedQueries measures message queries beside the same queries
// reaching commits too, on a real index (PATCHTRAIL_BENCH_INDEX: the
// index directory of a data directory with a repository linked, e.g.
// io-uring with liburing), result cache off:
//
//	PATCHTRAIL_BENCH_INDEX=DATA/index go test -run '^$' -bench MixedQueries -benchtime 20x ./search
func BenchmarkMixedQueries(b *testing.B) {
	dir := os.Getenv("PATCHTRAIL_BENCH_INDEX")
	if dir == "" {
		b.Skip("set PATCHTRAIL_BENCH_INDEX to the index directory of a data directory with commits")
	}
	ix, err := search.Open(dir, &search.Options{ReadOnly: true, CacheEntries: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	for _, q := range []string{"s:sqpoll", "b:leak", "f:axboe@kernel.dk", "dfn:io_uring/net.c", "d:2023-01-01..2023-12-31", "io_uring"} {
		for _, v := range []struct{ name, q string }{
			{"message", q},
			{"mixed", "(is:commit OR is:message) " + q},
			{"commit", "is:commit " + q},
		} {
			b.Run(v.name+"/"+q, func(b *testing.B) {
				for b.Loop() {
					if _, err := ix.Search(ctx, v.q, &search.SearchOptions{Limit: 50}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
