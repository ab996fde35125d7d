package link

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patchtrail/indexer"
	"patchtrail/internal/store"
)

// mail is a message for importExtra.
type mail struct {
	from, subject, date, mid, inReplyTo, body string
}

// importExtra imports mails (with the sample's list) into st and
// returns them as an mbox, for git am.
func importExtra(t *testing.T, st *store.Store, mails ...mail) map[string]string {
	t.Helper()
	var all strings.Builder
	out := map[string]string{}
	for _, m := range mails {
		var b strings.Builder
		fmt.Fprintf(&b, "From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: %s\nTo: io-uring@example.org\nSubject: %s\nDate: %s\nMessage-ID: <%s>\n", m.from, m.subject, m.date, m.mid)
		if m.inReplyTo != "" {
			fmt.Fprintf(&b, "In-Reply-To: <%s>\nReferences: <%s>\n", m.inReplyTo, m.inReplyTo)
		}
		fmt.Fprintf(&b, "List-Id: <io-uring.example.org>\n\n%s\n", m.body)
		out[m.mid] = b.String()
		all.WriteString(b.String())
	}
	path := filepath.Join(t.TempDir(), "extra.mbox")
	if err := os.WriteFile(path, []byte(all.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := indexer.Import(context.Background(), st, path, &indexer.Options{List: "io-uring", Workers: 1}); err != nil {
		t.Fatal(err)
	}
	return out
}

// editDiff edits path in the repository with edit, returns `git diff` of
// the change and undoes it.
func editDiff(t *testing.T, r *gitRepo, path string, edit func(string) string) string {
	t.Helper()
	full := filepath.Join(r.dir, path)
	old, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(edit(string(old))), 0o644); err != nil {
		t.Fatal(err)
	}
	d := r.git("", "diff")
	if err := os.WriteFile(full, old, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReplyWithDiff: the maintainer answers a patch with "how about
// this instead?" and a diff of her own, and applies that. The commit is
// linked to the reply, not to the patch it answers.
func TestReplyWithDiff(t *testing.T) {
	st := importSample(t)
	r := newGitRepo(t)
	diff := editDiff(t, r, "io_uring/rw.c", func(s string) string {
		return strings.Replace(s, "\tio_req_task_complete(req);\n\tkfree(rw->iter_state);\n",
			"\tkfree(rw->iter_state);\n\trw->iter_state = NULL;\n\tio_req_task_complete(req);\n", 1)
	})
	const replyMID = "20240207100000.4242-1-erin@example.org"
	mails := importExtra(t, st, mail{
		from: "Erin Maintainer <erin@example.org>", subject: "Re: [PATCH] io_uring: fix use-after-free in io_rw_done()",
		date: "Wed, 07 Feb 2024 10:00:00 +0000", mid: replyMID, inReplyTo: midFix,
		body: "On Mon, Feb 5, 2024 at 15:00, Dave Hacker wrote:\n> Free the iterator state first.\n\n" +
			"How about this instead? It also clears the pointer.\n\nSigned-off-by: Erin Maintainer <erin@example.org>\n---\n" + diff,
	})
	// git am of the reply (b4 am does the same): "Re:" and the tags go,
	// the reply's Date becomes the author date.
	r.mails[replyMID] = []byte(mails[replyMID])
	sha := r.am(replyMID)
	linkOnce(t, st, addRepo(t, st, r))
	got := linksOf(t, st, sha)
	if len(got) == 0 || got[0].MessageID != replyMID || got[0].Role != store.RoleApplied || got[0].Grade != store.GradeStrong {
		t.Fatalf("links = %v, want the reply <%s> applied (strong) first", got, replyMID)
	}
	for _, l := range got {
		if l.MessageID == midFix && l.Role == store.RoleApplied {
			t.Errorf("the answered patch is linked as applied too: %v", got)
		}
	}

	// A review quoting the patch ("> " lines) carries no diff of its own.
	if _, err := st.ReplyPatchOf(context.Background(), mustResolve(t, st, "20240206133000.310323-0-bob@example.net")); err == nil {
		t.Error("a review quoting the patch was stored as a diff")
	}
}

func mustResolve(t *testing.T, st *store.Store, mid string) int64 {
	t.Helper()
	id, err := st.Resolve(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addRepo(t *testing.T, st *store.Store, r *gitRepo) *Options {
	t.Helper()
	if err := AddRepo(context.Background(), st, "test", r.dir); err != nil {
		t.Fatal(err)
	}
	return &Options{Repo: "test", IgnoreLinkTrailers: true}
}

// TestResendTie: a patch posted, resent unchanged a week later, and
// resent once more just after it was committed. All carry the commit's
// patch-id and subject.
func TestResendTie(t *testing.T) {
	patchMail := func(subject, date, mid string, diff string) mail {
		return mail{from: "Gina Dev <gina@example.org>", subject: subject, date: date, mid: mid,
			body: "Check the flag once.\n\nSigned-off-by: Gina Dev <gina@example.org>\n---\n" + diff}
	}
	const (
		first  = "20240301090000.1-1-gina@example.org"
		resend = "20240308090000.2-1-gina@example.org"
		late   = "20240320060000.3-1-gina@example.org" // after the commit (2024-03-20 ~00:05 UTC)
	)
	setup := func(t *testing.T) (*store.Store, *gitRepo, string) {
		st := importSample(t)
		r := newGitRepo(t)
		diff := editDiff(t, r, "src/queue.c", func(s string) string {
			return strings.Replace(s, "\tint shift = 0;\n", "\tint shift = 0;\n\tbool checked = false;\n", 1)
		})
		mails := importExtra(t, st,
			patchMail("[PATCH] queue: check the overflow flag once", "Fri, 01 Mar 2024 09:00:00 +0000", first, diff),
			patchMail("[PATCH RESEND] queue: check the overflow flag once", "Fri, 08 Mar 2024 09:00:00 +0000", resend, diff),
			patchMail("[PATCH RESEND] queue: check the overflow flag once", "Wed, 20 Mar 2024 06:00:00 +0000", late, diff),
		)
		for mid, m := range mails {
			r.mails[mid] = []byte(m)
		}
		return st, r, diff
	}

	t.Run("applied by hand", func(t *testing.T) {
		// Applied with git apply and committed: the author date is the
		// commit's, no posting's Date. The latest posting before the
		// commit wins; the resend sent after it does not.
		st, r, diff := setup(t)
		r.git(diff, "apply")
		r.git("", "add", "-A")
		r.git("queue: check the overflow flag once\n\nSigned-off-by: Gina Dev <gina@example.org>\n", "commit", "-q", "--author", "Gina Dev <gina@example.org>", "-F", "-")
		sha := r.head()
		linkOnce(t, st, addRepo(t, st, r))
		if got := linksOf(t, st, sha); len(got) == 0 || got[0].MessageID != resend || got[0].Role != store.RoleApplied {
			t.Fatalf("links = %v, want the resend <%s> applied first", got, resend)
		}
	})
	t.Run("git am of the first posting", func(t *testing.T) {
		// git am keeps the first posting's Date as the author date: that
		// is the posting applied, though resends came later.
		st, r, _ := setup(t)
		sha := r.am(first)
		linkOnce(t, st, addRepo(t, st, r))
		got := linksOf(t, st, sha)
		if len(got) == 0 || got[0].MessageID != first || got[0].Role != store.RoleApplied {
			t.Fatalf("links = %v, want the first posting <%s> applied first", got, first)
		}
	})
}

// TestUnmarkedMailWithDiff: a diff sent in a mail whose subject says
// nothing of a patch (a bug report with a fix) is a candidate all the
// same.
func TestUnmarkedMailWithDiff(t *testing.T) {
	st := importSample(t)
	r := newGitRepo(t)
	diff := editDiff(t, r, "src/queue.c", func(s string) string {
		return strings.Replace(s, "#include \"int_flags.h\"\n", "#include \"int_flags.h\"\n#include <sys/stat.h>\n", 1)
	})
	const mid = "20240310120000.77-1-hana@example.org"
	mails := importExtra(t, st, mail{
		from: "Hana User <hana@example.org>", subject: "build fails on musl",
		date: "Sun, 10 Mar 2024 12:00:00 +0000", mid: mid,
		body: "src/queue.c does not build on musl: struct stat is not declared. This fixes it for me:\n\n" + diff,
	})
	r.mails[mid] = []byte(mails[mid])
	r.git(diff, "apply")
	r.git("", "add", "-A")
	r.git("queue: include sys/stat.h\n\nReported-by: Hana User <hana@example.org>\n", "commit", "-q", "--author", "Hana User <hana@example.org>", "-F", "-")
	sha := r.head()
	linkOnce(t, st, addRepo(t, st, r))
	if got := linksOf(t, st, sha); len(got) == 0 || got[0].MessageID != mid || got[0].Grade != store.GradeStrong {
		t.Fatalf("links = %v, want <%s> strong first", got, mid)
	}
}
