package search_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/patch"
	"patchtrail/search"
)

// commitTwinMessages are patch mails and replies over the prefixes of the
// parity queries; each patch mail gets a commit twin with the same
// subject, author, date, message and diff.
var commitTwinMessages = []struct {
	mid, subject, from, body string
	date                     string
}{
	{"p1@kernel.dk", "[PATCH] io_uring: fix sqpoll wakeup race (use after free)", "Jens Axboe <axboe@kernel.dk>",
		"The sqpoll thread fixed a use-after-free and a memory leak.\n\nSigned-off-by: Jens Axboe <axboe@kernel.dk>\n---\n" +
			"diff --git a/io_uring/sqpoll.c b/io_uring/sqpoll.c\nindex 1eadbeef..3c1e2b9a 100644\n--- a/io_uring/sqpoll.c\n+++ b/io_uring/sqpoll.c\n" +
			"@@ -10,3 +10,3 @@ static int io_sq_thread(void *data)\n \tint a;\n-\tspin_lock(&ctx->lock);\n+\tio_req_task_work_add(req);\n \treturn 0;\n",
		"2023-05-02 10:00"},
	{"p2@gmail.com", "[PATCH v2 2/3] io_uring/net: zero-copy send completion polling", "Pavel Begunkov <asml.silence@gmail.com>",
		"Fixes the buffers of IORING_OP_SEND_ZC; doesn't leak.\n---\n" +
			"diff --git a/io_uring/net.c b/io_uring/net.c\n--- a/io_uring/net.c\n+++ b/io_uring/net.c\n" +
			"@@ -1,2 +1,2 @@ int io_send_zc(struct io_kiocb *req)\n-\told_buffers();\n+\tnew_buffers();\n",
		"2023-06-03 11:00"},
	{"r1@kernel.dk", "Re: [PATCH] io_uring: fix sqpoll wakeup race (use after free)", "Jens Axboe <axboe@kernel.dk>",
		"> The sqpoll thread fixed a use-after-free\n\nApplied, thanks. Regression fixed in 5.15.\n", "2023-05-03 09:00"},
}

func twinIndexes(t *testing.T) (messages, mixed *search.Index) {
	t.Helper()
	ctx := context.Background()
	open := func(withCommits bool) *search.Index {
		ix, err := search.Open(t.TempDir(), &search.Options{Shards: 2, CacheEntries: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		b := ix.Batch()
		for i, m := range commitTwinMessages {
			date, _ := time.Parse("2006-01-02 15:04", m.date)
			name, addr, _ := strings.Cut(strings.TrimSuffix(m.from, ">"), " <")
			from := search.Address{Name: name, Addr: addr}
			d := &search.Doc{MessageID: m.mid, ThreadID: fmt.Sprint(i), Lists: []string{"io-uring"}, ListIDs: []string{"io-uring.vger.kernel.org"},
				Subject: m.subject, From: []search.Address{from}, Date: date, Size: int64(len(m.body))}
			d.AddBodyText(m.body)
			if id, err := patch.PatchID(m.body); err == nil {
				d.PatchIDs = []string{id}
			}
			if err := b.Index(d); err != nil {
				t.Fatal(err)
			}
			msg, diff, ok := strings.Cut(m.body, "---\n")
			if !withCommits || !ok {
				continue
			}
			var lines, hunks []string
			for _, l := range strings.Split(diff, "\n") {
				switch {
				case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "):
				case strings.HasPrefix(l, "+"), strings.HasPrefix(l, "-"):
					lines = append(lines, l)
				case strings.HasPrefix(l, "@@ "):
					_, h, _ := strings.Cut(l[3:], "@@ ")
					hunks = append(hunks, h)
				}
			}
			c := &search.Commit{SHA: fmt.Sprintf("%040x", i+0xabc), Repos: []string{"linux"}, Subject: strings.TrimPrefix(m.subject, "[PATCH] "),
				Body: msg, Author: from, AuthorDate: date, Files: []string{"io_uring/sqpoll.c", "io_uring/net.c"},
				Diff: strings.Join(lines, "\n") + "\n", HunkHeaders: hunks, PatchID: d.PatchIDs[0], Applied: i == 0, Linked: i == 0}
			if err := b.Index(search.NewCommitDoc(c)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Execute(ctx); err != nil {
			t.Fatal(err)
		}
		return ix
	}
	return open(false), open(true)
}

// TestCommitsKeepMessageAnswers: commits in the index change no answer
// of a query that does not name them. Every parity query, on an index of
// messages and on the same index with a commit twin of each patch
// (matching the same words, dates, diffs and patch-ids), gives the same
// hits and total, and those hits are messages.
func TestCommitsKeepMessageAnswers(t *testing.T) {
	ctx := context.Background()
	messages, mixed := twinIndexes(t)
	now, _ := time.Parse(time.RFC3339, "2023-12-31T00:00:00Z")
	facts := sliceFacts{n: 3, now: now, mid: "p1@kernel.dk", patchID: "0123456789abcdef0123456789abcdef01234567",
		preBlob: "1eadbeef", postBlob: "3c1e2b9a", ref: "p1@kernel.dk", patchID2: "89abcdef0123456789abcdef0123456789abcdef", subjectV2: "io_uring/net: zero-copy send completion polling"}
	queries := append(parityQueries(facts), "s:sqpoll", "dfb:io_req_task_work_add", "dfhh:io_sq_thread", "f:axboe@kernel.dk", "d:2023-05-01..2023-05-31")
	matched := 0
	for _, q := range queries {
		o := &search.SearchOptions{Limit: search.MaxLimit, Now: now}
		want, err := messages.Search(ctx, q, o)
		if err != nil {
			t.Errorf("Search(%q) without commits: %v", q, err)
			continue
		}
		got, err := mixed.Search(ctx, q, o)
		if err != nil {
			t.Errorf("Search(%q) with commits: %v", q, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Search(%q): commits changed the answer (-without +with):\n%s", q, diff)
		}
		if got.Total > 0 {
			matched++
		}
	}
	if matched < 10 {
		t.Errorf("only %d of %d queries match something: the test proves little", matched, len(queries))
	}
	// The same words reach the twins once the query names commits.
	for q, want := range map[string]uint64{
		"is:commit s:sqpoll":                              1,
		"is:commit dfb:io_req_task_work_add":              1,
		"is:commit dfhh:io_send_zc":                       1,
		"is:commit f:axboe@kernel.dk":                     1,
		"is:commit patchid:" + mustPatchID(t):             1,
		"is:offlist":                                      1,
		"is:commit is:applied":                            1,
		"(is:commit OR is:message) s:sqpoll":              3,
		"is:commit repo:linux":                            2,
		"is:commit commit:0000abc":                        0, // a prefix must start the id
		"is:commit commit:" + fmt.Sprintf("%040x", 0xabc): 1,
		"is:commit commit:00000000":                       2,
		"is:commit d:2023-01-01..":                        2,
		"is:commit z:..1m":                                0, // a commit has no mail size
		"is:commit rt:2023-01-01..":                       0, // nor an arrival time
		"(is:commit OR is:message) z:..1m":                3,
	} {
		got, err := mixed.Search(ctx, q, nil)
		if err != nil || got.Total != want {
			t.Errorf("Search(%q) = %v, %v; want %d hits", q, got, err, want)
		}
	}
	// The lore endpoints ask for messages only.
	if got, err := mixed.Search(ctx, "is:commit", &search.SearchOptions{MessagesOnly: true}); err != nil || got.Total != 0 {
		t.Errorf("is:commit with MessagesOnly = %v, %v; want nothing", got, err)
	}
}

func mustPatchID(t *testing.T) string {
	t.Helper()
	_, diff, _ := strings.Cut(commitTwinMessages[0].body, "---\n")
	id, err := patch.PatchID(diff)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestParseCommitPrefixes(t *testing.T) {
	for _, tt := range []struct{ q, want, err string }{
		{q: "is:commit s:fix", want: "(AND is:commit s:fix)"},
		{q: "is:Applied", want: "is:applied"},
		{q: "commit:ABCDEF12", want: "commit:abcdef12"},
		{q: "commit:abc1 commit:abc2", want: "(OR commit:abc1 commit:abc2)"},
		{q: "repo:liburing cve:CVE-2024-0582", want: "(AND repo:liburing cve:cve-2024-0582)"},
		{q: "is:commit is:offlist", want: "(AND is:commit is:offlist)"},
		{q: "is:merged", err: "is: wants one of commit, message, applied, unapplied, offlist, backport"},
		{q: "commit:xyz", err: "commit: wants a commit id"},
		{q: "commit:abc", err: "commit: wants a commit id"},
	} {
		n, err := search.Parse(tt.q, time.Now())
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tt.q, n, err, tt.err)
			}
			continue
		}
		if err != nil || n.String() != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tt.q, n, err, tt.want)
		}
	}
}
