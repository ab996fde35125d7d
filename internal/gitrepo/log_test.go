package gitrepo

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixture is a history with the cases Log must get right.
type fixture struct {
	*testRepo
	root, modify, rename, modeDelete, side, mainOnly, merge, backport, revert, fuzzyRename string
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

// sharedFixture builds the fixture once for all tests that only read it.
func sharedFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		dir := filepath.Join(sharedRoot, "fixture")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		theFixture = newFixture(newRepoIn(t, dir))
	})
	if theFixture == nil {
		t.Fatal("fixture failed to build in an earlier test")
	}
	f := *theFixture
	r := *f.testRepo
	r.t = t
	f.testRepo = &r
	return &f
}

func newFixture(r *testRepo) *fixture {
	t := r.t
	t.Helper()
	f := &fixture{testRepo: r}
	f.write("f.txt", "a\nb\nc\n")
	f.write("dir/with space.txt", "x\n")
	f.write("ü.txt", "u\n")
	f.write("script.sh", "echo\n")
	f.write("one.txt", "1\n")
	f.root = f.commit("root: initial files\n\nFirst body line.\n")

	f.write("f.txt", "a\nB\nc\n")
	f.write("one.txt", "2\n")
	f.write("bin.dat", "\x00\x01\x02binary")
	// A body with lines a naive parser or `git patch-id` on raw %B would
	// take for commit or diff boundaries.
	f.modify = f.commit("f: change b\n\n" +
		"diff --git a/fake b/fake\n" +
		"commit 1111111111111111111111111111111111111111 upstream.\n" +
		"From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001\n" +
		"3333333333333333333333333333333333333333\n" +
		"\x5c No newline lookalike in a message\n")

	f.git("mv", "f.txt", "g.txt")
	f.write("dir/with space.txt", "x\ny\n")
	f.rename = f.commit("rename f to g")

	if err := os.Chmod(filepath.Join(f.dir, "script.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.git("rm", "-q", "ü.txt")
	f.write("empty.txt", "")
	f.write("nonl.txt", "last")
	f.modeDelete = f.commit("mode change, delete, empty and unterminated files")

	f.git("checkout", "-q", "-b", "side")
	f.write("g.txt", "a\nB\nc\nd\n")
	f.side = f.commit("side: extend g")
	f.git("checkout", "-q", "main")
	f.write("h.txt", "h\n")
	f.mainOnly = f.commit("main: add h")
	f.git("merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side")
	f.merge = f.head()

	f.write("one.txt", "3\n")
	f.backport = f.commit("one: bump\n\ncommit " + f.modify + " upstream.\n\nSigned-off-by: Ann Author <ann@example.org>\n")
	f.git("revert", "--no-edit", f.mainOnly)
	f.revert = f.head()

	var big strings.Builder
	for i := range 40 {
		big.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	f.write("k.txt", big.String())
	f.commit("add k")
	f.git("mv", "k.txt", "k2.txt")
	f.write("k2.txt", strings.Replace(big.String(), "line 7\n", "line seven\n", 1))
	f.write("bin.dat", "\x00\x01\x03binary changed")
	f.fuzzyRename = f.commit("rename k with an edit, change binary")
	return f
}

// gitFiles is the reference file list of a commit from git's own
// name-status and numstat output (-z, so no quoting).
func gitFiles(t testing.TB, r *testRepo, sha string) []FileChange {
	t.Helper()
	var files []FileChange
	f := strings.Split(r.git("show", "--format=", "-M", "-z", "--name-status", sha), "\x00")
	for i := 0; i+1 < len(f); {
		st := f[i]
		if st == "" {
			i++
			continue
		}
		fc := FileChange{Status: st[0]}
		if st[0] == 'R' || st[0] == 'C' {
			fc.OldPath, fc.Path = f[i+1], f[i+2]
			i += 3
		} else {
			fc.Path = f[i+1]
			i += 2
		}
		files = append(files, fc)
	}
	n := strings.Split(r.git("show", "--format=", "-M", "-z", "--numstat", sha), "\x00")
	k := 0
	for i := 0; i < len(n) && k < len(files); {
		line := strings.TrimLeft(n[i], "\n")
		if line == "" {
			i++
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if parts[0] == "-" {
			files[k].Binary = true
		} else {
			files[k].Added, _ = strconv.Atoi(parts[0])
			files[k].Removed, _ = strconv.Atoi(parts[1])
		}
		if parts[2] == "" { // rename: old and new follow as fields
			i += 3
		} else {
			i++
		}
		k++
	}
	return files
}

func TestLogMatchesGit(t *testing.T) {
	f := sharedFixture(t)
	cs, lr := readAll(t, f.dir, nil)

	want := strings.Fields(f.git("rev-list", "--branches"))
	if diff := cmp.Diff(want, shas(cs)); diff != "" {
		t.Fatalf("commit order differs from git rev-list (-want +got):\n%s", diff)
	}
	wantHeads := map[string]string{"HEAD": f.head(), "refs/heads/main": f.head(), "refs/heads/side": f.side}
	if diff := cmp.Diff(wantHeads, lr.Heads()); diff != "" {
		t.Errorf("Heads() (-want +got):\n%s", diff)
	}

	for _, c := range cs {
		t.Run(c.SHA[:12], func(t *testing.T) {
			fields := strings.Split(f.git("log", "-1", "--format=%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%s%x00%b", c.SHA), "\x00")
			if got, want := strings.Join(c.Parents, " "), fields[0]; got != want {
				t.Errorf("Parents = %q, want %q", got, want)
			}
			got := []string{c.AuthorName, c.AuthorEmail, strconv.FormatInt(c.AuthorDate.Unix(), 10),
				c.CommitterName, c.CommitterEmail, strconv.FormatInt(c.CommitDate.Unix(), 10), c.Subject, c.Body}
			wantF := append(fields[1:8:8], strings.TrimRight(fields[8], "\n"))
			if diff := cmp.Diff(wantF, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if _, off := c.AuthorDate.Zone(); off != 2*3600 {
				t.Errorf("AuthorDate zone offset = %d, want +0200", off)
			}
			if c.IsMerge() {
				if c.PatchID != "" || len(c.Files) != 0 {
					t.Errorf("merge: PatchID %q, Files %v; want none", c.PatchID, c.Files)
				}
				return
			}
			if want := gitPatchID(t, f.dir, c.SHA); c.PatchID != want {
				t.Errorf("PatchID = %q, want git patch-id --stable %q", c.PatchID, want)
			}
			if diff := cmp.Diff(gitFiles(t, f.testRepo, c.SHA), c.Files); diff != "" {
				t.Errorf("Files differ from git show --name-status/--numstat (-want +got):\n%s", diff)
			}
		})
	}

	// Spot checks, so a shared blind spot of the reference cannot hide.
	by := make(map[string]*Commit)
	for _, c := range cs {
		by[c.SHA] = c
	}
	checks := []struct {
		sha  string
		file FileChange
	}{
		{f.rename, FileChange{Status: 'R', OldPath: "f.txt", Path: "g.txt"}},
		{f.rename, FileChange{Status: 'M', Path: "dir/with space.txt", Added: 1}},
		{f.modeDelete, FileChange{Status: 'D', Path: "ü.txt", Removed: 1}},
		{f.modeDelete, FileChange{Status: 'M', Path: "script.sh"}},
		{f.modeDelete, FileChange{Status: 'A', Path: "empty.txt"}},
		{f.modify, FileChange{Status: 'A', Path: "bin.dat", Binary: true}},
		{f.fuzzyRename, FileChange{Status: 'R', OldPath: "k.txt", Path: "k2.txt", Added: 1, Removed: 1}},
	}
	for _, c := range checks {
		if !slices.Contains(by[c.sha].Files, c.file) {
			t.Errorf("commit %.12s: Files %+v lack %+v", c.sha, by[c.sha].Files, c.file)
		}
	}
	if by[f.modeDelete].PatchID == "" || by[f.rename].PatchID == "" {
		t.Errorf("header-only diffs got no patch-id")
	}
	if got := UpstreamOf(by[f.backport].Body); got != f.modify {
		t.Errorf("UpstreamOf(backport body) = %q, want %q", got, f.modify)
	}
	if got, ok := RevertOf(by[f.revert].Subject, by[f.revert].Body); !ok || got != f.mainOnly {
		t.Errorf("RevertOf(revert) = %q, %v; want %q, true", got, ok, f.mainOnly)
	}
	if got := by[f.modify].Subject; got != "f: change b" {
		t.Errorf("Subject = %q", got)
	}
}

func TestLogWithDiff(t *testing.T) {
	f := sharedFixture(t)
	tests := []struct {
		max       int
		want      string
		truncated bool
	}{
		{0, "-b\n+B\n-1\n+2\n", false},
		{7, "-b\n+B\n", true},
		{1, "", true},
	}
	for _, tt := range tests {
		cs, _ := readAll(t, f.dir, &LogOptions{Refs: []string{f.modify}, WithDiff: true, MaxDiffBytes: tt.max})
		c := cs[0]
		if c.Diff != tt.want || c.DiffTruncated != tt.truncated {
			t.Errorf("MaxDiffBytes %d: Diff = %q (truncated %v), want %q (%v)", tt.max, c.Diff, c.DiffTruncated, tt.want, tt.truncated)
		}
	}
	cs, _ := readAll(t, f.dir, &LogOptions{Refs: []string{f.modify}})
	if cs[0].Diff != "" {
		t.Errorf("without WithDiff: Diff = %q, want empty", cs[0].Diff)
	}
}

func TestLogRefsAndReverse(t *testing.T) {
	f := sharedFixture(t)
	cs, lr := readAll(t, f.dir, &LogOptions{Refs: []string{"side"}})
	if diff := cmp.Diff(strings.Fields(f.git("rev-list", "side")), shas(cs)); diff != "" {
		t.Errorf("Refs side (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"side": f.side}, lr.Heads()); diff != "" {
		t.Errorf("Heads (-want +got):\n%s", diff)
	}
	rev, _ := readAll(t, f.dir, &LogOptions{Reverse: true})
	want := strings.Fields(f.git("rev-list", "--reverse", "--branches"))
	if diff := cmp.Diff(want, shas(rev)); diff != "" {
		t.Errorf("Reverse (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"nosuchbranch", "deadbeefdeadbeef"} {
		if _, err := Log(context.Background(), f.dir, &LogOptions{Refs: []string{bad}}); !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("Refs %q: error = %v, want ErrUnknownRevision", bad, err)
		}
	}
	for _, bad := range []string{"--all", "a\nb", ""} {
		if _, err := Log(context.Background(), f.dir, &LogOptions{Since: []string{bad}}); err == nil {
			t.Errorf("Since %q: no error", bad)
		}
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestLogIncremental(t *testing.T) {
	r := newRepo(t)
	r.write("a", "1\n")
	r.commit("one")
	r.write("a", "2\n")
	r.commit("two")
	_, lr := readAll(t, r.dir, nil)
	old := lr.Heads()

	// New commits on main and on a new branch.
	r.write("a", "3\n")
	three := r.commit("three")
	r.git("checkout", "-q", "-b", "topic")
	r.write("b", "b\n")
	topic := r.commit("topic")
	r.git("checkout", "-q", "main")
	cs, lr := readAll(t, r.dir, &LogOptions{Since: values(old)})
	if diff := cmp.Diff([]string{topic, three}, shas(cs)); diff != "" {
		t.Fatalf("incremental read (-want +got):\n%s", diff)
	}
	old = lr.Heads()

	// Nothing new: nothing read.
	if cs, _ := readAll(t, r.dir, &LogOptions{Since: values(old)}); len(cs) != 0 {
		t.Fatalf("read without changes returned %v", shas(cs))
	}

	// Force-push: main loses "three" and gets a rewritten commit. The old
	// head is no longer an ancestor, and only the new commit is read.
	r.git("reset", "-q", "--hard", "HEAD~1")
	r.write("a", "3 rewritten\n")
	rewritten := r.commit("three, rewritten")
	if ok, err := IsAncestor(context.Background(), r.dir, three, rewritten); err != nil || ok {
		t.Fatalf("IsAncestor(three, rewritten) = %v, %v; want false", ok, err)
	}
	cs, lr = readAll(t, r.dir, &LogOptions{Since: values(old)})
	if diff := cmp.Diff([]string{rewritten}, shas(cs)); diff != "" {
		t.Fatalf("read after force-push (-want +got):\n%s", diff)
	}
	old = lr.Heads()

	// A head that vanished (branch deleted, gc) is dropped from Since.
	r.git("checkout", "-q", "-b", "doomed")
	r.write("c", "c\n")
	doomed := r.commit("doomed")
	r.git("checkout", "-q", "main")
	withDoomed, err := Heads(context.Background(), r.dir)
	if err != nil {
		t.Fatal(err)
	}
	r.git("branch", "-q", "-D", "doomed")
	r.git("reflog", "expire", "--expire=now", "--all")
	r.git("gc", "-q", "--prune=now")
	cs, lr = readAll(t, r.dir, &LogOptions{Since: values(withDoomed)})
	if len(cs) != 0 {
		t.Errorf("read after gc returned %v, want nothing", shas(cs))
	}
	if diff := cmp.Diff([]string{doomed}, lr.Dropped()); diff != "" {
		t.Errorf("Dropped (-want +got):\n%s", diff)
	}
}

func TestLogCloseAndCancel(t *testing.T) {
	r := newRepo(t)
	for i := range 4 {
		r.write("f", strings.Repeat("x\n", i+1))
		r.commit("c" + strconv.Itoa(i))
	}

	lr, err := Log(context.Background(), r.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lr.Next(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := lr.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if !lr.waited {
		t.Error("Close did not reap git")
	}
	if _, err := lr.Next(); !errors.Is(err, errClosed) {
		t.Errorf("Next after Close = %v, want errClosed", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	lr, err = Log(ctx, r.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	if _, err := lr.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := lr.Next()
		if errors.Is(err, context.Canceled) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("Next after cancel = %v, want context.Canceled", err)
		}
	}
	if _, err := lr.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("error not sticky: %v", err)
	}
}

func TestResolveShortAndIsAncestor(t *testing.T) {
	f := sharedFixture(t)
	ctx := context.Background()
	blob := strings.TrimSpace(f.git("rev-parse", f.modify+":f.txt"))
	in := []string{f.root[:12], strings.ToUpper(f.merge[:10]), f.revert, "zzzz", "abc", "0000000000000", blob[:12]}
	got, err := ResolveShort(ctx, f.dir, in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{f.root[:12]: f.root, strings.ToUpper(f.merge[:10]): f.merge, f.revert: f.revert}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResolveShort (-want +got):\n%s", diff)
	}

	tests := []struct {
		a, b string
		want bool
	}{
		{f.root, f.merge, true},
		{f.side, f.merge, true},
		{f.merge, f.merge, true},
		{f.merge, f.side, false},
		{f.side, f.mainOnly, false},
	}
	for _, tt := range tests {
		if got, err := IsAncestor(ctx, f.dir, tt.a, tt.b); err != nil || got != tt.want {
			t.Errorf("IsAncestor(%.8s, %.8s) = %v, %v; want %v", tt.a, tt.b, got, err, tt.want)
		}
	}
	if _, err := IsAncestor(ctx, f.dir, strings.Repeat("1", 40), f.merge); err == nil {
		t.Error("IsAncestor(unknown commit) returned no error")
	}
}

func TestLogEOFWithoutProcess(t *testing.T) {
	r := newRepo(t)
	lr, err := Log(context.Background(), r.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lr.Next(); err != io.EOF {
		t.Fatalf("Next on empty repo = %v, want io.EOF", err)
	}
	if err := lr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLogGitDies(t *testing.T) {
	r := newRepo(t)
	r.write("a", "old\n")
	r.commit("one")
	blob := strings.TrimSpace(r.git("rev-parse", "HEAD:a"))
	r.write("a", "new\n")
	r.commit("two")
	// Lose the blob the diffs need: git log -p fails part way.
	if err := os.Remove(filepath.Join(r.dir, ".git", "objects", blob[:2], blob[2:])); err != nil {
		t.Fatal(err)
	}
	// The read goes on: both commits come back without their changes,
	// each with a problem naming the blob.
	cs, lr := readAll(t, r.dir, nil)
	if len(cs) != 2 {
		t.Fatalf("read %d commits, want 2", len(cs))
	}
	for _, c := range cs {
		if c.Problem == nil || c.Problem.Object != blob || !strings.Contains(c.Problem.Detail, blob) || c.PatchID != "" {
			t.Errorf("commit %q: problem %+v, patch-id %q; want one naming blob %s", c.Subject, c.Problem, c.PatchID, blob)
		}
	}
	if len(lr.Problems()) != 2 {
		t.Errorf("Problems = %+v, want 2", lr.Problems())
	}
}
