package api

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"patchtrail/indexer"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// TestCommitHits: the JSON API and the results page show commits (with
// kind, sha, repo) for a query that names them; the lore mbox endpoint
// answers with messages only.
func TestCommitHits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "code")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann Dev", "GIT_AUTHOR_EMAIL=ann@patchtrail.test", "GIT_COMMITTER_NAME=Ann Dev",
			"GIT_COMMITTER_EMAIL=ann@patchtrail.test", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_DATE=2024-02-01T10:00:00Z", "GIT_COMMITTER_DATE=2024-02-01T10:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	os.MkdirAll(repo, 0o755)
	git("init", "-q")
	os.WriteFile(filepath.Join(repo, "sq.c"), []byte("int sqpoll_quiet;\n"), 0o644)
	git("add", "sq.c")
	git("commit", "-q", "-m", "io_uring: quiet sqpoll tweak never posted")

	dir := t.TempDir()
	if err := importData(ctx, dir, samplePath); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := search.Open(filepath.Join(dir, "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := link.AddRepo(ctx, st, "code", repo); err == nil {
		_, err = link.Link(ctx, st, &link.Options{Hook: indexer.NewCommitIndexer(st, ix, nil)})
	}
	ix.Close()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	rst, rix, err := openData(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	defer rix.Close()
	base := newServerFor(t, New(rst, rix, &Options{Logger: testLogger(t)}))

	var p SearchPage
	getJSON(t, base+"/api/v1/search?q="+url.QueryEscape("is:offlist s:sqpoll"), &p)
	if p.Total != 1 || len(p.Hits) != 1 {
		t.Fatalf("is:offlist s:sqpoll: %+v", p)
	}
	if h := p.Hits[0]; h.Kind != "commit" || len(h.SHA) != 40 || h.Repo != "code" || h.MessageID != "" || len(h.Postings) != 0 ||
		h.URL != "/_/commit/"+h.SHA {
		t.Errorf("commit hit = %+v", h)
	}
	getJSON(t, base+"/api/v1/search?q="+url.QueryEscape("s:sqpoll"), &p)
	for _, h := range p.Hits {
		if h.Kind != "message" || h.MessageID == "" {
			t.Errorf("s:sqpoll hit %+v: want messages only", h)
		}
	}
	if p.Total == 0 {
		t.Error("s:sqpoll found no message in the sample")
	}

	page := do(t, http.MethodGet, base+"/all/?q="+url.QueryEscape("is:commit s:sqpoll"), "")
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "not posted (off-list)") ||
		!strings.Contains(string(page.Body), "io_uring: quiet sqpoll tweak never posted") {
		t.Errorf("results page: %d\n%s", page.Status, page.Body)
	}

	// lore's x=m: messages only, whatever the query says.
	r := do(t, http.MethodPost, base+"/all/?x=m&q="+url.QueryEscape("is:commit OR s:sqpoll"), "z=1")
	if mids := mboxMIDs(gunzip(t, r.Body)); len(mids) == 0 || len(mids) != int(p.Total) {
		t.Errorf("x=m is:commit OR s:sqpoll: %d messages, want the %d of s:sqpoll", len(mids), p.Total)
	}
}
