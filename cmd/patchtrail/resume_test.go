package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/store"
	"patchtrail/search"
)

// synthMessages writes n messages in threads of up to 8, with an exact
// duplicate every 97 messages and a missing Message-ID every 211.
func synthMessages(n int) [][]byte {
	var out [][]byte
	base := time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)
	root := ""
	for i := 0; i < n; i++ {
		var b bytes.Buffer
		id := fmt.Sprintf("m%05d@synth.example.org", i)
		date := base.Add(time.Duration(i) * time.Minute).Format(time.RFC1123Z)
		fmt.Fprintf(&b, "From: Dev %d <dev%d@example.org>\nTo: list@example.org\n", i%13, i%13)
		if i%211 != 5 {
			fmt.Fprintf(&b, "Message-ID: <%s>\n", id)
		}
		if i%8 == 0 {
			root = id
			fmt.Fprintf(&b, "Subject: [PATCH v%d %d/3] io_uring: change number %d\n", 1+i%3, 1+i%3, i)
		} else {
			fmt.Fprintf(&b, "Subject: Re: io_uring: change number %d\nIn-Reply-To: <%s>\nReferences: <%s>\n", i-i%8, root, root)
		}
		fmt.Fprintf(&b, "Date: %s\nList-Id: <synth.example.org>\n\n", date)
		for j := 0; j < 20; j++ {
			fmt.Fprintf(&b, "line %d of message %d: some text that fills the body a little\n", j, i)
		}
		b.WriteString("From the start of a line\n>From quoted\n")
		if i%8 == 0 {
			// A diff, so the radar scores the posting.
			fmt.Fprintf(&b, "---\ndiff --git a/io_uring/f%d.c b/io_uring/f%d.c\n--- a/io_uring/f%d.c\n+++ b/io_uring/f%d.c\n@@ -1,2 +1,4 @@ static int f%d(int len)\n ctx = 0;\n+\tif (len > MAX)\n+\t\treturn -EINVAL;\n return ctx;\n", i%5, i%5, i%5, i%5, i)
		}
		out = append(out, b.Bytes())
		if i%97 == 3 {
			out = append(out, b.Bytes())
		}
	}
	return out
}

func writeMboxrd(t *testing.T, path string, msgs [][]byte) {
	t.Helper()
	var b bytes.Buffer
	esc := regexp.MustCompile(`(?m)^(>*From )`)
	for _, m := range msgs {
		b.WriteString("From mboxrd@z Thu Jan  1 00:00:00 1970\n")
		b.Write(esc.ReplaceAll(m, []byte(">$1")))
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeEpoch builds a public-inbox v2 inbox INBOX/git/0.git with one
// commit per message, as public-inbox writes them.
func writeEpoch(t *testing.T, inbox string, msgs [][]byte) {
	t.Helper()
	git := filepath.Join(inbox, "git", "0.git")
	if err := os.MkdirAll(git, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, git, nil, "init", "-q", "--bare")
	var fi bytes.Buffer
	for i, m := range msgs {
		ts := 1700000000 + i
		fmt.Fprintf(&fi, "commit refs/heads/master\nauthor A <a@example.org> %d +0000\ncommitter C <c@example.org> %d +0000\ndata 0\nM 100644 inline m\ndata %d\n", ts, ts, len(m))
		fi.Write(m)
		fi.WriteString("\n")
	}
	gitRun(t, git, fi.Bytes(), "fast-import", "--quiet")
}

// dump is a store's content in a form that does not depend on the order
// rows were written in: messages with their hash, lists and thread
// partition (named by the smallest Message-ID of each thread), ghosts.
func dump(t *testing.T, data string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().QueryContext(ctx, `SELECT m.message_id, m.content_hash, m.thread,
		(SELECT group_concat(l.name) FROM memberships ms JOIN lists l ON l.id = ms.list WHERE ms.message = m.id),
		(SELECT group_concat(mid) FROM (SELECT mid FROM mids WHERE message = m.id ORDER BY mid))
		FROM messages m`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		mid, hash, lists, ids string
		thread                int64
	}
	var all []row
	threadName := map[int64]string{}
	for rows.Next() {
		var r row
		var h []byte
		if err := rows.Scan(&r.mid, &h, &r.thread, &r.lists, &r.ids); err != nil {
			t.Fatal(err)
		}
		r.hash = hex.EncodeToString(h[:8])
		all = append(all, r)
		if n, ok := threadName[r.thread]; !ok || r.mid < n {
			threadName[r.thread] = r.mid
		}
	}
	var out []string
	for _, r := range all {
		out = append(out, fmt.Sprintf("%s %s lists=%s ids=%s thread=%s", r.mid, r.hash, r.lists, r.ids, threadName[r.thread]))
	}
	ghosts, err := st.DB().QueryContext(ctx, `SELECT mid FROM mids WHERE message = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer ghosts.Close()
	for ghosts.Next() {
		var g string
		ghosts.Scan(&g)
		out = append(out, "ghost "+g)
	}
	var cps []string
	crow, err := st.DB().QueryContext(ctx, `SELECT s.path, c.key, c.value FROM checkpoints c JOIN sources s ON s.id = c.source`)
	if err != nil {
		t.Fatal(err)
	}
	defer crow.Close()
	for crow.Next() {
		var p, k, v string
		crow.Scan(&p, &k, &v)
		cps = append(cps, "checkpoint "+filepath.Base(p)+" "+k+" "+v)
	}
	sort.Strings(out)
	return append(out, cps...)
}

// killAfterCommits starts an import and kills it with SIGKILL once it has
// committed `commits` batches (plus a short delay into the next batch).
// It reports whether the child was killed before it finished.
func killAfterCommits(t *testing.T, data, src string, commits int, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(bin, "--data", data, "-v", "import", "--batch-size", "50", src)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	seen := 0
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "batch committed") {
			seen++
			if seen == commits {
				time.Sleep(delay)
				killed = cmd.Process.Signal(syscall.SIGKILL) == nil
				break
			}
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	werr := cmd.Wait()
	if killed {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			killed = false // it had already finished
		}
	} else if werr != nil {
		t.Fatalf("import failed before the kill point: %v", werr)
	}
	return killed
}

func TestKillAndResume(t *testing.T) {
	msgs := synthMessages(1500)
	dir := t.TempDir()
	mboxPath := filepath.Join(dir, "synth.mbox")
	writeMboxrd(t, mboxPath, msgs)
	inbox := filepath.Join(dir, "synth")
	writeEpoch(t, inbox, msgs)

	for _, src := range []string{mboxPath, inbox} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			clean := filepath.Join(t.TempDir(), "clean")
			pt(t, clean, "import", "--list", "synth", src)
			want := dump(t, clean)
			if len(want) < 1500 {
				t.Fatalf("clean import dumped %d lines, want at least 1500", len(want))
			}
			data := filepath.Join(t.TempDir(), "killed")
			kills := 0
			for i, at := range []struct {
				commits int
				delay   time.Duration
			}{{1, 0}, {3, 2 * time.Millisecond}, {7, 5 * time.Millisecond}, {12, 0}} {
				if killAfterCommits(t, data, src, at.commits, at.delay) {
					kills++
				} else {
					t.Logf("kill point %d: import finished first", i)
				}
			}
			if kills == 0 {
				t.Fatal("no import was killed mid-way")
			}
			out := pt(t, data, "import", "--list", "synth", src)
			if !strings.Contains(out, "added") {
				t.Fatalf("resumed import printed %q", out)
			}
			if diff := cmp.Diff(want, dump(t, data)); diff != "" {
				t.Errorf("store after %d kills and a resume differs from a clean import (-clean +resumed):\n%s", kills, diff)
			}
			// The radar scored what a clean import scores, and nothing
			// is left queued.
			if got, want := pt(t, data, "radar", "--json"), pt(t, clean, "radar", "--json"); got != want || !strings.Contains(want, `"score"`) {
				t.Errorf("radar after kills and a resume:\n%.2000s\nclean import:\n%.2000s", got, want)
			}
			// The search index holds every message exactly once.
			if docs, msgs := indexedCount(t, data); docs != msgs {
				t.Errorf("index holds %d documents for %d stored messages", docs, msgs)
			}
			// A further run adds nothing.
			again := pt(t, data, "import", "--list", "synth", src)
			if !strings.Contains(again, "added 0,") {
				t.Errorf("third import: %q, want nothing added", again)
			}
		})
	}
}

// indexedCount returns the number of search documents and of stored
// messages in the data directory.
func indexedCount(t *testing.T, data string) (docs, msgs uint64) {
	t.Helper()
	ix, err := search.Open(filepath.Join(data, "index"), &search.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if docs, err = ix.DocCount(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), data, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return docs, uint64(s.Messages)
}
