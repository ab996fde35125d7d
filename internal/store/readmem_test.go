package store

import (
	"context"
	"testing"
)

// TestReadOnlyMemoryBounded checks that every connection of a read-only
// store gets its share of the page cache and of the mapped file, so the
// total stays within the bounds whatever the number of connections.
func TestReadOnlyMemoryBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cache int64
	if err := w.db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil || cache != -writerCacheKiB {
		t.Errorf("writer cache_size %d (%v), want %d", cache, err, -writerCacheKiB)
	}
	w.Close()
	for _, tc := range []struct {
		opts            Options
		wantCacheKiB    int64
		wantMmapPerConn int64
	}{
		{Options{ReadOnly: true}, DefaultReadCacheBytes >> 10, DefaultReadMmapBytes},
		{Options{ReadOnly: true, ReadCacheBytes: 8 << 20, ReadMmapBytes: -1}, 8 << 10, 0},
	} {
		r, err := Open(ctx, dir, &tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(readConns())
		conn, err := r.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var mmap int64
		if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		r.Close()
		if want := -max(tc.wantCacheKiB/n, 1<<10); cache != want {
			t.Errorf("%+v: cache_size %d per connection, want %d (%d connections)", tc.opts, cache, want, n)
		}
		if want := tc.wantMmapPerConn / n; mmap != want {
			t.Errorf("%+v: mmap_size %d per connection, want %d (%d connections)", tc.opts, mmap, want, n)
		}
	}
}
