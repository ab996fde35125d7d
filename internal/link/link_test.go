package link

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/store"
)

// rungRepo applies sample postings the way maintainers do: as posted,
// with a Message-Id: or Link: trailer, edited, re-subjected.
type rungRepo struct {
	r                                 *gitRepo
	v2p1, v2p2, v2p3, fix, edited     string
	unrelated, lookalike, resubjected string
}

func newRungRepo(t *testing.T) *rungRepo {
	r := newGitRepo(t)
	x := &rungRepo{r: r}
	x.v2p1 = r.am(midV2p1, "--message-id") // rung 1: Message-Id: trailer
	x.v2p2 = r.am(midV2p2)
	// A maintainer's edit: one more line, so the patch-id changes (rung 3).
	f := filepath.Join(r.dir, "io_uring/net.c")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, append(b, []byte("/* checked by the maintainer */\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r.git("", "commit", "-q", "-a", "--amend", "--no-edit")
	x.edited = r.head()
	r.am(midV2p3)
	x.v2p3 = r.amend(strings.TrimRight(r.message("HEAD"), "\n") + "\nLink: https://lore.kernel.org/io-uring/" + midV2p3 + "/\n") // rung 1: Link:
	x.fix = r.am(midFix)                                                                                                         // rung 2: patch-id
	r.am(midAttch)
	// Re-subjected and edited by the maintainer: found through the
	// author's recent patches touching the same file (rung 3).
	f = filepath.Join(r.dir, "io_uring/rw.c")
	if b, err = os.ReadFile(f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, append(b, []byte("/* no NULL here */\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r.git("", "add", "-A")
	x.resubjected = r.amend("io_uring/rw: remove a NULL check that cannot trigger\n\nSigned-off-by: Frank Reporter <frank@example.com>\n")
	x.unrelated = r.commit("src/notes.txt", "notes\n", "src: add notes\n")
	// Same subject as a posting, but another author's different change.
	x.lookalike = r.commit("src/other.c", "int x;\n", "io_uring/net: add io_net_retry() helper\n")
	return x
}

func TestEvidenceRungs(t *testing.T) {
	x := newRungRepo(t)
	for _, ignore := range []bool{false, true} {
		st := importSample(t)
		res := addAndLink(t, st, x.r, &Options{IgnoreLinkTrailers: ignore})
		exact := store.GradeExact
		if ignore {
			exact = store.GradeStrong // the trailers are not looked at
		}
		tests := []struct {
			name string
			sha  string
			want []linkSummary
		}{
			{"message-id trailer", x.v2p1, []linkSummary{{midV2p1, store.RoleApplied, exact}, {midV1p1, store.RoleEarlier, store.GradeStrong}}},
			{"edited by the maintainer", x.edited, []linkSummary{{midV2p2, store.RoleApplied, store.GradeFuzzy}, {midV1p2, store.RoleEarlier, store.GradeFuzzy}}},
			{"link trailer", x.v2p3, []linkSummary{{midV2p3, store.RoleApplied, exact}, {midV1p3, store.RoleEarlier, store.GradeStrong}}},
			{"patch-id", x.fix, []linkSummary{{midFix, store.RoleApplied, store.GradeStrong}}},
			{"new subject and edited", x.resubjected, []linkSummary{{midAttch, store.RoleApplied, store.GradeFuzzy}}},
			{"no posting", x.unrelated, nil},
			{"same subject, other change", x.lookalike, nil},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(tt.want, linksOf(t, st, tt.sha)); diff != "" {
				t.Errorf("ignore trailers %v: %s: links (-want +got):\n%s", ignore, tt.name, diff)
			}
		}
		if res.Linked != 5 {
			t.Errorf("ignore trailers %v: Linked = %d, want 5", ignore, res.Linked)
		}
	}
}

// TestAppliedVersion pins the choice among versions sharing a subject:
// the version whose content was applied wins even when a later one
// exists, and without the git am author date the latest of identical
// versions wins.
func TestAppliedVersion(t *testing.T) {
	r := newGitRepo(t)
	r.am(midV1p1)
	v1p2 := r.am(midV1p2)
	r2 := newGitRepo(t)
	r2.am(midV2p1)
	r2.git("", "commit", "-q", "--amend", "--no-edit", "--date=@1710000000 +0000")
	redated := r2.head()

	st := importSample(t)
	addAndLink(t, st, r, nil)
	want := []linkSummary{{midV1p2, store.RoleApplied, store.GradeStrong}}
	if diff := cmp.Diff(want, linksOf(t, st, v1p2)); diff != "" {
		t.Errorf("v1 2/3 applied: links (-want +got):\n%s", diff)
	}
	st2 := importSample(t)
	addAndLink(t, st2, r2, nil)
	want = []linkSummary{{midV2p1, store.RoleApplied, store.GradeStrong}, {midV1p1, store.RoleEarlier, store.GradeStrong}}
	if diff := cmp.Diff(want, linksOf(t, st2, redated)); diff != "" {
		t.Errorf("v2 1/3 with another author date: links (-want +got):\n%s", diff)
	}
}

func TestRelations(t *testing.T) {
	r := newGitRepo(t)
	helper := r.commit("io_uring/rw.c", "helper\n", "io_uring: add io_rw_done() helper\n")
	fix := r.commit("io_uring/rw.c", "fixed\n", "io_uring: fix io_rw_done()\n\nFixes: "+helper[:12]+" (\"io_uring: add io_rw_done() helper\")\nFixes: 0123456789ab (\"not in this repository\")\nSigned-off-by: Erin Maintainer <erin@example.org>\n")
	r.git("", "revert", "--no-edit", fix)
	revert := r.head()
	shortRevert := r.commit("io_uring/rw.c", "again\n", "Revert \"io_uring: add io_rw_done() helper\"\n\nThis reverts commit "+helper[:10]+".\n")
	backport := r.commit("io_uring/net.c", "bp\n", "io_uring: fix io_rw_done()\n\ncommit "+fix+" upstream.\n\nSigned-off-by: Greg Stable <greg@example.org>\n")
	bracket := r.commit("io_uring/net.c", "bp2\n", "io_uring: fix io_rw_done()\n\n[ Upstream commit "+fix+" ]\n")

	st := importSample(t)
	addAndLink(t, st, r, nil)
	ctx := context.Background()
	get := func(sha string) *store.CommitRow {
		c, err := st.Commit(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got, want := get(fix).Fixes, []store.FixRow{{Target: "0123456789ab", Title: "not in this repository"},
		{Target: helper[:12], TargetSHA: helper, Title: "io_uring: add io_rw_done() helper"}}; !cmp.Equal(got, want) {
		t.Errorf("Fixes (-want +got):\n%s", cmp.Diff(want, got))
	}
	shas := func(rel, sha string) []string {
		cs, err := st.CommitsWhere(ctx, rel, sha)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.SHA)
		}
		return out
	}
	tests := []struct {
		rel, sha string
		want     []string
	}{
		{"fixes", helper, []string{fix}},
		{"reverts", fix, []string{revert}},
		{"reverts", helper, []string{shortRevert}}, // abbreviated in the body, expanded
		{"upstream", fix, []string{backport, bracket}},
		{"upstream", helper, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, shas(tt.rel, tt.sha)); diff != "" {
			t.Errorf("CommitsWhere(%s, %.12s) (-want +got):\n%s", tt.rel, tt.sha, diff)
		}
	}
	if c := get(revert); !c.Revert {
		t.Errorf("%.12s: Revert = false", revert)
	}
	// The stable posting says which mainline commit it backports.
	id, err := st.Resolve(ctx, midFix61)
	if err != nil {
		t.Fatal(err)
	}
	up, err := st.BackportOf(ctx, id)
	if err != nil || up != "8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809" {
		t.Errorf("BackportOf(6.1.y posting) = %q, %v", up, err)
	}
}

func TestIncremental(t *testing.T) {
	r := newGitRepo(t)
	fix := r.am(midFix)
	st := newStore(t) // no messages yet
	res := addAndLink(t, st, r, nil)
	if res.Read != 2 || res.Linked != 0 {
		t.Fatalf("first run: read %d, linked %d; want 2, 0", res.Read, res.Linked)
	}
	if res = linkOnce(t, st, nil); res.Read != 0 || res.Relinked != 0 {
		t.Errorf("second run: read %d, relinked %d; want 0, 0", res.Read, res.Relinked)
	}
	// Messages arrive: the unlinked commits are tried again.
	importInto(t, st)
	if res = linkOnce(t, st, nil); res.Read != 0 || res.Relinked != 2 || res.Linked != 1 {
		t.Errorf("after import: read %d, relinked %d, linked %d; want 0, 2, 1", res.Read, res.Relinked, res.Linked)
	}
	if got := linksOf(t, st, fix); len(got) == 0 || got[0].MessageID != midFix {
		t.Errorf("fix links = %v, want <%s> first", got, midFix)
	}
	// A force-push: the head is rewritten.
	r.git("", "reset", "-q", "--hard", "HEAD~1")
	rewritten := r.am(midFix)
	if rewritten == fix {
		t.Fatal("rewritten commit has the old id")
	}
	if res = linkOnce(t, st, nil); res.Read != 1 || res.Linked != 1 {
		t.Errorf("after force-push: read %d, linked %d; want 1, 1", res.Read, res.Linked)
	}
	if res = linkOnce(t, st, &Options{Full: true}); res.Read != 0 || res.Relinked != 3 {
		t.Errorf("full run: read %d, relinked %d; want 0, 3", res.Read, res.Relinked)
	}
	if _, err := Link(context.Background(), st, &Options{Repo: "nope"}); !errors.Is(err, ErrUnknownRepo) {
		t.Errorf("Link(unknown repo) error = %v, want ErrUnknownRepo", err)
	}
}

func TestEvaluate(t *testing.T) {
	r := newGitRepo(t)
	r.am(midV2p1)
	r.amend(strings.TrimRight(r.message("HEAD"), "\n") + "\nLink: https://lore.kernel.org/r/" + midV2p1 + "\n")
	r.am(midV2p2)
	// The Link: names another version than the one applied.
	r.amend(strings.TrimRight(r.message("HEAD"), "\n") + "\nLink: https://patch.msgid.link/" + midV1p2 + "\n")
	r.commit("src/x.c", "x\n", "src: no posting\n\nLink: https://lore.kernel.org/r/"+midV1p3+"\n")

	st := importSample(t)
	addAndLink(t, st, r, nil)
	ctx := context.Background()
	if _, err := Evaluate(ctx, st, "test"); !errors.Is(err, ErrTrailersLinked) {
		t.Fatalf("Evaluate after linking with trailers: %v, want ErrTrailersLinked", err)
	}
	linkOnce(t, st, &Options{IgnoreLinkTrailers: true, Full: true})
	acc, err := Evaluate(ctx, st, "test")
	if err != nil {
		t.Fatal(err)
	}
	got := []any{acc.Commits, acc.Truth, acc.Linked, acc.Correct, acc.PatchIDHits, acc.Precision, acc.Recall, len(acc.Misses)}
	want := []any{4, 3, 2, 1, 1, 0.5, 1.0 / 3, 2}
	if !cmp.Equal(got, want) {
		t.Errorf("commits, truth, linked, correct, patch-id, precision, recall, misses = %v, want %v", got, want)
	}
}

// TestSeveralLinkTrailers: when trailers name several versions, the one
// the content and date point at is applied, the others are earlier.
func TestSeveralLinkTrailers(t *testing.T) {
	for _, order := range [][2]string{{midV1p1, midV2p1}, {midV2p1, midV1p1}} {
		r := newGitRepo(t)
		r.am(midV2p1)
		sha := r.amend(strings.TrimRight(r.message("HEAD"), "\n") + "\nLink: https://lore.kernel.org/r/" + order[0] +
			"\nLink: https://lore.kernel.org/io-uring/" + order[1] + "/ # another version\n")
		st := importSample(t)
		addAndLink(t, st, r, nil)
		want := []linkSummary{{midV2p1, store.RoleApplied, store.GradeExact}, {midV1p1, store.RoleEarlier, store.GradeExact}}
		if diff := cmp.Diff(want, linksOf(t, st, sha)); diff != "" {
			t.Errorf("trailers %v: links (-want +got):\n%s", order, diff)
		}
	}
}
