package mbox

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"
)

func TestParseIMAPURL(t *testing.T) {
	for _, tc := range []struct {
		in, want, addr, err string
	}{
		{"imaps://me@imap.example.org/INBOX", "imaps://me@imap.example.org/INBOX", "imap.example.org:993", ""},
		{"IMAPS://me@IMAP.Example.org:993/inbox", "imaps://me@imap.example.org/INBOX", "imap.example.org:993", ""},
		{"imap://me@127.0.0.1:1143", "imap://me@127.0.0.1:1143/INBOX", "127.0.0.1:1143", ""},
		{"imap://me%40example.org@h/lists/io-uring", "imap://me%40example.org@h/lists/io-uring", "h:143", ""},
		{"imap://me@h:143/a%20b", "imap://me@h/a%20b", "h:143", ""},
		{"imaps://me@[::1]:9993/INBOX", "imaps://me@[::1]:9993/INBOX", "[::1]:9993", ""},
		{"imaps://me:secret@h/INBOX", "", "", "password in the URL"},
		{"imaps://h/INBOX", "", "", "no user name"},
		{"imaps://me@/INBOX", "", "", "no host"},
		{"imaps://me@h/INBOX?x=1", "", "", "query"},
		{"pop3://me@h/", "", "", "scheme"},
	} {
		u, err := parseIMAPURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseIMAPURL(%q) = %v, want error containing %q", tc.in, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("parseIMAPURL(%q) error shows the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseIMAPURL(%q): %v", tc.in, err)
			continue
		}
		if u.String() != tc.want || u.addr() != tc.addr {
			t.Errorf("parseIMAPURL(%q) = %s (%s), want %s (%s)", tc.in, u, u.addr(), tc.want, tc.addr)
		}
		if again, err := CanonicalIMAPURL(u.String()); err != nil || again != u.String() {
			t.Errorf("CanonicalIMAPURL(%q) = %q, %v: not stable", u.String(), again, err)
		}
	}
}

func TestIsIMAPURL(t *testing.T) {
	for in, want := range map[string]bool{
		"imap://u@h/": true, "IMAPS://u@h/x": true, "/var/mail/imap://x": false,
		"archive.mbox": false, "https://lore.kernel.org/io-uring": false,
	} {
		if got := IsIMAPURL(in); got != want {
			t.Errorf("IsIMAPURL(%q) = %v, want %v", in, got, want)
		}
	}
}

const testNetrc = `# comment
machine other.example.org login me password other
machine imap.example.org
  login me
  password "not-quoted"
macdef init
machine imap.example.org login me password from-macro

machine imap.example.org login you password yours
machine anyuser.example.org password shared
default login me password fallback
`

func TestNetrcPassword(t *testing.T) {
	for _, tc := range []struct {
		host, user, want string
		ok               bool
	}{
		{"imap.example.org", "me", `"not-quoted"`, true},
		{"IMAP.example.org", "you", "yours", true},
		{"anyuser.example.org", "whoever", "shared", true},
		{"unknown.example.org", "me", "fallback", true},
		{"unknown.example.org", "them", "", false},
	} {
		got, ok := netrcPassword([]byte(testNetrc), tc.host, tc.user)
		if got != tc.want || ok != tc.ok {
			t.Errorf("netrcPassword(%s, %s) = %q, %v; want %q, %v", tc.host, tc.user, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIMAPPassword(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("from-file\r\nsecond line\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	netrc := filepath.Join(dir, "netrc")
	os.WriteFile(netrc, []byte("machine h login me password from-netrc\n"), 0o600)
	u, _ := parseIMAPURL("imaps://me@h/INBOX")
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name, file, env, netrc, want, err string
	}{
		{"file wins", file, "from-env", netrc, "from-file", ""},
		{"env before netrc", "", "from-env", netrc, "from-env", ""},
		{"netrc", "", "", netrc, "from-netrc", ""},
		{"nothing", "", "", filepath.Join(dir, "absent"), "", "no IMAP password"},
		{"empty file", empty, "", "", "", "empty"},
		{"missing file", filepath.Join(dir, "nope"), "from-env", "", "", "password file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(IMAPPasswordEnv, tc.env)
			got, err := imapPassword(u, &IMAPOptions{PasswordFile: tc.file, Netrc: tc.netrc}, log)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("imapPassword = %q, %v; want error containing %q", got, err, tc.err)
				}
				if tc.name == "nothing" && !errors.Is(err, ErrNoPassword) {
					t.Errorf("error %v does not wrap ErrNoPassword", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("imapPassword = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestIMAPCheckpointAndUIDs(t *testing.T) {
	for _, tc := range []struct {
		in  string
		v   uint32
		uid imap.UID
		ok  bool
	}{
		{"17:42", 17, 42, true},
		{"4294967295:0", 4294967295, 0, true},
		{"17", 0, 0, false},
		{"x:1", 0, 0, false},
		{"1:4294967296", 0, 0, false},
	} {
		v, uid, err := parseIMAPCheckpoint(tc.in)
		if (err == nil) != tc.ok || v != tc.v || uid != tc.uid {
			t.Errorf("parseIMAPCheckpoint(%q) = %d, %d, %v", tc.in, v, uid, err)
		}
	}
	// A server answers "UID 10:*" with the highest UID even below 10.
	set, err := clipUIDs(imap.UIDSet{{Start: 3, Stop: 5}, {Start: 9, Stop: 12}, {Start: 20, Stop: 20}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.String(); got != "11:12,20" {
		t.Errorf("clipUIDs = %s, want 11:12,20", got)
	}
	if _, err := clipUIDs(imap.UIDSet{{Start: 1, Stop: 0}}, 0); err == nil {
		t.Error("clipUIDs accepted a dynamic set")
	}
	var taken [][]imap.UID
	for len(set) > 0 {
		taken = append(taken, takeUIDs(&set, 2))
	}
	if diff := cmp.Diff([][]imap.UID{{11, 12}, {20}}, taken); diff != "" {
		t.Errorf("takeUIDs (-want +got):\n%s", diff)
	}
	if n := countUIDs(imap.UIDSet{{Start: 1, Stop: 4}, {Start: 9, Stop: 9}}); n != 5 {
		t.Errorf("countUIDs = %d, want 5", n)
	}
}

func FuzzNetrc(f *testing.F) {
	f.Add([]byte(testNetrc), "imap.example.org", "me")
	f.Add([]byte("default password x\nmacdef m\nline\n"), "h", "u")
	f.Fuzz(func(t *testing.T, data []byte, host, user string) {
		p, ok := netrcPassword(data, host, user)
		if !ok && p != "" {
			t.Errorf("no match but password %q", p)
		}
	})
}

func FuzzIMAPURL(f *testing.F) {
	for _, s := range []string{"imaps://me@h/INBOX", "imap://a%40b@[::1]:1/x/y", "imap://u:p@h/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseIMAPURL(s)
		if err != nil {
			return
		}
		// The canonical form parses to itself.
		again, err := parseIMAPURL(u.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", u.String(), s, err)
		}
		if again.String() != u.String() {
			t.Errorf("canonical form not stable: %q → %q → %q", s, u.String(), again.String())
		}
	})
}
