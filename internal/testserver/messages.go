package testserver

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"patchtrail/mbox"
)

// RepoRoot returns the top of the source tree (the directory holding
// go.mod), for testdata/.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// readAll returns the Data of up to n messages of the source at path
// (all when n <= 0), skipping unreadable items.
func readAll(tb testing.TB, path string, n int) [][]byte {
	tb.Helper()
	r, err := mbox.Open(context.Background(), path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var out [][]byte
	for n <= 0 || len(out) < n {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("reading %s: %v", path, err)
		}
		if m.Data != nil && !m.Deleted {
			out = append(out, m.Data)
		}
	}
	return out
}

// Sample returns the messages of testdata/sample/sample.mbox.
func Sample(tb testing.TB) [][]byte {
	tb.Helper()
	return readAll(tb, filepath.Join(RepoRoot(tb), "testdata", "sample", "sample.mbox"), 0)
}

// Corpus returns the first n messages of the real io-uring epoch, and
// false (without skipping) when PATCHTRAIL_CORPUS does not point at it.
func Corpus(tb testing.TB, n int) ([][]byte, bool) {
	tb.Helper()
	dir := os.Getenv("PATCHTRAIL_CORPUS")
	epoch := filepath.Join(dir, "io-uring", "git", "0.git")
	if _, err := os.Stat(filepath.Join(epoch, "HEAD")); dir == "" || err != nil {
		tb.Logf("corpus absent: set PATCHTRAIL_CORPUS to a directory holding io-uring/git/0.git to add %d real messages", n)
		return nil, false
	}
	return readAll(tb, epoch, n), true
}

// Synthetic returns n small, distinct messages whose Message-IDs are
// <TAG.I@patchtrail.test> for I = from … from+n-1; pad adds body lines.
func Synthetic(tag string, from, n, pad int) [][]byte {
	out := make([][]byte, 0, n)
	for i := from; i < from+n; i++ {
		b := fmt.Appendf(nil, "From: Synthetic Sender <synthetic@patchtrail.test>\n"+
			"To: list@patchtrail.test\nSubject: [PATCH %d/%d] %s: message %d\n"+
			"Date: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <%s.%d@patchtrail.test>\n\n"+
			"Body of synthetic message %d (%s).\n", i, from+n-1, tag, i, tag, i, i, tag)
		for j := 0; j < pad; j++ {
			b = fmt.Appendf(b, "line %d of the padding of message %d, long enough to fill some bytes.\n", j, i)
		}
		out = append(out, b)
	}
	return out
}
