package link

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"patchtrail/internal/store"
)

// BenchmarkLinkLiburing links the whole history of the liburing clone
// named by PATCHTRAIL_LIBURING (every branch, ~3,800 commits): git log
// with diffs, storing, and matching every commit. The store is a copy of
// the data directory PATCHTRAIL_LINK_STORE (the io-uring archive
// imported, so matching meets real postings) or, without it, empty.
func BenchmarkLinkLiburing(b *testing.B) {
	repo := os.Getenv("PATCHTRAIL_LIBURING")
	if repo == "" {
		b.Skip("liburing clone absent: set PATCHTRAIL_LIBURING to a clone of https://github.com/axboe/liburing")
	}
	src := os.Getenv("PATCHTRAIL_LINK_STORE")
	ctx := context.Background()
	var read, linked int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		if src != "" {
			copyStore(b, src, dir)
		}
		st, err := store.Open(ctx, dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		// A new name: an imported store may already hold a linked repo.
		if err := AddRepo(ctx, st, "bench-liburing", repo); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := Link(ctx, st, &Options{Repo: "bench-liburing", IgnoreLinkTrailers: true})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		read, linked = res[0].Read, res[0].Linked
		st.Close()
	}
	b.ReportMetric(float64(read), "commits/op")
	b.ReportMetric(float64(linked), "linked/op")
}

// copyStore copies the database files of data directory src into dst.
func copyStore(b *testing.B, src, dst string) {
	b.Helper()
	for _, name := range []string{"store.db", "store.db-wal"} {
		in, err := os.Open(filepath.Join(src, name))
		if os.IsNotExist(err) && name != "store.db" {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, name))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
