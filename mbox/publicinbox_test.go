package mbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// commitOp is one commit of a fixture epoch.
type commitOp struct {
	path    string // "m" or "d" in a v2 epoch, a hashed name in v1
	data    string
	del     bool // v1: remove path
	empty   bool // a commit that changes nothing
	missing bool // v2: m names a blob the repository lacks
}

const (
	fixtureTime = 1700000000
	fakeBlob    = "0123456789abcdef0123456789abcdef01234567"
)

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}

// runGit runs git in the bare repository dir with stdin and returns its
// trimmed output.
func runGit(t testing.TB, dir, stdin string, args ...string) string {
	t.Helper()
	return runGitEnv(t, dir, nil, stdin, args...)
}

func runGitEnv(t testing.TB, dir string, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.org",
		"GIT_COMMITTER_NAME=C", "GIT_COMMITTER_EMAIL=c@example.org")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// buildEpoch appends one commit per op to the bare repository dir
// (created if needed) and returns the new commit ids in order. The n-th
// commit of the repository has committer time fixtureTime + 60*n.
func buildEpoch(t testing.TB, dir string, v1 bool, ops []commitOp) []string {
	t.Helper()
	tip := ""
	n := 0
	if !isBareGit(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		runGit(t, dir, "", "init", "-q", "--bare", "--initial-branch=master")
	} else if out := runGit(t, dir, "", "rev-list", "--all", "--count"); out != "0" {
		tip = runGit(t, dir, "", "rev-parse", "HEAD")
		fmt.Sscan(out, &n)
	}
	var stream bytes.Buffer
	fresh := true // the next commit starts a fast-import stream
	flush := func() {
		if stream.Len() == 0 {
			return
		}
		runGit(t, dir, stream.String(), "fast-import", "--quiet")
		stream.Reset()
		tip = runGit(t, dir, "", "rev-parse", "HEAD")
		fresh = true
	}
	var ids []string
	for _, op := range ops {
		when := fixtureTime + 60*n
		n++
		ids = append(ids, "") // filled in from rev-list below
		if op.missing {
			flush()
			tree := runGit(t, dir, "100644 blob "+fakeBlob+"\tm\n", "mktree", "--missing")
			args := []string{"commit-tree", tree, "-m", "missing"}
			if tip != "" {
				args = append(args, "-p", tip)
			}
			tip = runGitEnv(t, dir, []string{fmt.Sprintf("GIT_COMMITTER_DATE=%d +0000", when)}, "", args...)
			runGit(t, dir, "", "update-ref", "HEAD", tip)
			continue
		}
		fmt.Fprintf(&stream, "commit refs/heads/master\ncommitter C <c@example.org> %d +0000\ndata 3\nmsg\n", when)
		if fresh && tip != "" {
			fmt.Fprintf(&stream, "from %s\n", tip)
		}
		fresh = false
		switch {
		case op.empty:
		case op.del:
			fmt.Fprintf(&stream, "D %s\n", op.path)
		default:
			if !v1 {
				stream.WriteString("deleteall\n")
			}
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", op.path, len(op.data), op.data)
		}
		stream.WriteString("\n")
	}
	flush()
	all := strings.Fields(runGit(t, dir, "", "rev-list", "--reverse", "HEAD"))
	return all[len(all)-len(ids):]
}

// item is the comparable part of a Message.
type item struct {
	Key, Checkpoint, Where, Data string
	Received                     int64
	Deleted, Err                 bool
}

func items(ms []*Message) []item {
	var out []item
	for _, m := range ms {
		out = append(out, item{Key: m.Key, Checkpoint: m.Checkpoint, Where: m.Where, Data: string(m.Data),
			Received: m.Received.Unix(), Deleted: m.Deleted, Err: m.Err != nil})
	}
	return out
}

// expected returns the items reading ops (committed as ids, the first
// being the first commit of the repository) yields from index from on.
func expected(key, dir string, v1 bool, ops []commitOp, ids []string, from int) []item {
	var out []item
	data := map[string]string{}
	for i, op := range ops {
		old := data[op.path]
		data[op.path] = op.data
		if op.empty || i < from {
			continue
		}
		it := item{Key: key, Checkpoint: ids[i], Where: dir + " commit " + ids[i], Received: int64(fixtureTime + 60*i)}
		switch {
		case op.missing:
			it.Err = true
		case v1 && op.del:
			it.Deleted, it.Data = true, old
		default:
			it.Deleted, it.Data = op.path == "d", op.data
		}
		out = append(out, it)
	}
	return out
}

func msgOps(prefix string, n int) []commitOp {
	var ops []commitOp
	for i := range n {
		ops = append(ops, commitOp{path: "m", data: fmt.Sprintf("Message-ID: <%s%d@x>\nSubject: %s %d\n\nbody\n", prefix, i, prefix, i)})
	}
	return ops
}

// v2Ops covers every kind of commit of an epoch.
func v2Ops(prefix string) []commitOp {
	ops := msgOps(prefix, 3)
	ops = append(ops,
		commitOp{empty: true},
		commitOp{missing: true},
		commitOp{path: "d", data: ops[1].data},
		commitOp{path: "m", data: "Subject: after the deletion\n\n" + strings.Repeat("long line of text\n", 100000)},
	)
	return append(ops, msgOps(prefix+"-late", 2)...)
}

type fixtureInbox struct {
	dir    string
	epochs map[string][]string // key → commit ids
	ops    map[string][]commitOp
}

// buildInbox makes a v2 inbox named name under parent with the given
// epochs and a directory that is no epoch.
func buildInbox(t testing.TB, parent, name string, epochs ...string) fixtureInbox {
	needGit(t)
	dir := filepath.Join(parent, name)
	in := fixtureInbox{dir: dir, epochs: map[string][]string{}, ops: map[string][]commitOp{}}
	for _, n := range epochs {
		key := "git/" + n + ".git"
		ops := v2Ops("e" + n)
		in.ops[key] = ops
		in.epochs[key] = buildEpoch(t, filepath.Join(dir, key), false, ops)
	}
	if err := os.MkdirAll(filepath.Join(dir, "git", "x.git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return in
}

var shared struct {
	once sync.Once
	dir  string
	in   fixtureInbox
	ok   bool
}

// sharedInbox returns a read-only v2 inbox "test-list" with epochs 0, 2
// and 10 (numeric and lexical order differ), built once per test binary.
func sharedInbox(t *testing.T) fixtureInbox {
	needGit(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "mbox-inbox-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
		shared.in = buildInbox(t, dir, "test-list", "0", "2", "10")
		shared.ok = true
	})
	if !shared.ok {
		t.Fatal("building the shared inbox failed")
	}
	return shared.in
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func (in fixtureInbox) expected(key string, from int) []item {
	return expected(key, filepath.Join(in.dir, key), false, in.ops[key], in.epochs[key], from)
}

func TestPublicInboxV2(t *testing.T) {
	in := sharedInbox(t)
	r, err := Open(context.Background(), in.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Name(); got != "test-list" {
		t.Errorf("Name() = %q, want test-list", got)
	}
	r.Close()
	got, err := openAll(t, in.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []item
	for _, key := range []string{"git/0.git", "git/2.git", "git/10.git"} {
		want = append(want, in.expected(key, 0)...)
	}
	if diff := cmp.Diff(want, items(got)); diff != "" {
		t.Errorf("items differ (-want +got):\n%.5000s", diff)
	}
	for _, m := range got {
		if m.Err != nil && (!strings.Contains(m.Err.Error(), m.Key) || !strings.Contains(m.Err.Error(), fakeBlob) || m.Data != nil) {
			t.Errorf("missing blob item: Err %q, Data %q; want an error naming the epoch and blob, no Data", m.Err, m.Data)
		}
	}
}

func TestPublicInboxResume(t *testing.T) {
	in := sharedInbox(t)
	e0, e2 := in.epochs["git/0.git"], in.epochs["git/2.git"]
	tests := []struct {
		name string
		cks  map[string]string
		want []item
	}{
		{"mid epoch", map[string]string{"git/0.git": e0[4], "git/2.git": ""},
			concat(in.expected("git/0.git", 5), in.expected("git/2.git", 0), in.expected("git/10.git", 0))},
		{"empty commit", map[string]string{"git/0.git": e0[3]},
			concat(in.expected("git/0.git", 4), in.expected("git/2.git", 0), in.expected("git/10.git", 0))},
		{"epoch done", map[string]string{"git/0.git": e0[len(e0)-1], "git/2.git": e2[1]},
			concat(in.expected("git/2.git", 2), in.expected("git/10.git", 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openAll(t, in.dir, &Options{Checkpoint: func(k string) (string, bool) {
				ck, ok := tt.cks[k]
				return ck, ok
			}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, items(got)); diff != "" {
				t.Errorf("items differ (-want +got):\n%.5000s", diff)
			}
		})
	}
}

func concat(parts ...[]item) []item {
	var out []item
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestPublicInboxRewritten(t *testing.T) {
	in := buildInbox(t, t.TempDir(), "rewritten", "2")
	e2 := in.epochs["git/2.git"]
	dir := filepath.Join(in.dir, "git/2.git")
	// Rewrite epoch 2 as public-inbox-purge would: a new history from
	// the second commit on.
	runGit(t, dir, "", "update-ref", "HEAD", e2[1])
	buildEpoch(t, dir, false, msgOps("purged", 2))
	for _, ck := range []string{e2[3], fakeBlob} {
		_, err := openAll(t, in.dir, resumeAt("git/2.git", ck))
		if !errors.Is(err, ErrRewritten) || !strings.Contains(err.Error(), "git/2.git") {
			t.Errorf("checkpoint %s: error %v, want ErrRewritten naming git/2.git", ck, err)
		}
	}
	// The common history is still a good checkpoint.
	if _, err := openAll(t, in.dir, resumeAt("git/2.git", e2[1])); err != nil {
		t.Errorf("checkpoint in the kept history: %v", err)
	}
	if _, err := openAll(t, in.dir, resumeAt("git/2.git", "not a commit")); err == nil || errors.Is(err, ErrRewritten) {
		t.Errorf("malformed checkpoint: error %v, want a plain error", err)
	}
}

func TestPublicInboxSingleEpoch(t *testing.T) {
	in := sharedInbox(t)
	// In the INBOX/git/N.git layout the inbox name is known.
	key := "git/10.git"
	r, err := Open(context.Background(), filepath.Join(in.dir, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "test-list" {
		t.Errorf("Name() = %q, want test-list", r.Name())
	}
	r.Close()
	got, err := openAll(t, filepath.Join(in.dir, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in.expected(key, 0), items(got)); diff != "" {
		t.Errorf("items differ (-want +got):\n%.5000s", diff)
	}
	// Elsewhere the tree tells it is an epoch, but not the inbox name.
	other := filepath.Join(t.TempDir(), "copy.git")
	ops := msgOps("copy", 2)
	ids := buildEpoch(t, other, false, ops)
	r, err = Open(context.Background(), other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "" {
		t.Errorf("Name() = %q, want empty", r.Name())
	}
	r.Close()
	got, err = openAll(t, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(expected("copy.git", other, false, ops, ids, 0), items(got)); diff != "" {
		t.Errorf("items differ (-want +got):\n%s", diff)
	}
}

func TestPublicInboxV1(t *testing.T) {
	needGit(t)
	dir := filepath.Join(t.TempDir(), "meta.git")
	ops := []commitOp{
		{path: "ab/cdef01", data: "Subject: one\n\n1\n"},
		{path: "12/345678", data: "Subject: two\n\n2\n"},
		{path: "ab/cdef01", del: true},
		{path: "ab/ffff00", data: "Subject: three\n\n3\n"},
	}
	ids := buildEpoch(t, dir, true, ops)
	r, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "meta" {
		t.Errorf("Name() = %q, want meta", r.Name())
	}
	r.Close()
	got, err := openAll(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(expected("", dir, true, ops, ids, 0), items(got)); diff != "" {
		t.Errorf("items differ (-want +got):\n%s", diff)
	}
	got, err = openAll(t, dir, resumeAt("", ids[1]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(expected("", dir, true, ops, ids, 2), items(got)); diff != "" {
		t.Errorf("resumed items differ (-want +got):\n%s", diff)
	}
}

// TestPublicInboxEarlyClose checks that Close and a canceled context in
// the middle of an epoch end both git processes.
func TestPublicInboxEarlyClose(t *testing.T) {
	in := sharedInbox(t)
	for _, cancelFirst := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := Open(ctx, in.dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		cur := r.(*inboxReader).cur
		if cancelFirst {
			cancel()
			if _, err := r.Next(); !errors.Is(err, context.Canceled) {
				t.Errorf("Next after cancel = %v, want context.Canceled", err)
			}
		}
		done := make(chan error)
		go func() { done <- r.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close hangs")
		}
		cancel()
		if cur.lg.cmd.ProcessState == nil || cur.cat.proc.cmd.ProcessState == nil {
			t.Errorf("cancel=%v: git processes not waited for", cancelFirst)
		}
		if err := r.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := r.Next(); err == nil || err == io.EOF {
			t.Errorf("Next after Close = %v, want an error", err)
		}
	}
}
