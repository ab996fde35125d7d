// Package config reads patchtrail's configuration file: a TOML document
// (TOML v1.0.0, through BurntSushi/toml) naming the mailing lists to keep
// current, the sources of each (local archives, public-inbox mirrors,
// IMAP mailboxes) and the code repositories to link commits from. The
// default file is DATA/patchtrail.toml; doc/config.md documents every
// key.
//
// Quirks: unknown keys are errors (a typo must not silently disable a
// source); relative paths are relative to the directory of the file;
// passwords never appear in the file, only the name of a file holding
// one.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"patchtrail/mbox"
)

// FileName is the name of the configuration file in the data directory.
const FileName = "patchtrail.toml"

// Config is a parsed configuration file.
type Config struct {
	// Path is the file the configuration was read from ("" when there
	// was none).
	Path  string `toml:"-"`
	Sync  Sync   `toml:"sync"`
	Serve Serve  `toml:"serve"`
	Lists []List `toml:"list"`
	Repos []Repo `toml:"repo"`
}

// Serve tunes `patchtrail serve`.
type Serve struct {
	// CommitURL is the web address of a commit that is in no registered
	// repository, "{sha}" standing for its id (default
	// https://git.kernel.org/stable/c/{sha}; the --commit-url flag wins).
	CommitURL string `toml:"commit-url"`
}

// Sync tunes the rounds of `patchtrail sync` and `serve --sync`.
type Sync struct {
	// Retries is how many times a failing source is tried again within
	// one round (default 3).
	Retries int `toml:"retries"`
	// Backoff is the delay before the first retry; it doubles with each
	// (default 5s).
	Backoff Duration `toml:"backoff"`
}

// List is one mailing list and where its mail comes from.
type List struct {
	Name    string   `toml:"name"`
	Sources []Source `toml:"source"`
}

// Source is one place a list's mail comes from; exactly one of Path,
// Mirror and IMAP is set.
type Source struct {
	// Path is a local archive (mbox, Maildir, public-inbox) imported
	// again on every sync; checkpoints make that cheap.
	Path string `toml:"path"`
	// Mirror is the URL of a public-inbox (https://lore.kernel.org/LIST)
	// cloned into DATA/mirrors/LIST and fetched on every sync.
	Mirror string `toml:"mirror"`
	// IMAP is an imap:// or imaps:// mailbox URL, polled on every sync.
	IMAP string `toml:"imap"`
	// PasswordFile holds the IMAP password (first line). Without it the
	// password comes from PATCHTRAIL_IMAP_PASSWORD or ~/.netrc.
	PasswordFile string `toml:"password-file"`
}

// Kind names the kind of source: "path", "mirror" or "imap".
func (s Source) Kind() string {
	switch {
	case s.Mirror != "":
		return "mirror"
	case s.IMAP != "":
		return "imap"
	default:
		return "path"
	}
}

// Repo is a code repository whose commits are linked to messages.
type Repo struct {
	Name string `toml:"name"`
	Path string `toml:"path"`
	// Fetch runs `git fetch` in the repository before each sync links it.
	Fetch bool `toml:"fetch"`
}

// Duration is a time.Duration written as "90s", "10m", "1h30m".
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %s", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Defaults of the [sync] table.
const (
	DefaultRetries = 3
	DefaultBackoff = 5 * time.Second
)

// DefaultPath is the configuration file of the data directory data.
func DefaultPath(data string) string { return filepath.Join(data, FileName) }

// Load reads and checks the file at path. When the file does not exist
// and optional is true, the result is an empty configuration.
func Load(path string, optional bool) (*Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && optional {
		c := &Config{}
		c.setDefaults()
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse parses a configuration; relative paths are taken relative to
// dir.
func Parse(b []byte, dir string) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	if err := c.check(dir); err != nil {
		return nil, err
	}
	c.setDefaults()
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.Sync.Retries <= 0 {
		c.Sync.Retries = DefaultRetries
	}
	if c.Sync.Backoff == 0 {
		c.Sync.Backoff = Duration(DefaultBackoff)
	}
}

// check validates names and sources and makes paths absolute.
func (c *Config) check(dir string) error {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		if strings.HasPrefix(p, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				return filepath.Join(home, p[2:])
			}
		}
		return filepath.Join(dir, p)
	}
	lists := map[string]bool{}
	for i := range c.Lists {
		l := &c.Lists[i]
		if !ValidName(l.Name) {
			return fmt.Errorf("list %d: name %q must be letters, digits, '.', '_' or '-'", i+1, l.Name)
		}
		if lists[l.Name] {
			return fmt.Errorf("list %q named twice", l.Name)
		}
		lists[l.Name] = true
		for j := range l.Sources {
			s := &l.Sources[j]
			where := fmt.Sprintf("list %q, source %d", l.Name, j+1)
			n := 0
			for _, v := range []string{s.Path, s.Mirror, s.IMAP} {
				if v != "" {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("%s: want exactly one of path, mirror and imap", where)
			}
			if s.PasswordFile != "" && s.IMAP == "" {
				return fmt.Errorf("%s: password-file belongs to an imap source", where)
			}
			switch {
			case s.IMAP != "":
				canon, err := mbox.CanonicalIMAPURL(s.IMAP)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				s.IMAP = canon
			case s.Mirror != "":
				u, err := url.Parse(s.Mirror)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return fmt.Errorf("%s: mirror %q is not an http(s) URL", where, s.Mirror)
				}
				s.Mirror = strings.TrimRight(s.Mirror, "/")
			}
			s.Path, s.PasswordFile = abs(s.Path), abs(s.PasswordFile)
		}
	}
	repos := map[string]bool{}
	for i := range c.Repos {
		r := &c.Repos[i]
		if !ValidName(r.Name) || r.Path == "" {
			return fmt.Errorf("repo %d: want a name (letters, digits, '.', '_', '-') and a path", i+1)
		}
		if repos[r.Name] {
			return fmt.Errorf("repo %q named twice", r.Name)
		}
		repos[r.Name] = true
		r.Path = abs(r.Path)
	}
	return nil
}

// ValidName reports whether s can name a list or repository (and a
// directory under DATA/mirrors): letters, digits, '.', '_', '-', not
// starting with '.'.
func ValidName(s string) bool {
	if s == "" || s[0] == '.' || len(s) > 200 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// List returns the list called name, or nil.
func (c *Config) List(name string) *List {
	for i := range c.Lists {
		if c.Lists[i].Name == name {
			return &c.Lists[i]
		}
	}
	return nil
}
