package mbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/store"
	"patchtrail/internal/testserver"
	"patchtrail/mbox"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storeIDs returns the sorted Message-IDs of the live messages of st.
func storeIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT message_id FROM messages WHERE deleted = 0 ORDER BY message_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// reference is what the store must hold for a mailbox: the same messages
// imported from a plain Maildir into a store of their own.
type reference struct {
	md string
	st *store.Store
	n  int // messages so far
}

func newReference(t *testing.T) *reference {
	t.Helper()
	dir := t.TempDir()
	r := &reference{md: filepath.Join(dir, "Maildir")}
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(r.md, sub), 0o755)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "data"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.st = st
	return r
}

// add puts msgs in the mailbox and returns the Message-IDs it now holds.
func (r *reference) add(t *testing.T, msgs ...[]byte) []string {
	t.Helper()
	for _, m := range msgs {
		os.WriteFile(filepath.Join(r.md, "cur", fmt.Sprintf("%08d.ref:2,", r.n)), m, 0o644)
		r.n++
	}
	if _, err := indexer.Import(context.Background(), r.st, r.md, &indexer.Options{List: "ref"}); err != nil {
		t.Fatal(err)
	}
	return storeIDs(t, r.st)
}

// killHook kills Dovecot's imap processes once, after the n-th message
// was stored: the reader is then in the middle of the mailbox.
type killHook struct {
	d      *testserver.Dovecot
	n      int
	seen   int
	killed int
}

func (h *killHook) Begin(*store.Tx) (indexer.HookBatch, error) { return h, nil }
func (h *killHook) Stored(*store.Added, *indexer.Parsed) error {
	h.seen++
	if h.seen == h.n {
		h.killed = h.d.KillSessions()
	}
	return nil
}
func (h *killHook) Deleted(int64) error                 { return nil }
func (h *killHook) Commit() error                       { return nil }
func (h *killHook) Committed(ctx context.Context) error { return nil }

// TestIMAPDovecot imports a Dovecot mailbox (the sample archive, plus the
// first 2,000 messages of the real corpus when PATCHTRAIL_CORPUS is set)
// through every event a long-lived IMAP source meets, and checks after
// each that the store holds exactly the mailbox's messages, once.
func TestIMAPDovecot(t *testing.T) {
	initial := testserver.Sample(t)
	newMail := testserver.Synthetic("new", 0, 25, 0)
	if corpus, ok := testserver.Corpus(t, 2000); ok {
		initial = append(initial, corpus[:len(corpus)-100]...)
		newMail = corpus[len(corpus)-100:]
	}
	cutMail := testserver.Synthetic("cut", 0, 300, 25)
	killMail := testserver.Synthetic("kill", 0, 300, 25)

	d := testserver.StartDovecot(t, initial)
	proxy := mbox.NewCutProxy(t, d.Addr)
	source := d.URL(proxy.Addr())
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	imp := func(hooks ...indexer.Hook) *indexer.Result {
		t.Helper()
		res, err := indexer.Import(ctx, st, source, &indexer.Options{
			List: "test", Logger: log, Hooks: hooks,
			IMAP: &mbox.IMAPOptions{PasswordFile: d.PasswordFile, BatchSize: 50, Backoff: 20 * time.Millisecond},
		})
		if err != nil {
			t.Fatalf("import: %v\nlog:\n%s", err, logs.String())
		}
		return res
	}
	ref := newReference(t)
	var want []string // the Message-IDs of the mailbox
	check := func(step string, res *indexer.Result, wantRead, wantAdded int) {
		t.Helper()
		if diff := cmp.Diff(want, storeIDs(t, st)); diff != "" {
			t.Fatalf("%s: store Message-IDs differ from the mailbox's (-mailbox +store):\n%s", step, diff)
		}
		if res.Read != wantRead || (wantAdded >= 0 && res.Added != wantAdded) || res.Rejected != 0 {
			t.Errorf("%s: read %d, added %d, duplicates %d, rejected %d; want read %d, added %d",
				step, res.Read, res.Added, res.Duplicates, res.Rejected, wantRead, wantAdded)
		}
		t.Logf("%s: mailbox %d messages, store %d ids; read %d, added %d, duplicates %d",
			step, ref.n, len(want), res.Read, res.Added, res.Duplicates)
	}

	// 1. Full import.
	want = ref.add(t, initial...)
	res := imp()
	check("full import", res, len(initial), len(want))

	// 2. New mail appended: exactly it is read.
	before := len(want)
	d.Append(newMail...)
	want = ref.add(t, newMail...)
	res = imp()
	check("new mail", res, len(newMail), len(want)-before)

	// 3. The connection cut in the middle of a FETCH.
	d.Append(cutMail...)
	want = ref.add(t, cutMail...)
	proxy.CutAfter(150 << 10)
	res = imp()
	check("connection cut", res, len(cutMail), len(cutMail))
	if proxy.Cuts() != 1 || !strings.Contains(logs.String(), "reconnecting") {
		t.Errorf("connection cut: %d cuts, log:\n%s", proxy.Cuts(), logs.String())
	}

	// 4. Dovecot's imap process killed in the middle of the import.
	d.Append(killMail...)
	want = ref.add(t, killMail...)
	kh := &killHook{d: d, n: 60}
	reconnects := strings.Count(logs.String(), "reconnecting")
	res = imp(kh)
	check("imap process killed", res, len(killMail), len(killMail))
	if kh.killed == 0 || strings.Count(logs.String(), "reconnecting") == reconnects {
		t.Errorf("imap processes killed after %d messages: %d; log:\n%s", kh.n, kh.killed, logs.String())
	}

	// 5. UIDVALIDITY reset: everything is read again, nothing added.
	validity := d.ResetUIDValidity()
	res = imp()
	check("UIDVALIDITY reset", res, ref.n, 0)
	canon, _ := mbox.CanonicalIMAPURL(source)
	cps, err := st.Checkpoints(ctx, canon)
	if err != nil {
		t.Fatal(err)
	}
	if _, n := d.Mailbox(); cps["INBOX"] != fmt.Sprintf("%d:%d", validity, n) {
		t.Errorf("checkpoint after the reset %q, want %d:%d", cps["INBOX"], validity, n)
	}
}
