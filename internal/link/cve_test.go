package link

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
)

// writeVulns writes a small vulns repository: files maps
// "CVE-2024-1000.json" and the like to their contents.
func writeVulns(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "cve", "published", "2024")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const cveJSON = `{"dataType":"CVE_RECORD","dataVersion":"5.1",
 "cveMetadata":{"cveId":"CVE-2024-1000","state":"PUBLISHED"},
 "containers":{"cna":{"title":"io_uring: fix use-after-free in io_rw_done()",
  "descriptions":[{"lang":"en","value":"In the Linux kernel, the following vulnerability has been resolved: ..."}],
  "affected":[{"product":"Linux","vendor":"Linux","programFiles":["io_uring/rw.c"],
   "versions":[{"version":"1111111111111111111111111111111111111111","lessThan":"8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809","status":"affected","versionType":"git"}]}],
  "references":[{"url":"https://git.kernel.org/stable/c/8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809"}]}}}`

func TestCVEImport(t *testing.T) {
	root := writeVulns(t, map[string]string{
		"CVE-2024-1000.json": cveJSON,
		"CVE-2024-1000.sha1": "8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809\n",
		"CVE-2024-1000.dyad": "# dyad\n6.1:1111111111111111111111111111111111111111:6.1.80:2222222222222222222222222222222222222222\n6.1:1111111111111111111111111111111111111111:6.8:8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809\n",
		"CVE-2024-1001.json": `{"cveMetadata": `,
	})
	st := importSample(t)
	ctx := context.Background()
	res, err := ImportCVEs(ctx, st, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || res.Unchanged != 0 || len(res.Malformed) != 1 {
		t.Errorf("first import: %+v, want 1 added, 1 malformed", res)
	}
	if res, err = ImportCVEs(ctx, st, root, nil); err != nil || res.Added != 0 || res.Updated != 0 || res.Unchanged != 1 || len(res.Malformed) != 1 {
		t.Errorf("second import: %+v, %v; want 1 unchanged, 1 malformed", res, err)
	}
	// A changed record is read again.
	if err := os.WriteFile(filepath.Join(root, "cve/published/2024/CVE-2024-1000.vulnerable"), []byte("1111111111111111111111111111111111111111\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err = ImportCVEs(ctx, st, root, nil); err != nil || res.Updated != 1 {
		t.Errorf("after a change: %+v, %v; want 1 updated", res, err)
	}
	c, err := st.CVE(ctx, "CVE-2024-1000")
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.NormTitle, c.FixSHAs, c.IntroducedSHAs, len(c.Backports), c.Files}
	want := []any{"io_uring: fix use-after-free in io_rw_done()", []string{"8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809"},
		[]string{"1111111111111111111111111111111111111111"}, 2, []string{"io_uring/rw.c"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored CVE (-want +got):\n%s", diff)
	}
	ids, err := st.CVEsOfCommit(ctx, "2222222222222222222222222222222222222222")
	if err != nil || !cmp.Equal(ids, map[string]string{"CVE-2024-1000": "backport"}) {
		t.Errorf("CVEsOfCommit(backport) = %v, %v", ids, err)
	}
}

func TestFindPostings(t *testing.T) {
	st := importSample(t)
	ctx := context.Background()
	// Stable backport postings are told apart by their body too.
	if err := scanBackportPostings(ctx, st); err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	type result struct {
		Final              string
		Earlier, Backports []string
	}
	mids := func(ps []*Posting) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.MessageID)
		}
		return out
	}
	tests := []struct {
		name string
		q    PostingQuery
		want result
	}{
		{"fix with its backport", PostingQuery{Subject: "io_uring: fix use-after-free in io_rw_done()", Files: []string{"io_uring/rw.c"}},
			result{Final: midFix, Backports: []string{midFix61}}},
		{"versions", PostingQuery{Subject: "io_uring/net: reject unknown flags in io_send_prep()"},
			result{Final: midV2p2, Earlier: []string{midV1p2}}},
		{"posted after the bound", PostingQuery{Subject: "io_uring/net: reject unknown flags in io_send_prep()", Before: day("2024-01-20")},
			result{Final: midV1p2}},
		{"other files", PostingQuery{Subject: "io_uring: fix use-after-free in io_rw_done()", Files: []string{"fs/other.c"}},
			result{Backports: []string{midFix61}}},
		{"unknown subject", PostingQuery{Subject: "io_uring: nothing like this"}, result{}},
	}
	for _, tt := range tests {
		p, err := FindPostings(ctx, st, &tt.q)
		if err != nil {
			t.Fatal(err)
		}
		got := result{Earlier: mids(p.Earlier), Backports: mids(p.Backports)}
		if p.Final != nil {
			got.Final = p.Final.MessageID
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestBareVersionTags pins that "[PATCH 5.12]" (the release a mainline
// patch is meant for) is a posting of the fix, while "[PATCH 5.10]" with
// "commit <sha> upstream." in its body is a backport.
func TestBareVersionTags(t *testing.T) {
	mail := func(id, subject, body string) string {
		return "From x@example.org Mon Jan  1 00:00:00 2024\nFrom: Pat Sender <pat@example.org>\nTo: io-uring@example.org\n" +
			"Subject: " + subject + "\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <" + id + ">\n\n" + body +
			"---\ndiff --git a/io_uring/rw.c b/io_uring/rw.c\nindex 1111111..2222222 100644\n--- a/io_uring/rw.c\n+++ b/io_uring/rw.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\n"
	}
	mbox := mail("mainline@example.org", "[PATCH 5.12] io_uring: fix the thing", "Fix it.\n\nSigned-off-by: Pat Sender <pat@example.org>\n") +
		mail("stable@example.org", "[PATCH 5.10] io_uring: fix the thing", "commit 3333333333333333333333333333333333333333 upstream.\n\nFix it.\n")
	path := filepath.Join(t.TempDir(), "bare.mbox")
	if err := os.WriteFile(path, []byte(mbox), 0o644); err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	ctx := context.Background()
	if _, err := indexer.Import(ctx, st, path, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	if err := scanBackportPostings(ctx, st); err != nil {
		t.Fatal(err)
	}
	p, err := FindPostings(ctx, st, &PostingQuery{Subject: "io_uring: fix the thing"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Final == nil || p.Final.MessageID != "mainline@example.org" || len(p.Backports) != 1 || p.Backports[0].MessageID != "stable@example.org" {
		t.Errorf("FindPostings: final %v, backports %v; want <mainline@example.org>, [<stable@example.org>]", p.Final, p.Backports)
	}
}
