package link

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patchtrail/internal/store"
)

// TestUnreadableHistory links three partial repositories: one missing a
// blob (a partial clone), a shallow clone and a grafted history. Every
// run finishes, every readable commit is linked, and the store's
// problems name each commit whose changes could not be read.
func TestUnreadableHistory(t *testing.T) {
	st := importSample(t)
	ctx := context.Background()

	// The posting's blob is present; the local commit's is not.
	r := newGitRepo(t)
	fix := r.am(midFix)
	local := r.commit("src/notes.txt", "only here\n", "src: add notes\n")
	attach := r.am(midAttch)
	blob := strings.TrimSpace(r.git("", "rev-parse", local+":src/notes.txt"))
	if err := os.Remove(filepath.Join(r.dir, ".git", "objects", blob[:2], blob[2:])); err != nil {
		t.Fatal(err)
	}

	// A full history to clone shallowly and to graft.
	// (Later dates: commits of their own, not those of r.)
	full := newGitRepo(t)
	full.tick = 100
	fullFix := full.am(midFix)
	fullAttach := full.am(midAttch)
	shallow := t.TempDir()
	full.git("", "clone", "-q", "--no-local", "--depth", "2", "file://"+full.dir, shallow)
	grafted := newGitRepo(t)
	grafted.tick = 200
	gFix := grafted.am(midFix)
	gAttach := grafted.am(midAttch)
	// An older history joined under the root by a graft: git shows the
	// root with a parent, and a diff that is not its own.
	root := strings.TrimSpace(grafted.git("", "rev-list", "--max-parents=0", "HEAD"))
	empty := strings.TrimSpace(grafted.git("", "hash-object", "-t", "tree", "-w", "--stdin"))
	old := strings.TrimSpace(grafted.git("old history\n", "commit-tree", empty))
	grafted.git("", "replace", "--graft", root, old)

	for _, c := range []struct{ name, dir string }{{"missing-blob", r.dir}, {"shallow", shallow}, {"grafted", grafted.dir}} {
		if err := AddRepo(ctx, st, c.name, c.dir); err != nil {
			t.Fatal(err)
		}
		res, err := Link(ctx, st, &Options{Repo: c.name})
		if err != nil {
			t.Fatalf("link %s: %v", c.name, err)
		}
		if len(res[0].Problems) != 1 {
			t.Errorf("link %s: problems %v, want 1", c.name, res[0].Problems)
		}
	}
	linked := func(sha, mid string) {
		t.Helper()
		if got := linksOf(t, st, sha); len(got) == 0 || got[0].MessageID != mid || got[0].Role != store.RoleApplied {
			t.Errorf("commit %s: links %v, want <%s> applied", sha[:12], got, mid)
		}
	}
	linked(fix, midFix)
	linked(attach, midAttch)
	linked(fullAttach, midAttch) // above the shallow boundary
	linked(gFix, midFix)         // above the graft
	linked(gAttach, midAttch)

	probs, err := st.SourceProblems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"missing-blob": "commit " + local + "|missing-object|" + blob,
		"shallow":      "commit " + fullFix + "|shallow|" + fullFix,
		"grafted":      "commit " + root + "|replaced|",
	}
	for _, p := range probs {
		w, ok := want[p.Repo]
		if !ok {
			t.Errorf("unexpected problem %+v", p)
			continue
		}
		parts := strings.Split(w, "|")
		if p.Location != parts[0] || !strings.HasPrefix(p.Problem, parts[1]+":") || !strings.Contains(p.Problem, parts[2]) {
			t.Errorf("problem of %s = %+v, want location %q, kind %s, naming %q", p.Repo, p, parts[0], parts[1], parts[2])
		}
		delete(want, p.Repo)
	}
	if len(want) != 0 {
		t.Errorf("no problem stored for %v (stored: %+v)", want, probs)
	}
	// The unreadable commits are stored all the same, without changes.
	for _, sha := range []string{local, fullFix} {
		c, err := st.Commit(ctx, sha)
		if err != nil {
			t.Fatalf("commit %s not stored: %v", sha, err)
		}
		if c.PatchID != "" || len(c.Files) != 0 {
			t.Errorf("unreadable commit %s stored with patch-id %q, files %v", sha[:12], c.PatchID, c.Files)
		}
	}
	// The grafted root is the base commit every test repository shares:
	// read in full from the first repository, it keeps its changes.
	if c, err := st.Commit(ctx, root); err != nil || c.PatchID == "" {
		t.Errorf("shared base commit %s lost its changes: %+v, %v", root[:12], c, err)
	}
	// A second run reads nothing new and records nothing twice.
	if _, err := Link(ctx, st, &Options{Repo: "missing-blob"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.SourceProblems(ctx); len(again) != len(probs) {
		t.Errorf("problems after a second run: %d, want %d", len(again), len(probs))
	}
}
