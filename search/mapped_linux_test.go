package search

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// zapResident is the resident size of this process's mappings of .zap
// files under dir, from /proc/self/smaps.
func zapResident(t *testing.T, dir string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	prefix := filepath.Clean(dir) + "/"
	var n int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":"):
			in = len(fs) >= 6 && strings.HasPrefix(fs[5], prefix) && strings.HasSuffix(fs[5], ".zap")
		case in && len(fs) == 3 && fs[0] == "Rss:":
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			n += kb << 10
		}
	}
	return n
}

// writeSpreadIndex writes 800 documents spread over the years into a
// new two-shard index and closes it, returning its directory.
func writeSpreadIndex(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	w, err := Open(dir, &Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := w.Batch()
	for _, d := range spreadDocs(800) {
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReadOnlyBoundsMappedPages checks that a read-only index takes the
// pages of its segment files that opening it and searches touched out of
// the process once they pass Options.MappedBytes, and answers the same
// afterwards (the pages come back from the page cache).
func TestReadOnlyBoundsMappedPages(t *testing.T) {
	dir := writeSpreadIndex(t)
	queries := []string{"ka", "s:lo OR b:mi", `b:"ne ru"`, "d:2020..2023 ta", "f:example.com"}
	search := func(ix *Index) [][]string {
		var out [][]string
		for _, q := range queries {
			for _, o := range []*SearchOptions{{Limit: 200}, {Limit: 50, Sort: SortRelevance}, {Limit: 20, Threads: true}} {
				r, err := ix.Search(context.Background(), q, o)
				if err != nil {
					t.Fatalf("Search(%q): %v", q, err)
				}
				out = append(out, append(ids(r), strconv.FormatUint(r.Total, 10)))
			}
		}
		return out
	}

	// Unbounded: the pages searches touched stay mapped.
	free, err := Open(dir, &Options{ReadOnly: true, MappedBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	opened := zapResident(t, dir)
	want := search(free)
	kept := zapResident(t, dir)
	free.Close()
	if kept == 0 {
		t.Skip("searches left no segment page resident: nothing to bound on this system")
	}

	// Through a relative path (serve --data d): the kernel names the
	// mappings by their absolute path.
	t.Chdir(filepath.Dir(dir))
	ix, err := Open(filepath.Base(dir), &Options{ReadOnly: true, MappedBytes: 1, ResidentBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n := zapResident(t, dir); opened > 0 && n >= opened/2 {
		t.Errorf("%d bytes of segment pages resident after opening with MappedBytes 1, %d unbounded", n, opened)
	}
	for round := 0; round < 2; round++ {
		got := search(ix)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: answers after releasing the mapped pages differ (-want +got):\n%s", round, diff)
		}
		n := zapResident(t, dir)
		t.Logf("round %d: %d bytes of segment pages resident, %d unbounded (%d after opening)", round, n, kept, opened)
		if n >= kept/2 {
			t.Errorf("round %d: %d bytes of segment pages resident with MappedBytes 1, %d unbounded", round, n, kept)
		}
	}
	if ix.pages.Load().releases.Load() == 0 {
		t.Error("no release with MappedBytes 1")
	}

	// With room for the index under ResidentBytes the pages stay
	// mapped; a target the process is already past releases them as
	// MappedBytes alone does.
	for _, tt := range []struct {
		resident int64
		release  bool
	}{{1 << 40, false}, {1, true}} {
		ix, err := Open(dir, &Options{ReadOnly: true, MappedBytes: 1, ResidentBytes: tt.resident})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, search(ix)); diff != "" {
			t.Errorf("ResidentBytes %d: answers differ (-want +got):\n%s", tt.resident, diff)
		}
		if n := ix.pages.Load().releases.Load(); (n > 0) != tt.release {
			t.Errorf("ResidentBytes %d: %d releases, want any: %v", tt.resident, n, tt.release)
		}
		if n := zapResident(t, dir); !tt.release && n < kept/2 {
			t.Errorf("ResidentBytes %d: %d bytes of segment pages resident, %d unbounded", tt.resident, n, kept)
		}
		ix.Close()
	}
}

// TestOpenReleasesPages: a writable index opened with ReleasePages
// holds no more of its segment files' pages than opening it without
// the option and releasing them by hand (what the first batch used to
// do): an import starts without the pages opening touched.
func TestOpenReleasesPages(t *testing.T) {
	dir := writeSpreadIndex(t)
	plain, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	opened := zapResident(t, dir)
	plain.releaseMappedPages()
	released := zapResident(t, dir)
	plain.Close()
	if opened == 0 || released >= opened {
		t.Skipf("opening left %d bytes of segment pages resident, %d after the advice: nothing to release on this system", opened, released)
	}
	ix, err := Open(dir, &Options{ReleasePages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	// scorch's goroutines started by opening may touch a page after the
	// release (one fault maps up to 64 KiB around it): within that of
	// what releasing by hand leaves, where opening alone leaves
	// megabytes.
	if n := zapResident(t, dir); n > released+64<<10 {
		t.Errorf("%d bytes of segment pages resident after opening with ReleasePages, %d released by hand (%d opened)", n, released, opened)
	}
}
