package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain keeps the user's and the system's git configuration out of
// every git command of the tests, ours and the package's.
func TestMain(m *testing.M) {
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	// Speed: no fsync, no automatic gc in scratch repositories.
	os.Setenv("GIT_CONFIG_COUNT", "2")
	os.Setenv("GIT_CONFIG_KEY_0", "core.fsync")
	os.Setenv("GIT_CONFIG_VALUE_0", "none")
	os.Setenv("GIT_CONFIG_KEY_1", "gc.auto")
	os.Setenv("GIT_CONFIG_VALUE_1", "0")
	root, err := os.MkdirTemp("", "gitrepo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedRoot = root
	code := m.Run()
	os.RemoveAll(root)
	os.Exit(code)
}

// sharedRoot holds repositories shared by several tests (read only).
var sharedRoot string

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}

// testRepo is a scratch repository; every git command gets a later,
// distinct author and committer date so log order is deterministic.
type testRepo struct {
	t    testing.TB
	dir  string
	tick int
}

func newRepo(t testing.TB) *testRepo {
	t.Helper()
	return newRepoIn(t, t.TempDir())
}

func newRepoIn(t testing.TB, dir string) *testRepo {
	t.Helper()
	needGit(t)
	r := &testRepo{t: t, dir: dir}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	return r.gitIn("", args...)
}

func (r *testRepo) gitIn(stdin string, args ...string) string {
	r.t.Helper()
	r.tick++
	date := fmt.Sprintf("@%d +0200", 1700000000+r.tick*60)
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Ann Author", "GIT_AUTHOR_EMAIL=ann@example.org", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Cid Committer", "GIT_COMMITTER_EMAIL=cid@example.org", "GIT_COMMITTER_DATE="+date,
		"LC_ALL=C")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (r *testRepo) write(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit stages everything and commits with msg, returning the new id.
func (r *testRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.gitIn(msg, "commit", "-q", "--allow-empty", "-F", "-")
	return r.head()
}

func (r *testRepo) head() string {
	r.t.Helper()
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

// readAll reads every commit of a Log.
func readAll(t testing.TB, dir string, opts *LogOptions) ([]*Commit, *LogReader) {
	t.Helper()
	lr, err := Log(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	defer lr.Close()
	var cs []*Commit
	for {
		c, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		cs = append(cs, c)
	}
	if _, err := lr.Next(); err != io.EOF {
		t.Fatalf("Next after EOF = %v, want io.EOF (sticky)", err)
	}
	return cs, lr
}

func shas(cs []*Commit) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.SHA)
	}
	return out
}

// gitPatchID is the reference: `git show <sha> | git patch-id --stable`.
func gitPatchID(t testing.TB, dir, sha string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "git -C \"$1\" show \"$2\" | git patch-id --stable", "sh", dir, sha)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git patch-id of %s: %v", sha, err)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	return id
}

func TestNotRepository(t *testing.T) {
	needGit(t)
	_, err := Log(context.Background(), t.TempDir(), nil)
	if !errors.Is(err, ErrNotRepository) {
		t.Fatalf("Log(empty dir) error = %v, want ErrNotRepository", err)
	}
	var ge *GitError
	if !errors.As(err, &ge) || ge.ExitCode == 0 {
		t.Fatalf("Log(empty dir) error = %#v, want *GitError with exit code", err)
	}
}

func TestEmptyRepository(t *testing.T) {
	r := newRepo(t)
	heads, err := Heads(context.Background(), r.dir)
	if err != nil || len(heads) != 0 {
		t.Fatalf("Heads(empty) = %v, %v; want empty map", heads, err)
	}
	cs, _ := readAll(t, r.dir, nil)
	if len(cs) != 0 {
		t.Fatalf("Log(empty) returned %d commits", len(cs))
	}
}
