package indexer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/link"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// linkFixture is a tiny code repository and the list that discussed it:
// one patch applied (posted with git format-patch, so its patch-id is the
// commit's), one patch never applied (its branch deleted before linking),
// and commits never posted.
type linkFixture struct {
	repo, mbox          string
	initial, fix, quiet string // commit ids
}

func makeLinkFixture(t *testing.T) *linkFixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	f := &linkFixture{repo: filepath.Join(t.TempDir(), "code")}
	day := 0 // each commit is authored a day after the one before
	git := func(args ...string) string {
		t.Helper()
		if args[0] == "commit" {
			day++
		}
		cmd := exec.Command("git", append([]string{"-C", f.repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann Dev", "GIT_AUTHOR_EMAIL=ann@patchtrail.test",
			"GIT_COMMITTER_NAME=Max Maintainer", "GIT_COMMITTER_EMAIL=max@patchtrail.test", "GIT_CONFIG_GLOBAL=/dev/null",
			fmt.Sprintf("GIT_AUTHOR_DATE=2024-01-%02dT10:00:00Z", day), "GIT_COMMITTER_DATE=2024-01-09T10:00:00Z")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(f.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(f.repo, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", name)
	}
	body := "int io_sq_thread(void)\n{\n\tint a = 1;\n\tint b = 2;\n\tint c = 3;\n\tint d = 4;\n\treturn %s(a);\n}\n"
	write("sq.c", strings.Replace(body, "%s", "wakeup_old", 1))
	git("commit", "-q", "-m", "initial import")
	f.initial = git("rev-parse", "HEAD")

	// A patch that is posted and never applied.
	git("checkout", "-q", "-b", "rejected")
	write("other.c", "int unrelated_tweak;\n")
	git("commit", "-q", "-m", "io_uring: unrelated tweak\n\nNobody wanted it.\n\nSigned-off-by: Ann Dev <ann@patchtrail.test>")
	rejected := git("format-patch", "-1", "--stdout", "--add-header=Message-ID: <rejected@patchtrail.test>", "--add-header=To: io-uring@vger.kernel.org")
	git("checkout", "-q", "main")
	git("branch", "-q", "-D", "rejected")

	// The applied patch.
	write("sq.c", strings.Replace(body, "%s", "wakeup_fixed", 1))
	git("commit", "-q", "-m", "io_uring: fix sqpoll wakeup race\n\nThe wakeup raced with the ring's exit.\n\nSigned-off-by: Ann Dev <ann@patchtrail.test>")
	f.fix = git("rev-parse", "HEAD")
	applied := git("format-patch", "-1", "--stdout", "--add-header=Message-ID: <applied@patchtrail.test>", "--add-header=To: io-uring@vger.kernel.org")

	// A commit that never went to the list.
	write("quiet.c", "int quiet_cleanup;\n")
	git("commit", "-q", "-m", "tools: quiet cleanup")
	f.quiet = git("rev-parse", "HEAD")

	reply := "From reviewer@patchtrail.test Mon Jan  1 00:00:00 2024\nFrom: Rita Reviewer <rita@patchtrail.test>\n" +
		"To: io-uring@vger.kernel.org\nSubject: Re: [PATCH] io_uring: fix sqpoll wakeup race\n" +
		"Date: Thu, 04 Jan 2024 12:00:00 +0000\nMessage-ID: <reply@patchtrail.test>\nIn-Reply-To: <applied@patchtrail.test>\n\nLooks good.\n\nReviewed-by: Rita Reviewer <rita@patchtrail.test>\n"
	f.mbox = filepath.Join(t.TempDir(), "list.mbox")
	if err := os.WriteFile(f.mbox, []byte(rejected+"\n\n"+applied+"\n\n"+reply), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// hits runs q and returns its hits as "kind id" (commit ids shortened).
func hits(t *testing.T, ix *search.Index, q string, o *search.SearchOptions) []string {
	t.Helper()
	r, err := ix.Search(context.Background(), q, o)
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	out := []string{}
	for _, h := range r.Hits {
		id := h.MessageID
		if h.Kind == search.KindCommit {
			id = h.SHA[:12]
		}
		out = append(out, h.Kind+" "+id)
	}
	sort.Strings(out)
	return out
}

// TestLinkIndexesCommits: link puts commits in the index and re-indexes
// the messages whose links changed; the commit prefixes and is: filters
// find them, and message-only queries stay message-only.
func TestLinkIndexesCommits(t *testing.T) {
	ctx := context.Background()
	f := makeLinkFixture(t)
	st := openStore(t)
	ix := openIndex(t)
	importOK(t, st, f.mbox, &Options{List: "io-uring", Hooks: []Hook{NewSearchHook(st, ix, nil)}})
	before := hits(t, ix, "s:sqpoll", nil)
	if err := link.AddRepo(ctx, st, "code", f.repo); err != nil {
		t.Fatal(err)
	}
	res, err := link.Link(ctx, st, &link.Options{Hook: NewCommitIndexer(st, ix, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Read != 3 || res[0].Linked != 1 {
		t.Fatalf("link read %d commits, linked %d; want 3, 1", res[0].Read, res[0].Linked)
	}
	for _, q := range []func(context.Context) (int64, error){st.QueueLen, st.CommitQueueLen} {
		if n, err := q(ctx); err != nil || n != 0 {
			t.Errorf("queue holds %d after link (%v), want 0", n, err)
		}
	}
	fix, initial, quiet := "commit "+f.fix[:12], "commit "+f.initial[:12], "commit "+f.quiet[:12]
	applied, rejected, reply := "message applied@patchtrail.test", "message rejected@patchtrail.test", "message reply@patchtrail.test"
	tests := []struct {
		q    string
		o    *search.SearchOptions
		want []string
	}{
		{q: "s:sqpoll", want: before},
		{q: "s:sqpoll", want: []string{applied, reply}},
		{q: "is:commit s:sqpoll", want: []string{fix}},
		{q: "is:commit", want: []string{fix, initial, quiet}},
		{q: "is:commit OR is:message", want: []string{fix, initial, quiet, applied, rejected, reply}},
		{q: "is:message", want: []string{applied, rejected, reply}},
		{q: "is:applied", want: []string{applied}},
		{q: "is:commit is:applied", want: []string{fix}},
		{q: "is:unapplied", want: []string{rejected}},
		{q: "is:offlist", want: []string{initial, quiet}},
		{q: "is:offlist repo:code", want: []string{initial, quiet}},
		{q: "is:offlist repo:other", want: []string{}},
		{q: "commit:" + f.fix[:7], want: []string{applied}},
		{q: "is:commit commit:" + f.fix[:7], want: []string{fix}},
		{q: "is:commit commit:" + f.fix, want: []string{fix}},
		{q: "repo:code", want: []string{applied}},
		{q: "is:commit f:ann@patchtrail.test d:2024-01-01..2024-01-31", want: []string{fix, initial, quiet}},
		{q: "is:commit b:raced", want: []string{fix}},
		{q: "is:commit dfb:wakeup_fixed", want: []string{fix}},
		{q: "is:commit dfa:wakeup_old", want: []string{fix}},
		{q: "is:commit dfhh:io_sq_thread", want: []string{fix}},
		{q: "is:commit dfn:quiet.c", want: []string{quiet}},
		{q: "is:commit NOT is:offlist", want: []string{fix}},
		{q: "is:commit s:sqpoll", o: &search.SearchOptions{MessagesOnly: true}, want: []string{}},
		{q: "is:commit s:sqpoll", o: &search.SearchOptions{List: "io-uring"}, want: []string{fix}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, hits(t, ix, tt.q, tt.o)); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", tt.q, diff)
		}
	}
	r, err := ix.Search(ctx, "is:commit s:sqpoll", nil)
	if err != nil || len(r.Hits) != 1 {
		t.Fatalf("is:commit s:sqpoll: %v, %v", r, err)
	}
	if h := r.Hits[0]; h.SHA != f.fix || h.Subject != "io_uring: fix sqpoll wakeup race" || !cmp.Equal(h.Repos, []string{"code"}) ||
		!strings.Contains(h.From, "ann@patchtrail.test") {
		t.Errorf("commit hit = %+v", h)
	}

	// A CVE record naming the fix: its commit and the posting it was
	// applied from carry the id once the queue is indexed.
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cve := &store.CVERow{ID: "CVE-2024-0001", Title: "io_uring: fix sqpoll wakeup race", FixSHAs: []string{f.fix}}
	if err := tx.PutCVE(cve); err != nil {
		t.Fatal(err)
	}
	if err := tx.EnqueueCVE(cve.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := NewCommitIndexer(st, ix, nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{"cve:CVE-2024-0001": {applied}, "is:commit cve:cve-2024-0001": {fix}, "cve:CVE-2024-0002": {}} {
		if diff := cmp.Diff(want, hits(t, ix, q, nil)); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", q, diff)
		}
	}

	// A crash after the store commits leaves documents queued: a fresh
	// index filled from the queues has the same answers, the diffs read
	// again from the repository.
	ix2 := openIndex(t)
	if err := st.EnqueueAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueAllCommits(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := DrainWithProgress(ctx, st, ix2, 0, nil); err != nil || n != 6 {
		t.Fatalf("DrainWithProgress = %d, %v; want 6 documents", n, err)
	}
	for _, tt := range tests[1:] {
		if diff := cmp.Diff(tt.want, hits(t, ix2, tt.q, tt.o)); diff != "" {
			t.Errorf("after a drain: Search(%q) (-want +got):\n%s", tt.q, diff)
		}
	}
}

// TestLinkChangesAfterPrepared: a document prepared beside the link loop
// (a round started by Committed), or also written by the round, is
// indexed as the store has it when Flush runs: links that changed after
// the round show, and the queue is empty after.
func TestLinkChangesAfterPrepared(t *testing.T) {
	ctx := context.Background()
	f := makeLinkFixture(t)
	st := openStore(t)
	ix := openIndex(t)
	importOK(t, st, f.mbox, &Options{List: "io-uring", Hooks: []Hook{NewSearchHook(st, ix, nil)}})
	if err := link.AddRepo(ctx, st, "code", f.repo); err != nil {
		t.Fatal(err)
	}
	if _, err := link.Link(ctx, st, &link.Options{Hook: NewCommitIndexer(st, ix, nil)}); err != nil {
		t.Fatal(err)
	}
	fix, err := st.Commit(ctx, f.fix)
	if err != nil {
		t.Fatal(err)
	}
	links, err := st.CommitLinks(ctx, fix.ID)
	if err != nil || len(links) != 1 {
		t.Fatalf("links of the fix: %v, %v", links, err)
	}
	setLinks := func(ls []store.LinkRow) {
		t.Helper()
		tx, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := tx.SetLinks(fix.ID, ls); err != nil {
			t.Fatal(err)
		}
		if err := tx.EnqueueCommits(fix.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Enqueue(links[0].Message); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	fixHit, applied := "commit "+f.fix[:12], "message applied@patchtrail.test"
	for _, tt := range []struct {
		name          string
		written       bool            // the round writes the commit's document
		before, after []store.LinkRow // links when prepared, when written
		commits       []string        // is:commit is:applied
		messages      []string        // is:applied
	}{
		{"unlinked after", false, links, nil, []string{}, []string{}},
		{"linked again after", false, nil, links, []string{fixHit}, []string{applied}},
		{"written, unlinked after", true, links, nil, []string{}, []string{}},
		{"written, linked again after", true, nil, links, []string{fixHit}, []string{applied}},
	} {
		h := NewCommitIndexer(st, ix, nil)
		if tt.written {
			h.chunkBytes = 1
		}
		setLinks(tt.before)
		if err := h.Committed(ctx); err != nil {
			t.Fatal(err)
		}
		h.rounds.Wait()
		if len(h.commits) != 1 || len(h.messages) != 1 {
			t.Fatalf("%s: the round prepared %d commits and %d messages, want 1 and 1", tt.name, len(h.commits), len(h.messages))
		}
		if p := h.commits[fix.ID]; (p.doc == nil) != tt.written {
			t.Fatalf("%s: the round wrote the commit: %v, want %v", tt.name, p.doc == nil, tt.written)
		}
		if tt.written {
			want := []string{fixHit}
			if tt.before == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, hits(t, ix, "is:commit is:applied", nil)); diff != "" {
				t.Errorf("%s: before Flush: is:commit is:applied (-want +got):\n%s", tt.name, diff)
			}
		}
		setLinks(tt.after)
		if err := h.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if h.Commits != 1 || h.Messages != 1 {
			t.Errorf("%s: indexed %d commits and %d messages, want 1 and 1", tt.name, h.Commits, h.Messages)
		}
		if diff := cmp.Diff(tt.commits, hits(t, ix, "is:commit is:applied", nil)); diff != "" {
			t.Errorf("%s: is:commit is:applied (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.messages, hits(t, ix, "is:applied", nil)); diff != "" {
			t.Errorf("%s: is:applied (-want +got):\n%s", tt.name, diff)
		}
		for _, q := range []func(context.Context) (int64, error){st.QueueLen, st.CommitQueueLen} {
			if n, err := q(ctx); err != nil || n != 0 {
				t.Errorf("%s: queue holds %d after Flush (%v), want 0", tt.name, n, err)
			}
		}
	}
}
