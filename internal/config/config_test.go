package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const example = `
[sync]
retries = 2
backoff = "1m30s"

[[list]]
name = "io-uring"

  [[list.source]]
  mirror = "https://lore.kernel.org/io-uring/"

  [[list.source]]
  imap = "IMAPS://me@Imap.Example.org:993/lists/io-uring"
  password-file = "secrets/imap"

  [[list.source]]
  path = "archives/io-uring-2019.mbox.gz"

[[list]]
name = "linux-block"
source = [{ path = "/srv/lb" }]

[[repo]]
name = "linux"
path = "/srv/git/linux.git"
fetch = true
`

func TestParse(t *testing.T) {
	c, err := Parse([]byte(example), "/etc/patchtrail")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Sync: Sync{Retries: 2, Backoff: Duration(90 * time.Second)},
		Lists: []List{
			{Name: "io-uring", Sources: []Source{
				{Mirror: "https://lore.kernel.org/io-uring"},
				{IMAP: "imaps://me@imap.example.org/lists/io-uring", PasswordFile: "/etc/patchtrail/secrets/imap"},
				{Path: "/etc/patchtrail/archives/io-uring-2019.mbox.gz"},
			}},
			{Name: "linux-block", Sources: []Source{{Path: "/srv/lb"}}},
		},
		Repos: []Repo{{Name: "linux", Path: "/srv/git/linux.git", Fetch: true}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	var kinds []string
	for _, s := range c.List("io-uring").Sources {
		kinds = append(kinds, s.Kind())
	}
	if diff := cmp.Diff([]string{"mirror", "imap", "path"}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	if c.List("nope") != nil {
		t.Error("List(nope) != nil")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"syntax", `[[list]`, "expected"},
		{"unknown key", "[[list]]\nname = \"a\"\nsorce = []", "unknown key list.sorce"},
		{"bad name", "[[list]]\nname = \"../x\"", "name"},
		{"twice", "[[list]]\nname = \"a\"\n[[list]]\nname = \"a\"", "named twice"},
		{"two kinds", "[[list]]\nname = \"a\"\n[[list.source]]\npath = \"/x\"\nmirror = \"https://h/a\"", "exactly one"},
		{"none", "[[list]]\nname = \"a\"\n[[list.source]]\n", "exactly one"},
		{"password on path", "[[list]]\nname = \"a\"\n[[list.source]]\npath = \"/x\"\npassword-file = \"/p\"", "password-file belongs"},
		{"imap password", "[[list]]\nname = \"a\"\n[[list.source]]\nimap = \"imaps://u:p@h/INBOX\"", "password in the URL"},
		{"mirror scheme", "[[list]]\nname = \"a\"\n[[list.source]]\nmirror = \"ftp://h/a\"", "not an http(s) URL"},
		{"duration", "[sync]\nbackoff = \"often\"", "duration"},
		{"repo", "[[repo]]\nname = \"linux\"", "want a name"},
	} {
		_, err := Parse([]byte(tc.in), "/")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Parse = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := DefaultPath(dir)
	c, err := Load(path, true)
	if err != nil || c.Path != "" || len(c.Lists) != 0 || time.Duration(c.Sync.Backoff) != DefaultBackoff {
		t.Fatalf("Load(missing, optional) = %+v, %v", c, err)
	}
	if _, err := Load(path, false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	os.WriteFile(path, []byte("[[list]]\nname = \"a\"\n[[list.source]]\npath = \"in/here\"\n"), 0o644)
	c, err = Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Lists[0].Sources[0].Path; got != filepath.Join(dir, "in", "here") || c.Path != path {
		t.Errorf("Load: path %q, file %q", got, c.Path)
	}
	os.WriteFile(path, []byte("[[list]]\nname = 3\n"), 0o644)
	if _, err := Load(path, true); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(bad) = %v, want an error naming the file", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("[[list]]\nname = \"a\"\nsource = [{ imap = \"imap://u@h\" }]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, "/base")
		if err != nil {
			return
		}
		for _, l := range c.Lists {
			if !ValidName(l.Name) {
				t.Errorf("accepted list name %q", l.Name)
			}
			for _, s := range l.Sources {
				if s.Path != "" && !filepath.IsAbs(s.Path) {
					t.Errorf("relative path %q left", s.Path)
				}
			}
		}
	})
}

func TestServeCommitURL(t *testing.T) {
	c, err := Parse([]byte("[serve]\ncommit-url = \"https://example.org/c/{sha}\"\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Serve.CommitURL != "https://example.org/c/{sha}" {
		t.Errorf("serve.commit-url = %q", c.Serve.CommitURL)
	}
}
