package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"patchtrail/search"
)

// TestSearchNoSilentCap: --json and --mbox print every hit up to --limit
// (0 or no --limit = all), and the JSON states the total.
func TestSearchNoSilentCap(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	const q = "d:2000-01-01..2100-01-01"
	var all struct {
		Total int               `json:"total"`
		Hits  []json.RawMessage `json:"hits"`
		Query string            `json:"query"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "search", "--json", "--limit", "0", q)), &all); err != nil {
		t.Fatal(err)
	}
	if all.Total < 3 || len(all.Hits) != all.Total || all.Query != q {
		t.Fatalf("--json --limit 0: total %d, %d hits, query %q; want every hit", all.Total, len(all.Hits), all.Query)
	}
	mb := pt(t, data, "search", "--mbox", q) // all by default
	if n := strings.Count("\n"+mb, "\nFrom "); n != all.Total {
		t.Errorf("--mbox --limit 0: %d messages, want %d", n, all.Total)
	}
	var two struct {
		Total int               `json:"total"`
		Hits  []json.RawMessage `json:"hits"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "search", "--json", "--limit", "2", q)), &two); err != nil {
		t.Fatal(err)
	}
	if two.Total != all.Total || len(two.Hits) != 2 {
		t.Errorf("--json --limit 2: total %d, %d hits; want %d, 2", two.Total, len(two.Hits), all.Total)
	}
	if n := strings.Count("\n"+pt(t, data, "search", "--mbox", "--limit", "2", q), "\nFrom "); n != 2 {
		t.Errorf("--mbox --limit 2: %d messages, want 2", n)
	}
	if got := pt(t, data, "search", q); !strings.HasPrefix(got, fmt.Sprintf("%d results\n", all.Total)) || strings.Count(got, "\n") != 21 {
		t.Errorf("listing: want %d results and 20 lines, got\n%s", all.Total, got)
	}
}

// TestCompactCommand: `compact` merges the index's segments without
// changing an answer, and says how many segments there were and are.
func TestCompactCommand(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	pt(t, data, "reindex", "--span", "month")
	queries := []string{"s:PATCH", "b:io_uring", "d:2024-02-01..2024-03-01", "f:axboe"}
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = untimed(pt(t, data, "search", "--json", "--limit", "0", q))
	}
	out := pt(t, data, "compact")
	var before, after int
	if _, err := fmt.Sscanf(out, "compacted the search index from %d segments to %d in", &before, &after); err != nil {
		t.Fatalf("compact printed %q: %v", out, err)
	}
	if after < 1 || after > before {
		t.Errorf("compact: %d segments to %d", before, after)
	}
	for i, q := range queries {
		if got := untimed(pt(t, data, "search", "--json", "--limit", "0", q)); got != want[i] {
			t.Errorf("%s after compact:\n%s\nwant\n%s", q, got, want[i])
		}
	}
}

// TestReindexWithinBudget rebuilds the index with a small memory budget
// (batches of 1 MiB, merged segments capped at 1,024 documents, as an
// import with that budget writes them) and checks that it answers as
// the index the import wrote; a budget under 64 MiB is refused by
// reindex and compact alike.
func TestReindexWithinBudget(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	queries := []string{"s:PATCH", "b:io_uring", "d:2024-02-01..2024-03-01", "f:axboe"}
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = untimed(pt(t, data, "search", "--json", "--limit", "0", q))
	}
	out := pt(t, data, "reindex", "--memory", "64")
	if !strings.HasPrefix(out, "indexed ") {
		t.Fatalf("reindex printed %q", out)
	}
	for i, q := range queries {
		if got := untimed(pt(t, data, "search", "--json", "--limit", "0", q)); got != want[i] {
			t.Errorf("%s after reindex --memory 64:\n%s\nwant\n%s", q, got, want[i])
		}
	}
	for _, cmd := range []string{"reindex", "compact"} {
		if _, stderr, err := ptErr(data, cmd, "--memory", "32"); err == nil || !strings.Contains(stderr, "--memory must be at least 64") {
			t.Errorf("%s --memory 32: err %v, stderr %q; want the budget refused", cmd, err, stderr)
		}
	}
}

// untimed drops the "took" member of a JSON answer, the one that differs
// between two runs of the same search.
func untimed(s string) string {
	return tookRE.ReplaceAllString(s, "")
}

var tookRE = regexp.MustCompile(`(?m)^\s*"took": [0-9.e-]+,?\n`)

// TestNoteCompaction checks that an import's notice to run `compact`
// comes when compact would take compactDue segments off the closed
// partitions, and goes once they are compacted.
func TestNoteCompaction(t *testing.T) {
	// Merged segments capped under a batch's documents: each batch stays
	// a segment of its own, as an import's capped segments do.
	ix, err := search.Open(t.TempDir(), &search.Options{Shards: 1, MaxSegmentDocs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	for i := range compactDue + 2 {
		b := ix.Batch()
		for j := range 3 {
			d := &search.Doc{MessageID: fmt.Sprintf("old-%d-%d@example.org", i, j), Subject: "old batch",
				Date: time.Date(2020, 1, 1, i, j, 0, 0, time.UTC)}
			if err := b.Index(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Index(&search.Doc{MessageID: fmt.Sprintf("new-%d@example.org", i), Subject: "new",
			Date: time.Date(2024, 1, 1, i, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Execute(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var logs strings.Builder
	e := &env{log: slog.New(slog.NewTextHandler(&logs, nil))}
	noteCompaction(e, ix)
	if segs, shards, _ := ix.ClosedSegments(); !strings.Contains(logs.String(), "patchtrail compact") {
		t.Errorf("%d segments in %d closed shards: no notice (%q)", segs, shards, logs.String())
	}
	if err := ix.Compact(ctx, &search.CompactOptions{Closed: true}); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	noteCompaction(e, ix)
	if logs.Len() > 0 {
		t.Errorf("after compact: %s", logs.String())
	}
}
