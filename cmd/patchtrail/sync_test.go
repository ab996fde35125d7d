package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/store"
	"patchtrail/internal/testserver"
)

// messageIDs returns the sorted Message-IDs of the live messages in the
// store of data.
func messageIDs(t *testing.T, data string) []string {
	t.Helper()
	st, err := store.Open(context.Background(), data, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query(`SELECT message_id FROM messages WHERE deleted = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// idsOf imports msgs into a scratch data directory and returns the
// Message-IDs the store gives them.
func idsOf(t *testing.T, msgs [][]byte) []string {
	t.Helper()
	dir := t.TempDir()
	md := filepath.Join(dir, "md")
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(md, sub), 0o755)
	}
	for i, m := range msgs {
		os.WriteFile(filepath.Join(md, "cur", fmt.Sprintf("%06d:2,", i)), m, 0o644)
	}
	pt(t, filepath.Join(dir, "data"), "-q", "import", "--no-index", md)
	return messageIDs(t, filepath.Join(dir, "data"))
}

func union(sets ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range sets {
		for _, v := range s {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestCloneFetchCommands mirrors a public-inbox-httpd inbox built from
// the sample (plus 2,000 corpus messages with PATCHTRAIL_CORPUS), then
// fetches mail delivered upstream and an epoch rollover: each time the
// store must hold exactly the inbox's messages.
func TestCloneFetchCommands(t *testing.T) {
	msgs := testserver.Sample(t)
	if corpus, ok := testserver.Corpus(t, 2000); ok {
		msgs = append(msgs, corpus...)
	}
	pi := testserver.StartPublicInbox(t, "io-uring", msgs)
	data := t.TempDir()
	out := pt(t, data, "-q", "clone", pi.URL)
	if !strings.Contains(out, "1 epochs cloned") {
		t.Errorf("clone said:\n%s", out)
	}
	want := idsOf(t, msgs)
	if diff := cmp.Diff(want, messageIDs(t, data)); diff != "" {
		t.Fatalf("after clone (-inbox +store):\n%s", diff)
	}

	delivered := testserver.Synthetic("delivered", 0, 3, 3)
	pi.Deliver(delivered...)
	out = pt(t, data, "-q", "fetch")
	if !strings.Contains(out, "read 3, added 3, duplicates 0") {
		t.Errorf("fetch said:\n%s", out)
	}
	want = union(want, idsOf(t, delivered))
	if diff := cmp.Diff(want, messageIDs(t, data)); diff != "" {
		t.Fatalf("after fetch (-inbox +store):\n%s", diff)
	}
	if got := pt(t, data, "search", "mid:delivered.2@patchtrail.test"); !strings.HasPrefix(got, "1 results") {
		t.Errorf("delivered message not searchable:\n%s", got)
	}

	rolled := testserver.Synthetic("epoch1", 0, 4, 0)
	pi.AddEpoch(rolled...)
	out = pt(t, data, "-q", "fetch", "io-uring")
	if !strings.Contains(out, "read 4, added 4") || !strings.Contains(out, "cloned epochs [1]") {
		t.Errorf("fetch after rollover said:\n%s", out)
	}
	want = union(want, idsOf(t, rolled))
	if diff := cmp.Diff(want, messageIDs(t, data)); diff != "" {
		t.Fatalf("after rollover (-inbox +store):\n%s", diff)
	}
	if _, stderr, err := ptErr(data, "fetch", "nope"); err == nil || !strings.Contains(stderr, "no mirror for nope") {
		t.Errorf("fetch nope: %v %s", err, stderr)
	}
}

// TestSyncSources runs `sync` over a mirror, a Dovecot mailbox, a local
// mbox and an IMAP server that is down: the broken source is retried,
// reported and recorded, and never keeps the others from syncing.
func TestSyncSources(t *testing.T) {
	pi := testserver.StartPublicInbox(t, "pi", testserver.Sample(t)[:20])
	imapMail := testserver.Synthetic("imap", 0, 30, 5)
	d := testserver.StartDovecot(t, imapMail)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	data := t.TempDir()
	mbox := filepath.Join(repoRoot(t), "testdata", "sample", "sample.mbox")
	repo := filepath.Join(t.TempDir(), "code")
	gitRun(t, "", nil, "init", "-q", repo)
	gitRun(t, repo, nil, "commit", "-q", "--allow-empty", "-m", "io_uring: first")
	gitRun(t, repo, nil, "commit", "-q", "--allow-empty", "-m", "io_uring: second")
	conf := fmt.Sprintf(`[sync]
retries = 1
backoff = "50ms"

[[list]]
name = "pi"
source = [{ mirror = %q }]

[[list]]
name = "mail"
source = [{ imap = %q, password-file = %q }]

[[list]]
name = "local"
source = [{ path = %q }]

[[list]]
name = "broken"
source = [{ imap = "imap://tester@%s/INBOX", password-file = %q }]

[[repo]]
name = "code"
path = %q
`, pi.URL, d.URL(""), d.PasswordFile, mbox, dead, d.PasswordFile, repo)
	if err := os.WriteFile(filepath.Join(data, "patchtrail.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// A one-off IMAP import: the password from --password-file, never
	// from the command line.
	if got := pt(t, t.TempDir(), "-q", "import", "--password-file", d.PasswordFile, d.URL("")); !strings.Contains(got, "read 30, added 30") {
		t.Errorf("import %s:\n%s", d.URL(""), got)
	}

	out, stderr, err := ptErr(data, "-q", "sync")
	if err == nil || !strings.Contains(stderr, "1 of 5 sync jobs failed") {
		t.Errorf("sync with a dead source: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"ok     pi mirror " + pi.URL + " (1 attempts",
		"ok     mail imap " + d.URL(""),
		"ok     local path " + mbox,
		"FAILED broken imap imap://tester@" + dead + "/INBOX (2 attempts",
		"ok     link commits (1 attempts",
		"code: 2 new commits",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sync output lacks %q:\n%s", want, out)
		}
	}
	var views []indexer.SourceStatus
	if err := json.Unmarshal([]byte(pt(t, data, "sources", "--json")), &views); err != nil {
		t.Fatal(err)
	}
	state := map[string]indexer.SourceStatus{}
	for _, v := range views {
		state[v.List] = v
	}
	for _, l := range []string{"pi", "mail", "local"} {
		if v := state[l]; v.LastSync.IsZero() || v.Messages == 0 || v.LastError != "" || !v.Configured {
			t.Errorf("source %s: %+v", l, v)
		}
	}
	if v := state["broken"]; !v.LastSync.IsZero() || !strings.Contains(v.LastError, "connection refused") {
		t.Errorf("broken source: %+v", v)
	}
	if state["mail"].Messages != int64(len(imapMail)) {
		t.Errorf("mail source brought %d messages, want %d", state["mail"].Messages, len(imapMail))
	}

	// New mail on both servers, and the IMAP server then goes away too.
	more := testserver.Synthetic("more", 0, 3, 0)
	d.Append(more[:2]...)
	pi.Deliver(more[2])
	out, _, _ = ptErr(data, "-q", "sync")
	if !strings.Contains(out, "mail imap "+d.URL("")+" (1 attempts") || !strings.Contains(out, "read 2, added 2") ||
		!strings.Contains(out, "read 1, added 1") {
		t.Errorf("second sync:\n%s", out)
	}
	d.Stop()
	out, _, _ = ptErr(data, "-q", "sync")
	if !strings.Contains(out, "FAILED mail imap") || !strings.Contains(out, "ok     pi mirror") {
		t.Errorf("sync with Dovecot stopped:\n%s", out)
	}
	if got := pt(t, data, "sources"); !strings.Contains(got, "last error: mbox: "+d.URL("")) {
		t.Errorf("sources:\n%s", got)
	}
}

// TestServeSync serves while syncing a mirror every second: a message
// delivered upstream becomes searchable over HTTP within seconds.
func TestServeSync(t *testing.T) {
	pi := testserver.StartPublicInbox(t, "live", testserver.Sample(t)[:10])
	data := t.TempDir()
	conf := fmt.Sprintf("[[list]]\nname = \"live\"\nsource = [{ mirror = %q }]\n", pi.URL)
	os.WriteFile(filepath.Join(data, "patchtrail.toml"), []byte(conf), 0o644)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--data", data, "-q", "serve", "--addr", addr, "--sync", "1s")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	found := func(mid string) bool {
		resp, err := http.Get("http://" + addr + "/api/v1/search?q=" + url.QueryEscape("mid:"+mid))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var page struct {
			Total int `json:"total"`
		}
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&page) == nil && page.Total == 1
	}
	waitFor := func(mid string) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 60*time.Second {
			if found(mid) {
				return time.Since(start)
			}
			select {
			case err := <-exited:
				t.Fatalf("serve exited: %v\n%s", err, stderr.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
		t.Fatalf("%s not searchable after 60s\n%s", mid, stderr.String())
		return 0
	}
	first, err := mail.ReadMessage(bytes.NewReader(testserver.Sample(t)[0]))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first round: sample message searchable after %s", waitFor(strings.Trim(first.Header.Get("Message-Id"), "<>")).Round(time.Millisecond))

	pi.Deliver(testserver.Synthetic("live", 0, 1, 0)...)
	delivered := time.Now()
	waitFor("live.0@patchtrail.test")
	lag := time.Since(delivered)
	t.Logf("delivered upstream → searchable over HTTP: %s", lag.Round(time.Millisecond))
	if lag > 30*time.Second {
		t.Errorf("new message took %s to become searchable", lag)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("serve did not stop within 30s of SIGTERM")
	}
}
