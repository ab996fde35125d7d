package link

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"patchtrail/internal/cve"
	"patchtrail/internal/store"
)

// TestCVEImportDates: publication dates come from the git history of a
// clone, or from a dates file that wins over it; a changed date updates
// an otherwise unchanged record.
func TestCVEImportDates(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	root := writeVulns(t, map[string]string{"CVE-2024-1000.json": cveJSON})
	const when = "2024-03-01T10:00:00+01:00"
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "add"}} {
		cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.org", "GIT_AUTHOR_DATE="+when, "GIT_COMMITTER_DATE="+when)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	st := newStore(t)
	res, err := ImportCVEs(ctx, st, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.CVE(ctx, "CVE-2024-1000")
	if err != nil {
		t.Fatal(err)
	}
	if res.DateSource != "git" || res.Dated != 1 || !rec.Published.Equal(time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("import from a clone: %+v, published %v", res, rec.Published)
	}
	if res, err = ImportCVEs(ctx, st, root, nil); err != nil || res.Unchanged != 1 {
		t.Errorf("second import = %+v, %v; want 1 unchanged", res, err)
	}
	other := time.Date(2024, 2, 27, 0, 0, 0, 0, time.UTC)
	if res, err = ImportCVEs(ctx, st, root, &CVEOptions{Published: cve.Published{"CVE-2024-1000": other}}); err != nil || res.Updated != 1 || res.DateSource != "file" {
		t.Errorf("import with a dates file = %+v, %v; want 1 updated", res, err)
	}
	if rec, _ = st.CVE(ctx, "CVE-2024-1000"); !rec.Published.Equal(other) {
		t.Errorf("published %v after the dates file, want %v", rec.Published, other)
	}
}

// TestPreferOriginal: a re-sent copy stored under a generated
// Message-ID does not win over the original (CVE-2025-23154: v1, v2, v2
// re-sent).
func TestPreferOriginal(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 12, 0, 0, 0, time.UTC) }
	cand := func(mid string, v, d int) *Posting {
		c := &store.PatchCandidate{MessageID: mid}
		c.Version, c.Date, c.Author = v, day(d), "asml.silence@gmail.com"
		return &Posting{PatchCandidate: c}
	}
	v1, v2 := cand("v1@gmail.com", 1, 26), cand("v2@gmail.com", 2, 27)
	resent := cand(store.GeneratedID([32]byte{1}), 2, 28)
	other := cand("other@example.org", 2, 27)
	other.Author = "someone@example.org"
	found := &Postings{Final: resent, Earlier: []*Posting{v1, v2}, Rejected: []*Posting{other}}
	PreferOriginal(found)
	if found.Final != v2 || len(found.Earlier) != 1 || found.Earlier[0] != v1 || len(found.Rejected) != 2 || found.Rejected[1] != resent {
		t.Errorf("PreferOriginal: final %s, earlier %d, rejected %d", found.Final.MessageID, len(found.Earlier), len(found.Rejected))
	}
	// Without an original, the copy stays.
	found = &Postings{Final: resent, Rejected: []*Posting{other}}
	PreferOriginal(found)
	if found.Final != resent {
		t.Errorf("PreferOriginal without an original chose %s", found.Final.MessageID)
	}
}
