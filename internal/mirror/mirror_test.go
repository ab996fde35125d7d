package mirror

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/testserver"
	"patchtrail/mbox"
)

func TestInboxEpochs(t *testing.T) {
	fp := func(s string) *string { return &s }
	m := map[string]manifestEntry{
		"/io-uring/git/0.git":     {Fingerprint: fp("a")},
		"/io-uring/git/1.git":     {Fingerprint: nil},
		"/io-uring/git/10.git":    {Fingerprint: fp("c")},
		"/xio-uring/git/0.git":    {Fingerprint: fp("x")},
		"/linux-block/git/0.git":  {Fingerprint: fp("y")},
		"/io-uring/io-uring.git":  {Fingerprint: fp("v1")},
		"/io-uring/git/0.git.bak": {Fingerprint: fp("z")},
		"/git/0.git":              {Fingerprint: fp("root")},
	}
	for _, tc := range []struct {
		path string
		want []Epoch
	}{
		{"/io-uring", []Epoch{{0, "a"}, {1, ""}, {10, "c"}}},
		{"/lore/io-uring", []Epoch{{0, "a"}, {1, ""}, {10, "c"}}}, // site under a prefix
		{"/linux-block", []Epoch{{0, "y"}}},
		{"/uring", nil},
		{"", nil},
	} {
		if diff := cmp.Diff(tc.want, inboxEpochs(m, tc.path)); diff != "" {
			t.Errorf("inboxEpochs(%q) (-want +got):\n%s", tc.path, diff)
		}
	}
}

func TestParseManifest(t *testing.T) {
	js := `{"/a/git/0.git":{"fingerprint":"f0","modified":1}}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(js))
	zw.Close()
	for name, in := range map[string][]byte{"gzip": gz.Bytes(), "plain": []byte(js)} {
		m, err := parseManifest(bytes.NewReader(in))
		if err != nil || m["/a/git/0.git"].Fingerprint == nil || *m["/a/git/0.git"].Fingerprint != "f0" {
			t.Errorf("%s: parseManifest = %v, %v", name, m, err)
		}
	}
	for _, bad := range [][]byte{nil, []byte("[1,2]"), {0x1f, 0x8b, 0, 0}, gz.Bytes()[:gz.Len()/2]} {
		if _, err := parseManifest(bytes.NewReader(bad)); err == nil {
			t.Errorf("parseManifest(%q) accepted", bad)
		}
	}
}

// countFrom reads the mirror with checkpoints ck and returns how many
// messages it yields and the checkpoints after them.
func countFrom(t *testing.T, dir string, ck map[string]string) (int, map[string]string) {
	t.Helper()
	r, err := mbox.Open(context.Background(), dir, &mbox.Options{
		Checkpoint: func(k string) (string, bool) { v, ok := ck[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	after := map[string]string{}
	for k, v := range ck {
		after[k] = v
	}
	n := 0
	for {
		m, err := r.Next()
		if err == io.EOF {
			return n, after
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		after[m.Key] = m.Checkpoint
	}
}

func TestCloneFetch(t *testing.T) {
	root := t.TempDir()
	srv := testserver.StartGitHTTP(t, root)
	epoch0 := filepath.Join(root, "test", "git", "0.git")
	when := testserver.FastImport(t, epoch0, testserver.Synthetic("e0", 0, 5, 0), 1700000000)
	testserver.FastImport(t, filepath.Join(root, "other", "git", "0.git"), testserver.Synthetic("other", 0, 2, 0), 1700000000)
	url := srv.URL + "/test"
	dir := filepath.Join(t.TempDir(), "mirrors", "test")
	ctx := context.Background()

	// No manifest anywhere: the epochs are found by probing.
	m, res, err := Clone(ctx, url+"/", dir, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.URL != url || m.List != "test" || !strings.HasPrefix(res.Discovery, "probing") ||
		!cmp.Equal(res.Cloned, []int{0}) || res.Epochs != 1 {
		t.Errorf("Clone = %+v, %+v", m, res)
	}
	n, ck := countFrom(t, dir, nil)
	if n != 5 {
		t.Errorf("mirror holds %d messages, want 5", n)
	}

	// The inbox's manifest: nothing changed, nothing fetched.
	srv.WriteManifest(t, "/test/manifest.js.gz", "test")
	res, err = m.Fetch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != 1 || len(res.Fetched)+len(res.Cloned) != 0 || !strings.HasSuffix(res.Discovery, "/test/manifest.js.gz") {
		t.Errorf("Fetch unchanged = %+v", res)
	}

	// New messages upstream: the fingerprint differs (public-inbox
	// computes the manifest per request).
	when = testserver.FastImport(t, epoch0, testserver.Synthetic("e0", 5, 3, 0), when)
	srv.WriteManifest(t, "/test/manifest.js.gz", "test")
	res, err = m.Fetch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(res.Fetched, []int{0}) {
		t.Errorf("Fetch after new mail = %+v", res)
	}
	if n, ck = countFrom(t, dir, ck); n != 3 {
		t.Errorf("fetch brought %d new messages, want 3", n)
	}

	// Epoch rollover, the manifest still listing epoch 0 only (as
	// public-inbox-httpd's cached list does until the next index).
	testserver.FastImport(t, filepath.Join(root, "test", "git", "1.git"), testserver.Synthetic("e1", 0, 2, 0), when)
	res, err = m.Fetch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(res.Cloned, []int{1}) || res.Epochs != 2 {
		t.Errorf("Fetch after rollover = %+v", res)
	}
	if n, ck = countFrom(t, dir, ck); n != 2 {
		t.Errorf("new epoch brought %d messages, want 2", n)
	}

	// Only a site manifest (for two inboxes): used, filtered, up to date.
	srv.WriteManifest(t, "/test/manifest.js.gz")
	srv.WriteManifest(t, "/manifest.js.gz", "test", "other")
	res, err = m.Fetch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != 2 || res.Epochs != 2 || !strings.HasSuffix(res.Discovery, srv.URL+"/manifest.js.gz") {
		t.Errorf("Fetch with site manifest = %+v", res)
	}
	if n, _ := countFrom(t, dir, ck); n != 0 {
		t.Errorf("nothing new upstream, but %d messages", n)
	}

	// Clone again: a fetch. Another URL into the same directory: refused.
	if _, res, err := Clone(ctx, url, dir, "test", nil); err != nil || res.Unchanged != 2 {
		t.Errorf("Clone again = %+v, %v", res, err)
	}
	if _, _, err := Clone(ctx, srv.URL+"/other", dir, "other", nil); err == nil || !strings.Contains(err.Error(), "already mirrors") {
		t.Errorf("Clone of another inbox into %s = %v", dir, err)
	}
	ms, err := List(filepath.Dir(dir))
	if err != nil || len(ms) != 1 || ms[0].Dir != dir || ms[0].URL != url {
		t.Errorf("List = %+v, %v", ms, err)
	}
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNotMirror) {
		t.Errorf("Open(empty dir) = %v, want ErrNotMirror", err)
	}
}

func TestCloneErrors(t *testing.T) {
	root := t.TempDir()
	srv := testserver.StartGitHTTP(t, root)
	ctx := context.Background()
	if _, _, err := Clone(ctx, srv.URL+"/nothing", t.TempDir(), "x", nil); err == nil || !strings.Contains(err.Error(), "no public-inbox epochs") {
		t.Errorf("Clone of a missing inbox = %v", err)
	}
	if _, _, err := Clone(ctx, "ftp://h/x", t.TempDir(), "x", nil); err == nil {
		t.Error("Clone accepted ftp://")
	}
	// A server that is gone: an error naming the URL, no directory left
	// looking like an epoch.
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	dir := t.TempDir()
	_, _, err := Clone(ctx, deadURL+"/x", dir, "x", nil)
	if err == nil || !strings.Contains(err.Error(), deadURL) {
		t.Errorf("Clone from a dead server = %v", err)
	}
	if eps, _ := filepath.Glob(filepath.Join(dir, "git", "*")); len(eps) != 0 {
		t.Errorf("left behind %v", eps)
	}
}

// TestCloneInterrupted leaves a half-cloned epoch behind, as a killed
// clone does: it must not count as an epoch and the next run replaces it.
func TestCloneInterrupted(t *testing.T) {
	root := t.TempDir()
	srv := testserver.StartGitHTTP(t, root)
	testserver.FastImport(t, filepath.Join(root, "test", "git", "0.git"), testserver.Synthetic("p", 0, 3, 0), 1700000000)
	dir := t.TempDir()
	partial := filepath.Join(dir, "git", "0.git.partial")
	if out, err := exec.Command("git", "init", "-q", "--bare", partial).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, MetaFile), []byte(`{"url":"`+srv.URL+`/test","list":"test"}`), 0o644)
	if _, err := mbox.Open(context.Background(), dir, nil); err == nil {
		t.Error("a directory with only a partial epoch opened as an inbox")
	}
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m.Fetch(context.Background(), nil); err != nil || !cmp.Equal(res.Cloned, []int{0}) {
		t.Fatalf("Fetch = %+v, %v", res, err)
	}
	if n, _ := countFrom(t, dir, nil); n != 3 {
		t.Errorf("%d messages after finishing the clone, want 3", n)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial clone still there: %v", err)
	}
}
