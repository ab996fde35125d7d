package gitrepo

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenRepo builds a history of six commits, c1 (oldest) to c6, each
// adding file f<i>, and returns it with the ids, oldest first.
func brokenRepo(t *testing.T) (*testRepo, []string) {
	r := newRepo(t)
	var ids []string
	for i := 1; i <= 6; i++ {
		r.write(filepathOf(i), strings.Repeat("line\n", i))
		r.write("common.txt", strings.Repeat("x\n", i))
		ids = append(ids, r.commit("commit "+filepathOf(i)))
	}
	return r, ids
}

func filepathOf(i int) string { return "dir/f" + string(rune('0'+i)) + ".txt" }

// removeObject deletes the loose object id from the repository.
func removeObject(t *testing.T, dir, id string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, ".git", "objects", id[:2], id[2:])); err != nil {
		t.Fatal(err)
	}
}

func TestMissingBlob(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		r, ids := brokenRepo(t)
		// Commits 2 and 4 added blobs that are gone (a partial clone).
		removeObject(t, r.dir, strings.TrimSpace(r.git("rev-parse", ids[1]+":"+filepathOf(2))))
		removeObject(t, r.dir, strings.TrimSpace(r.git("rev-parse", ids[3]+":"+filepathOf(4))))
		cs, lr := readAll(t, r.dir, &LogOptions{WithDiff: true, Reverse: reverse})
		if len(cs) != 6 {
			t.Fatalf("reverse=%v: read %d commits, want 6: %v", reverse, len(cs), shas(cs))
		}
		bad := map[string]bool{ids[1]: true, ids[3]: true}
		for _, c := range cs {
			if bad[c.SHA] {
				if c.Problem == nil || c.Problem.Kind != ProblemMissingObject || c.Problem.Object == "" || c.PatchID != "" || len(c.Files) != 0 {
					t.Errorf("reverse=%v: unreadable commit %s: problem %+v, patch-id %q, files %v", reverse, c.Subject, c.Problem, c.PatchID, c.Files)
				}
				if c.Subject == "" || c.AuthorEmail != "ann@example.org" {
					t.Errorf("unreadable commit %s lost its metadata: %+v", c.SHA, c)
				}
				continue
			}
			if c.Problem != nil || c.PatchID != gitPatchID(t, r.dir, c.SHA) {
				t.Errorf("reverse=%v: readable commit %s: problem %+v, patch-id %q", reverse, c.Subject, c.Problem, c.PatchID)
			}
		}
		if ps := lr.Problems(); len(ps) != 2 {
			t.Fatalf("Problems = %+v, want 2", ps)
		}
		want := ids
		if !reverse {
			want = nil
			for i := len(ids) - 1; i >= 0; i-- {
				want = append(want, ids[i])
			}
		}
		if got := shas(cs); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("reverse=%v: order %v, want %v", reverse, got, want)
		}
	}
}

func TestMissingCommit(t *testing.T) {
	r, ids := brokenRepo(t)
	// Commit 3's own object is gone: its children cannot reach past it.
	removeObject(t, r.dir, ids[2])
	lr, err := Log(t.Context(), r.dir, &LogOptions{WithDiff: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	var got []string
	for {
		c, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, c.SHA)
	}
	// git cannot walk past the missing commit; what it read is kept and
	// the read ends with an error naming the object, not a crash.
	if len(got) < 2 || got[0] != ids[5] || got[1] != ids[4] {
		t.Fatalf("read %v, want at least c6, c5", got)
	}
	named := false
	for _, p := range lr.Problems() {
		named = named || p.Object == ids[2]
	}
	if !named {
		t.Errorf("no problem names the missing commit %s: %+v", ids[2], lr.Problems())
	}
}

func TestShallowAndGraft(t *testing.T) {
	r, ids := brokenRepo(t)
	// A shallow clone of depth 3: c4 is the boundary.
	clone := t.TempDir()
	r.git("clone", "-q", "--no-local", "--depth", "3", "file://"+r.dir, clone)
	cs, lr := readAll(t, clone, &LogOptions{WithDiff: true})
	if len(cs) != 3 {
		t.Fatalf("shallow: read %d commits, want 3", len(cs))
	}
	boundary := cs[2]
	if boundary.SHA != ids[3] || boundary.Problem == nil || boundary.Problem.Kind != ProblemShallow || boundary.PatchID != "" || len(boundary.Files) != 0 {
		t.Fatalf("shallow boundary %s: problem %+v, files %v", boundary.SHA, boundary.Problem, boundary.Files)
	}
	if cs[0].Problem != nil || cs[0].PatchID != gitPatchID(t, r.dir, ids[5]) {
		t.Errorf("commit above the boundary: problem %+v", cs[0].Problem)
	}
	if len(lr.Problems()) != 1 {
		t.Errorf("shallow: problems %+v", lr.Problems())
	}

	// A grafted history: c5 replaced by a commit whose parent is c2.
	r.git("replace", "--graft", ids[4], ids[1])
	cs, lr = readAll(t, r.dir, &LogOptions{WithDiff: true})
	if len(cs) != 4 { // c6, c5 (grafted), c2, c1
		t.Fatalf("graft: read %d commits, want 4: %v", len(cs), shas(cs))
	}
	g := cs[1]
	if g.SHA != ids[4] || g.Problem == nil || g.Problem.Kind != ProblemReplaced || g.PatchID != "" {
		t.Fatalf("grafted commit %s: problem %+v", g.SHA, g.Problem)
	}
	if cs[0].Problem != nil || cs[2].Problem != nil {
		t.Errorf("commits around the graft have problems: %+v %+v", cs[0].Problem, cs[2].Problem)
	}
	if len(lr.Problems()) != 1 || !strings.Contains(lr.Problems()[0].Detail, "replaced by") {
		t.Errorf("graft: problems %+v", lr.Problems())
	}
}

// TestPartialClone reads a blobless clone whose promisor remote is gone:
// every commit comes back without its changes, each with a problem
// naming a blob, and the read ends normally.
func TestPartialClone(t *testing.T) {
	r, ids := brokenRepo(t)
	r.git("config", "uploadpack.allowFilter", "true")
	clone := t.TempDir()
	r.git("clone", "-q", "--bare", "--filter=blob:none", "file://"+r.dir, clone)
	if err := os.RemoveAll(r.dir); err != nil {
		t.Fatal(err)
	}
	cs, lr := readAll(t, clone, &LogOptions{WithDiff: true})
	if len(cs) != len(ids) {
		t.Fatalf("read %d commits, want %d", len(cs), len(ids))
	}
	for _, c := range cs {
		if c.Problem == nil || c.Problem.Kind != ProblemMissingObject || c.Problem.Object == "" || c.Subject == "" {
			t.Errorf("commit %s: problem %+v", c.SHA, c.Problem)
		}
	}
	if len(lr.Problems()) != len(ids) {
		t.Errorf("%d problems, want %d", len(lr.Problems()), len(ids))
	}

	// Past maxProblems the rest is read without changes, in one go.
	defer func(n int) { maxProblems = n }(maxProblems)
	maxProblems = 2
	cs, lr = readAll(t, clone, &LogOptions{WithDiff: true})
	if len(cs) != len(ids) {
		t.Fatalf("maxProblems 2: read %d commits, want %d", len(cs), len(ids))
	}
	for i, c := range cs {
		if c.SHA != ids[len(ids)-1-i] || c.Problem == nil || c.PatchID != "" || c.Subject == "" {
			t.Errorf("maxProblems 2: commit %d %s: problem %+v", i, c.SHA, c.Problem)
		}
	}
	if ps := lr.Problems(); len(ps) != 3 || ps[2].Kind != ProblemUnreadable || !strings.Contains(ps[2].Detail, "without changes") {
		t.Errorf("maxProblems 2: problems %+v", ps)
	}
}
