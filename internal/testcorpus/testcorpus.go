// Package testcorpus gives tests the real data of ../shared/corpus:
// the io-uring public-inbox epoch (PATCHTRAIL_CORPUS, a directory holding
// io-uring/git/0.git; `make test` unpacks it), the kernel CVE records
// (PATCHTRAIL_VULNS) and a liburing clone (PATCHTRAIL_LIBURING). Each
// accessor skips the test with a clear message when its data is absent,
// so a plain clone still passes.
package testcorpus

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Inbox returns the io-uring public-inbox v2 directory, or skips.
func Inbox(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("PATCHTRAIL_CORPUS")
	if dir == "" {
		tb.Skip("corpus absent: set PATCHTRAIL_CORPUS to a directory holding io-uring/git/0.git (make test does)")
	}
	inbox := filepath.Join(dir, "io-uring")
	if _, err := os.Stat(filepath.Join(inbox, "git", "0.git", "HEAD")); err != nil {
		tb.Skipf("corpus absent: %v (PATCHTRAIL_CORPUS=%s)", err, dir)
	}
	return inbox
}

// Epoch returns the io-uring epoch git directory, or skips.
func Epoch(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(Inbox(tb), "git", "0.git")
}

// Vulns returns the kernel vulns repository copy, or skips.
func Vulns(tb testing.TB) string {
	tb.Helper()
	return dirFromEnv(tb, "PATCHTRAIL_VULNS", "cve")
}

// Liburing returns a liburing clone (bare or not), or skips.
func Liburing(tb testing.TB) string {
	tb.Helper()
	return dirFromEnv(tb, "PATCHTRAIL_LIBURING", "")
}

func dirFromEnv(tb testing.TB, env, inside string) string {
	tb.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		tb.Skipf("data absent: set %s", env)
	}
	if _, err := os.Stat(filepath.Join(dir, inside)); err != nil {
		tb.Skipf("data absent: %v (%s=%s)", err, env, dir)
	}
	return dir
}

// Messages streams the messages of the epoch in archive order: `git log
// --reverse --raw` names the blobs and one `git cat-file --batch` reads
// them. fn gets the position in the log, the blob id and the raw bytes
// (a fresh slice). It returns how many blobs were missing.
func Messages(tb testing.TB, fn func(i int, oid string, raw []byte)) (missing int) {
	tb.Helper()
	epoch := Epoch(tb)
	out, err := exec.Command("git", "-C", epoch, "log", "--reverse", "--raw", "--no-abbrev", "--format=").Output()
	if err != nil {
		tb.Fatalf("git log: %v", err)
	}
	var oids []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && strings.HasPrefix(f[0], ":") && strings.Trim(f[3], "0") != "" && (f[5] == "m" || f[5] == "d") {
			oids = append(oids, f[3])
		}
	}
	cmd := exec.Command("git", "-C", epoch, "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("git cat-file: %v", err)
	}
	defer cmd.Wait()
	go func() {
		w := bufio.NewWriter(stdin)
		for _, oid := range oids {
			fmt.Fprintln(w, oid)
		}
		w.Flush()
		stdin.Close()
	}()
	br := bufio.NewReaderSize(stdout, 1<<20)
	for i, oid := range oids {
		hdr, err := br.ReadString('\n')
		if err != nil {
			tb.Fatalf("cat-file header: %v", err)
		}
		f := strings.Fields(hdr)
		if len(f) == 2 && f[1] == "missing" {
			missing++
			continue
		}
		if len(f) != 3 {
			tb.Fatalf("cat-file header %q", hdr)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			tb.Fatalf("cat-file header %q", hdr)
		}
		raw := make([]byte, n+1)
		if _, err := io.ReadFull(br, raw); err != nil {
			tb.Fatalf("cat-file body: %v", err)
		}
		fn(i, oid, raw[:n])
	}
	return missing
}
