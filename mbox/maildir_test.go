package mbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// maildirFixture writes files into a Maildir; names maps "sub/name" to
// content, each file getting an mtime one minute after the last.
func maildirFixture(t *testing.T, files [][2]string) (string, map[string]time.Time) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Mail")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mtimes := map[string]time.Time{}
	for i, f := range files {
		p := filepath.Join(dir, f[0])
		writeFile(t, p, []byte(f[1]))
		mt := time.Unix(1700000000+int64(60*i), 0).UTC()
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		mtimes[p] = mt
	}
	return dir, mtimes
}

func TestMaildir(t *testing.T) {
	dir, mtimes := maildirFixture(t, [][2]string{
		{"new/1700000003.M1P1.host", "Subject: c\n\n3\n"},
		{"cur/1700000001.M1P1.host:2,S", "Subject: a\n\n1\n"},
		{"cur/1700000002.M1P1.host:2,RS", "Subject: b\n\n2\n"},
		{"tmp/1700000004.M1P1.host", "Subject: in delivery\n\n"},
		{"cur/.hidden", "not mail"},
	})
	if err := os.Mkdir(filepath.Join(dir, "cur", "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	type mitem struct {
		Key, Checkpoint, Where, Data string
		Received                     time.Time
	}
	all := func(o *Options) []mitem {
		ms, err := openAll(t, dir, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []mitem
		for _, m := range ms {
			if m.Err != nil {
				t.Fatalf("%s: %v", m.Where, m.Err)
			}
			out = append(out, mitem{m.Key, m.Checkpoint, m.Where, string(m.Data), m.Received})
		}
		return out
	}
	p1 := filepath.Join(dir, "cur/1700000001.M1P1.host:2,S")
	p2 := filepath.Join(dir, "cur/1700000002.M1P1.host:2,RS")
	p3 := filepath.Join(dir, "new/1700000003.M1P1.host")
	want := []mitem{
		{"maildir:1700000001.M1P1.host", "1", p1, "Subject: a\n\n1\n", mtimes[p1]},
		{"maildir:1700000002.M1P1.host", "1", p2, "Subject: b\n\n2\n", mtimes[p2]},
		{"maildir:1700000003.M1P1.host", "1", p3, "Subject: c\n\n3\n", mtimes[p3]},
	}
	if diff := cmp.Diff(want, all(nil)); diff != "" {
		t.Errorf("items differ (-want +got):\n%s", diff)
	}
	// Resuming skips the messages with a checkpoint, also when their
	// flags changed since.
	if err := os.Rename(p1, strings.Replace(p1, ":2,S", ":2,ST", 1)); err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{"maildir:1700000001.M1P1.host": true, "maildir:1700000003.M1P1.host": true}
	got := all(&Options{Checkpoint: func(k string) (string, bool) { return "1", done[k] }})
	if diff := cmp.Diff(want[1:2], got); diff != "" {
		t.Errorf("resumed items differ (-want +got):\n%s", diff)
	}
}

// TestMaildirMoved reads a message that a mail client moved from new/ to
// cur/ after the directory was listed.
func TestMaildirMoved(t *testing.T) {
	dir, _ := maildirFixture(t, [][2]string{
		{"new/1.a.host", "Subject: a\n\n1\n"},
		{"new/2.b.host", "Subject: b\n\n2\n"},
	})
	r, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	moved := filepath.Join(dir, "cur", "2.b.host:2,S")
	if err := os.Rename(filepath.Join(dir, "new", "2.b.host"), moved); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "new", "1.a.host"))
	m1, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if m1.Err == nil || m1.Data != nil || m1.Key != "maildir:1.a.host" {
		t.Errorf("vanished message: %+v, want Err and Key maildir:1.a.host", m1)
	}
	m2, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if m2.Err != nil || string(m2.Data) != "Subject: b\n\n2\n" || m2.Where != moved {
		t.Errorf("moved message: %+v, want it read from %s", m2, moved)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), filepath.Join(dir, "absent"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(absent) = %v, want os.ErrNotExist", err)
	}
	if _, err := Open(context.Background(), dir, nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(empty dir) = %v, want an error naming it", err)
	}
}

// TestMaildirHostile reads a Maildir holding what is no message file: a
// 2 GB sparse file, a FIFO, links to /dev/zero, to nothing and to a
// message elsewhere, and a new/ that is a symlink to itself. Every
// message is read, every other entry yields an item with Err, and
// nothing blocks or is read whole.
func TestMaildirHostile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Mail")
	if err := os.MkdirAll(filepath.Join(dir, "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	cur := func(name string) string { return filepath.Join(dir, "cur", name) }
	writeFile(t, cur("1.a:2,S"), []byte("Subject: a\n\n1\n"))
	writeFile(t, cur("9.z:2,S"), []byte("Subject: z\n\n9\n"))
	elsewhere := filepath.Join(t.TempDir(), "msg")
	writeFile(t, elsewhere, []byte("Subject: linked\n\n5\n"))
	big, err := os.Create(cur("2.big:2,S"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	big.Close()
	if err := syscall.Mkfifo(cur("3.fifo:2,S"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"4.zero:2,S":     "/dev/zero",
		"5.linked:2,S":   elsewhere,
		"6.dangling:2,S": filepath.Join(dir, "absent"),
		"7.loop:2,S":     cur("7.loop:2,S"),
	} {
		if err := os.Symlink(target, cur(link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("new", filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}

	ms, err := openAll(t, dir, nil)
	if err != nil {
		t.Fatalf("reading the Maildir: %v", err)
	}
	var got []string
	for _, m := range ms {
		if m.Err != nil {
			if !strings.Contains(m.Err.Error(), m.Where) {
				t.Errorf("%s: error %q does not name the file", m.Where, m.Err)
			}
			got = append(got, filepath.Base(m.Where)+": "+errorKind(m.Err))
			continue
		}
		got = append(got, filepath.Base(m.Where)+": "+strings.SplitN(string(m.Data), "\n", 2)[0])
	}
	want := []string{
		"new: unreadable",
		"1.a:2,S: Subject: a",
		"2.big:2,S: too large",
		"3.fifo:2,S: not regular",
		"4.zero:2,S: not regular",
		"5.linked:2,S: Subject: linked",
		"6.dangling:2,S: unreadable",
		"7.loop:2,S: unreadable",
		"9.z:2,S: Subject: z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items differ (-want +got):\n%s", diff)
	}
}

func errorKind(err error) string {
	switch s := err.Error(); {
	case strings.Contains(s, "larger than"):
		return "too large"
	case strings.Contains(s, "not a regular file"):
		return "not regular"
	}
	return "unreadable"
}
