// Package testcorpus gives tests the real data of ../shared/corpus:
// the io-uring public-inbox epoch (PATCHTRAIL_CORPUS, a directory holding
// io-uring/git/0.git; `make test` unpacks it), the kernel CVE records
// (PATCHTRAIL_VULNS) and a liburing clone (PATCHTRAIL_LIBURING). Each
// accessor skips the test with a clear message when its data is absent,
// so a plain clone still passes.
package testcorpus

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

var midRE = regexp.MustCompile(`<([^<>\s]+)>`)

// WriteThreads writes to path, as an mboxrd in archive order, every
// message of the epoch's threads (messages joined by Message-ID,
// In-Reply-To and References) holding a message that match accepts
// (given its header and decoded Subject). It returns how many messages
// it wrote. Tests use it to import the few threads they look at
// instead of the whole epoch.
func WriteThreads(tb testing.TB, path string, match func(h mail.Header, subject string) bool) int {
	tb.Helper()
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	first := map[int]string{} // position in the log → one id of the message
	var matched []string
	dec := new(mime.WordDecoder)
	Messages(tb, func(i int, _ string, raw []byte) {
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			return
		}
		var ids []string
		for _, h := range []string{"Message-Id", "In-Reply-To", "References"} {
			for _, v := range m.Header[h] {
				for _, id := range midRE.FindAllStringSubmatch(v, -1) {
					ids = append(ids, id[1])
				}
			}
		}
		if len(ids) == 0 {
			return
		}
		first[i] = ids[0]
		for _, id := range ids[1:] {
			parent[find(ids[0])] = find(id)
		}
		subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			subj = m.Header.Get("Subject")
		}
		if match(m.Header, subj) {
			matched = append(matched, ids[0])
		}
	})
	keep := map[string]bool{}
	for _, id := range matched {
		keep[find(id)] = true
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	n := 0
	Messages(tb, func(i int, _ string, raw []byte) {
		if id, ok := first[i]; !ok || !keep[find(id)] {
			return
		}
		n++
		writeMboxrd(w, raw)
	})
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return n
}

var fromLineRE = regexp.MustCompile(`(?m)^(>*From )`)

// writeMboxrd writes one message as mboxrd: a "From " separator line,
// ">"-quoted "From " lines, a blank line after.
func writeMboxrd(w *bufio.Writer, raw []byte) {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	w.WriteString("From mboxrd@z Thu Jan  1 00:00:00 1970\n")
	w.Write(fromLineRE.ReplaceAll(raw, []byte(">$1")))
	if !bytes.HasSuffix(raw, []byte("\n")) {
		w.WriteByte('\n')
	}
	w.WriteByte('\n')
}
