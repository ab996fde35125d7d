package indexer

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/store"
)

func sample(name string) string { return filepath.Join("..", "testdata", "sample", name) }

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func importOK(t *testing.T, st *store.Store, src string, opts *Options) *Result {
	t.Helper()
	res, err := Import(context.Background(), st, src, opts)
	if err != nil {
		t.Fatalf("Import(%s): %v", src, err)
	}
	return res
}

// ids lists the stored messages as "message-id content-hash".
func ids(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT message_id, hex(content_hash) FROM messages ORDER BY message_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, b string
		rows.Scan(&a, &b)
		out = append(out, a+" "+b)
	}
	return out
}

func TestImportSample(t *testing.T) {
	st := openStore(t)
	res := importOK(t, st, sample("sample.mbox"), nil)
	// 73 messages: one exact duplicate; the same Message-ID with other
	// content is kept under a generated id.
	if res.Read != 73 || res.Added != 72 || res.Duplicates != 1 || res.Rejected != 0 {
		t.Fatalf("first import = %+v, want 73 read, 72 added, 1 duplicate", res)
	}
	if res.List != "io-uring" {
		t.Errorf("list = %q, want io-uring (from List-Id)", res.List)
	}
	again := importOK(t, st, sample("sample.mbox"), nil)
	if again.Read != 0 || again.Added != 0 {
		t.Errorf("second import = %+v, want nothing read or added", again)
	}
	want := ids(t, st)
	// Compressed copies give the same store.
	for _, name := range []string{"sample.mbox.gz", "sample.mbox.xz", "sample.mbox.zst"} {
		st2 := openStore(t)
		importOK(t, st2, sample(name), nil)
		if diff := cmp.Diff(want, ids(t, st2)); diff != "" {
			t.Errorf("%s: stored messages differ from the plain mbox (-plain +%s):\n%s", name, name, diff)
		}
	}
	// The same archive on a second list: no new message, two memberships.
	res2 := importOK(t, st, sample("sample.mbox.gz"), &Options{List: "mirror"})
	if res2.Added != 0 || res2.Duplicates != 73 {
		t.Errorf("second list import = %+v, want every message a duplicate", res2)
	}
	m, err := st.MessageByID(context.Background(), "20240205230000.310306-1-dave@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"io-uring", "mirror"}, m.Lists); diff != "" {
		t.Errorf("lists (-want +got):\n%s", diff)
	}
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Messages != 72 || s.Lists != 2 {
		t.Errorf("stats = %+v, want 72 messages on 2 lists", s)
	}
}

func TestImportMaildir(t *testing.T) {
	st := openStore(t)
	// Work on a copy: a Maildir is read in place.
	dir := filepath.Join(t.TempDir(), "md")
	copyDir(t, sample("maildir"), dir)
	res := importOK(t, st, dir, &Options{List: "io-uring"})
	if res.Added != 5 {
		t.Fatalf("maildir import = %+v, want 5 added", res)
	}
	// A new message delivered later is the only one read next time.
	msg := "From: Zed <zed@example.org>\nMessage-ID: <late@example.org>\nSubject: late\nDate: Mon, 1 Apr 2024 10:00:00 +0000\n\nhello\n"
	if err := os.WriteFile(filepath.Join(dir, "new", "1700000000.M1P1.host"), []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	res = importOK(t, st, dir, &Options{List: "io-uring"})
	if res.Read != 1 || res.Added != 1 {
		t.Errorf("incremental maildir import = %+v, want exactly the new message", res)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestImportMalformed(t *testing.T) {
	dir := filepath.Join("..", "testdata", "malformed")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f.Name(), func(t *testing.T) {
			st := openStore(t)
			res, err := Import(context.Background(), st, filepath.Join(dir, f.Name()), &Options{List: "bad"})
			if err != nil {
				t.Fatalf("import stopped: %v", err)
			}
			if res.Read == 0 {
				t.Fatalf("nothing read: %+v", res)
			}
			probs, err := st.SourceProblems(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected != len(probs) {
				t.Errorf("%d rejected but %d source problems recorded", res.Rejected, len(probs))
			}
			for _, p := range probs {
				// A rejected item names the file and its position.
				if !strings.Contains(p.Location, f.Name()) || !strings.Contains(p.Location, "offset") {
					t.Errorf("problem location %q does not name file and offset", p.Location)
				}
			}
			if f.Name() == "garbage.bin" && res.Rejected == 0 {
				t.Errorf("garbage.bin: nothing rejected: %+v", res)
			}
		})
	}
}

func TestImportHugeMessage(t *testing.T) {
	var b strings.Builder
	b.WriteString("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: a@example.org\nMessage-ID: <huge@example.org>\nSubject: huge\n\n")
	line := strings.Repeat("x", 99) + "\n"
	for b.Len() < 20<<20 {
		b.WriteString(line)
	}
	b.WriteString("\nFrom mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: a@example.org\nMessage-ID: <after@example.org>\nSubject: after\n\nsmall\n")
	path := filepath.Join(t.TempDir(), "huge.mbox")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	res := importOK(t, st, path, nil)
	if res.Added != 2 {
		t.Fatalf("huge import = %+v, want 2 added", res)
	}
	m, err := st.MessageByID(context.Background(), "huge@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if m.Size < 20<<20 {
		t.Errorf("size = %d, want the whole 20 MB", m.Size)
	}
}

func TestSeriesOfSample(t *testing.T) {
	st := openStore(t)
	importOK(t, st, sample("sample.mbox"), nil)
	ctx := context.Background()
	v1 := seriesByMID(t, st, "20240115090002.310051-2-alice@example.org")
	v2 := seriesByMID(t, st, "20240201083002.310221-2-alice@example.org")
	if v1.ID == v2.ID || v1.Version != 1 || v2.Version != 2 || v1.Total != 3 {
		t.Fatalf("v1 = %+v, v2 = %+v: want two series of 3, versions 1 and 2", v1, v2)
	}
	if v1.Chain != v2.Chain {
		t.Errorf("v1 and v2 are not in one version chain: %d vs %d", v1.Chain, v2.Chain)
	}
	if v2.ChangeID == "" {
		t.Errorf("v2 lost its change-id")
	}
	if cover := seriesByMID(t, st, "20240201083000.310187-0-alice@example.org"); cover.ID != v2.ID {
		t.Errorf("cover letter in series %d, patches in %d", cover.ID, v2.ID)
	}
	parts, err := st.SeriesParts(ctx, v2.ID)
	if err != nil {
		t.Fatal(err)
	}
	var counters []int
	for _, p := range parts {
		counters = append(counters, p.Counter)
	}
	if diff := cmp.Diff([]int{0, 1, 2, 3}, counters); diff != "" {
		t.Errorf("v2 parts (-want +got):\n%s", diff)
	}
	// Trailers: given in replies, by Message-ID of the patch or cover.
	trs, err := st.Trailers(ctx, []string{"20240201083002.310221-2-alice@example.org", "20240201083000.310187-0-alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range trs {
		if tr.Kind == "reply" {
			got = append(got, tr.Key+": "+tr.Email)
		}
	}
	sort.Strings(got)
	want := []string{"Acked-by: ivan@example.com", "Reviewed-by: carol@example.com", "Reviewed-by: carol@example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply trailers on v2 2/3 and its cover (-want +got):\n%s", diff)
	}
	// The single fix is a series of one.
	fix := seriesByMID(t, st, "20240205230000.310306-1-dave@example.org")
	if fix.Total != 1 {
		t.Errorf("single patch series total = %d, want 1", fix.Total)
	}
}
