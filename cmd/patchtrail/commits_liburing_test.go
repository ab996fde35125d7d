package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/api"
	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
	"patchtrail/internal/trace"
)

// linkedLiburing returns a data directory holding the io-uring archive,
// indexed, with liburing registered and linked: PATCHTRAIL_LINKED_DATA
// when set (used read-only), else one built here from PATCHTRAIL_CORPUS
// and PATCHTRAIL_LIBURING (import of the epoch, repo add, link: a few
// minutes). Skips when the data is absent.
func linkedLiburing(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("PATCHTRAIL_LINKED_DATA"); d != "" {
		return d
	}
	lib := testcorpus.Liburing(t)
	epoch := testcorpus.Epoch(t)
	if testing.Short() {
		t.Skip("-short: importing and linking the io-uring epoch takes minutes")
	}
	data := filepath.Join(t.TempDir(), "data")
	pt(t, data, "import", "--list", "io-uring", epoch)
	pt(t, data, "repo", "add", "liburing", lib)
	pt(t, data, "link")
	return data
}

type jsonHits struct {
	Total uint64    `json:"total"`
	Hits  []api.Hit `json:"hits"`
}

func searchJSON(t *testing.T, data, q string) jsonHits {
	t.Helper()
	var r jsonHits
	if err := json.Unmarshal([]byte(pt(t, data, "search", "--json", q)), &r); err != nil {
		t.Fatalf("search --json %q: %v", q, err)
	}
	if uint64(len(r.Hits)) != r.Total {
		t.Fatalf("search --json %q: %d hits, total %d", q, len(r.Hits), r.Total)
	}
	return r
}

// TestLiburingCommitSearch: on io-uring with liburing linked, is:commit
// finds liburing commits; every is:applied hit has a commit and every
// is:unapplied hit none, checked against what `commit --json` shows of
// every liburing commit; is:offlist repo:liburing is exactly the commits
// link left without a posting.
func TestLiburingCommitSearch(t *testing.T) {
	data := linkedLiburing(t)
	ctx := context.Background()

	// What `commit --json` says of every liburing commit (the same load
	// and wire conversion, in process: 3,847 child processes would take
	// minutes).
	st, err := store.Open(ctx, data, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	repos, err := st.Repos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var repoID int64
	for _, r := range repos {
		if r.Name == "liburing" {
			repoID = r.ID
		}
	}
	if repoID == 0 {
		t.Fatalf("%s: liburing is not registered", data)
	}
	rows, err := st.RepoCommits(ctx, repoID, false)
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string][]string{} // Message-ID → commits it became
	linked := map[string]bool{}      // Message-IDs linked in any role
	var offlist []string
	for _, row := range rows {
		v, err := trace.LoadCommit(ctx, st, row.SHA)
		if err != nil {
			t.Fatal(err)
		}
		w := api.WireCommit(v)
		if len(w.Links) == 0 {
			offlist = append(offlist, w.SHA)
		}
		for _, l := range w.Links {
			linked[l.MessageID] = true
			if l.Role == "applied" {
				applied[l.MessageID] = append(applied[l.MessageID], w.SHA)
			}
		}
	}
	sort.Strings(offlist)
	t.Logf("%d liburing commits: %d off-list, %d messages applied, %d linked", len(rows), len(offlist), len(applied), len(linked))
	// `commit --json` itself, on a few: the in-process view is what it prints.
	for _, row := range rows[:3] {
		var w api.Commit
		if err := json.Unmarshal([]byte(pt(t, data, "commit", "--json", row.SHA)), &w); err != nil {
			t.Fatal(err)
		}
		v, _ := trace.LoadCommit(ctx, st, row.SHA)
		if len(w.Links) != len(v.Links) || w.SHA != row.SHA {
			t.Errorf("commit --json %s: %d links, in process %d", row.SHA, len(w.Links), len(v.Links))
		}
	}

	// is:commit s:sqpoll: liburing commits about sqpoll.
	r := searchJSON(t, data, "is:commit s:sqpoll")
	if r.Total == 0 {
		t.Fatal("is:commit s:sqpoll found nothing")
	}
	known := map[string]bool{}
	for _, row := range rows {
		known[row.SHA] = true
	}
	for _, h := range r.Hits {
		if h.Kind != "commit" || !known[h.SHA] || h.Repo != "liburing" || !strings.Contains(strings.ToLower(h.Subject), "sqpoll") {
			t.Errorf("is:commit s:sqpoll hit %s %.12s (%s) %q: want a liburing commit about sqpoll", h.Kind, h.SHA, h.Repo, h.Subject)
		}
	}
	t.Logf("is:commit s:sqpoll: %d liburing commits", r.Total)

	// is:applied: exactly the messages some commit was applied from, each
	// hit with its commits.
	r = searchJSON(t, data, "is:applied")
	got := map[string]bool{}
	for _, h := range r.Hits {
		got[h.MessageID] = true
		var shas []string
		for _, c := range h.Commits {
			if c.Role == "applied" {
				shas = append(shas, c.SHA)
			}
		}
		sort.Strings(shas)
		want := append([]string(nil), applied[h.MessageID]...)
		sort.Strings(want)
		if h.Kind != "message" || len(shas) == 0 || !cmp.Equal(shas, want) {
			t.Errorf("is:applied hit <%s>: commits %v, commit --json says %v", h.MessageID, shas, want)
		}
	}
	for mid := range applied {
		if !got[mid] {
			t.Errorf("<%s> became %v but is:applied does not find it", mid, applied[mid])
		}
	}
	t.Logf("is:applied: %d messages", r.Total)

	// is:unapplied: patch mails no commit links to.
	r = searchJSON(t, data, "is:unapplied")
	if r.Total == 0 {
		t.Error("is:unapplied found nothing")
	}
	for _, h := range r.Hits {
		if h.Kind != "message" || len(h.Commits) > 0 || linked[h.MessageID] {
			t.Errorf("is:unapplied hit <%s>: commits %v, linked by a commit: %v", h.MessageID, h.Commits, linked[h.MessageID])
		}
	}
	t.Logf("is:unapplied: %d messages", r.Total)

	// is:offlist repo:liburing: exactly the commits without a posting.
	r = searchJSON(t, data, "is:offlist repo:liburing")
	var shas []string
	for _, h := range r.Hits {
		if h.Kind != "commit" || len(h.Postings) > 0 {
			t.Errorf("is:offlist hit %s %.12s has postings %v", h.Kind, h.SHA, h.Postings)
		}
		shas = append(shas, h.SHA)
	}
	sort.Strings(shas)
	if diff := cmp.Diff(offlist, shas); diff != "" {
		t.Errorf("is:offlist repo:liburing vs commits without links (-commit --json +search):\n%s", diff)
	}
	t.Logf("is:offlist repo:liburing: %d commits", len(shas))
}
