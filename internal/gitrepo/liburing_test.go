package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os/exec"
	"patchtrail/internal/testcorpus"
	"strconv"
	"strings"
	"testing"
	"time"
)

// liburingRepo returns the real repository named by PATCHTRAIL_LIBURING
// (a clone of axboe/liburing, bare or not) or skips.
func liburingRepo(t testing.TB) string {
	t.Helper()
	dir := testcorpus.Liburing(t)
	needGit(t)
	return dir
}

// sh runs a shell pipeline and returns its output.
func sh(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...).Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return out
}

// fileTotals summarises a commit's files for comparison with numstat.
type fileTotals struct{ files, added, removed, binary int }

// TestLiburing reads the whole history of a real repository and checks
// every commit against git's own tools: the commit list, the patch-ids
// against `git log -p | git patch-id --stable`, and the per-commit file
// totals against --numstat.
func TestLiburing(t *testing.T) {
	dir := liburingRepo(t)
	start := time.Now()
	cs, _ := readAll(t, dir, &LogOptions{WithDiff: true})
	t.Logf("read %d commits with patch-ids and diffs in %v", len(cs), time.Since(start))

	want := strings.Fields(string(sh(t, `git -C "$1" rev-list --branches HEAD`, dir)))
	if len(cs) != len(want) {
		t.Fatalf("read %d commits, git rev-list lists %d", len(cs), len(want))
	}

	ref := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(sh(t, `git -C "$1" log -p --diff-merges=off --branches HEAD | git patch-id --stable`, dir)))
	for sc.Scan() {
		pid, sha, _ := strings.Cut(sc.Text(), " ")
		ref[sha] = pid
	}
	totals := make(map[string]fileTotals)
	var cur string
	sc = bufio.NewScanner(bytes.NewReader(sh(t, `git -C "$1" log --format=%x01%H --numstat -M --diff-merges=off --branches HEAD`, dir)))
	for sc.Scan() {
		line := sc.Text()
		if sha, ok := strings.CutPrefix(line, "\x01"); ok {
			cur = sha
			totals[cur] = fileTotals{}
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			continue
		}
		ft := totals[cur]
		ft.files++
		if f[0] == "-" {
			ft.binary++
		} else {
			a, _ := strconv.Atoi(f[0])
			r, _ := strconv.Atoi(f[1])
			ft.added += a
			ft.removed += r
		}
		totals[cur] = ft
	}

	var withID, merges, badID, badFiles, upstream, reverts int
	for _, c := range cs {
		if c.IsMerge() {
			merges++
		}
		if c.PatchID != "" {
			withID++
		}
		if c.PatchID != ref[c.SHA] {
			badID++
			if badID <= 5 {
				t.Errorf("commit %s: PatchID %q, git patch-id %q", c.SHA, c.PatchID, ref[c.SHA])
			}
		}
		var got fileTotals
		for _, f := range c.Files {
			got.files++
			got.added += f.Added
			got.removed += f.Removed
			if f.Binary {
				got.binary++
			}
		}
		if got != totals[c.SHA] {
			badFiles++
			if badFiles <= 5 {
				t.Errorf("commit %s: file totals %+v, numstat %+v", c.SHA, got, totals[c.SHA])
			}
		}
		if UpstreamOf(c.Body) != "" {
			upstream++
		}
		if _, ok := RevertOf(c.Subject, c.Body); ok {
			reverts++
		}
	}
	if len(ref) != withID {
		t.Errorf("git patch-id printed %d ids, Log found %d", len(ref), withID)
	}
	t.Logf("%d commits: %d merges, %d with patch-id (git: %d), %d mismatched ids, %d mismatched file totals, %d backports, %d reverts",
		len(cs), merges, withID, len(ref), badID, badFiles, upstream, reverts)
}

// BenchmarkLogLiburing reads the whole history of the liburing clone
// with patch-ids and compact diffs.
func BenchmarkLogLiburing(b *testing.B) {
	dir := liburingRepo(b)
	for b.Loop() {
		lr, err := Log(context.Background(), dir, &LogOptions{WithDiff: true})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		lr.Close()
		b.ReportMetric(float64(n), "commits/op")
	}
}
