// Package mirror keeps local copies of public-inbox v2 inboxes served
// over HTTP(S), as lore.kernel.org serves them, and runs the rounds of a
// continuous sync.
//
// A mirror is a directory (DATA/mirrors/LIST) laid out as a v2 inbox
// (public-inbox-v2-format(5)): git/N.git are bare repositories made with
// `git clone --mirror URL/git/N.git`, so the mbox package reads the
// mirror like any inbox, and mirror.json records the inbox URL. The
// epochs of the remote inbox come from its manifest (grokmirror's
// manifest.js.gz: URL/manifest.js.gz, else the site's /manifest.js.gz
// filtered for the inbox), else from probing git/0.git, 1.git, … (the
// first request of git's smart HTTP protocol). Fetch updates every epoch whose manifest fingerprint
// (SHA-1 of `git show-ref`, which public-inbox computes per request)
// differs from the local one, or every epoch when there is no manifest,
// and clones epochs that appeared since: public-inbox starts a new epoch
// when one reaches about 1 GB. Since public-inbox-httpd caches its list
// of epochs until the inbox is indexed again, the epoch after the last
// one listed is always probed too.
//
// Quirks: an epoch is cloned into N.git.partial and renamed when
// complete, so an interrupted clone never looks like an epoch; git runs
// with GIT_TERMINAL_PROMPT=0 and a low-speed limit, so a stalled server
// fails instead of hanging; v1 inboxes (one repository) are not
// supported.
package mirror

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// MetaFile is the file in a mirror directory recording its origin.
const MetaFile = "mirror.json"

// ErrNotMirror reports a directory that is no mirror (no MetaFile).
var ErrNotMirror = errors.New("mirror: not a mirror directory")

// Mirror is the local copy of one remote inbox.
type Mirror struct {
	// URL is the inbox URL (https://lore.kernel.org/io-uring), without
	// a trailing slash.
	URL string `json:"url"`
	// List is the list the mirror's messages belong to.
	List string `json:"list"`
	// Created is when the mirror was made.
	Created time.Time `json:"created"`
	// Dir is the mirror directory (not stored).
	Dir string `json:"-"`
}

// Options tunes cloning and fetching. A nil *Options means defaults.
type Options struct {
	// Logger receives progress and problems; nil discards.
	Logger *slog.Logger
	// Client fetches manifests; nil means a client with Timeout.
	Client *http.Client
	// Git is the git binary (default "git").
	Git string
	// Timeout bounds a manifest request; git fails when a transfer
	// stays below 1 KB/s for this long (default 60s).
	Timeout time.Duration
}

func (o *Options) withDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
	if c.Git == "" {
		c.Git = "git"
	}
	return &c
}

// FetchResult tells what a clone or fetch did.
type FetchResult struct {
	// Epochs is the number of epochs of the remote inbox.
	Epochs int `json:"epochs"`
	// Cloned lists the epochs cloned (all of them for a new mirror,
	// the new ones after a rollover).
	Cloned []int `json:"cloned,omitempty"`
	// Fetched lists the epochs fetched because they changed (or their
	// fingerprint was unknown).
	Fetched []int `json:"fetched,omitempty"`
	// Unchanged counts epochs skipped because the manifest fingerprint
	// equals the local one.
	Unchanged int `json:"unchanged"`
	// Discovery says where the list of epochs came from.
	Discovery string `json:"discovery"`
}

// NormalizeURL checks an inbox URL and drops a trailing slash.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("mirror: %q is not an http(s) inbox URL", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// ListName is the default list name of an inbox URL: its last path
// element (io-uring for https://lore.kernel.org/io-uring/).
func ListName(inboxURL string) string {
	u, err := url.Parse(inboxURL)
	if err != nil {
		return ""
	}
	return filepath.Base(strings.TrimRight(u.Path, "/"))
}

// Clone makes dir a mirror of the inbox at inboxURL for list and fetches
// every epoch. On an existing mirror of the same URL it is Fetch, so an
// interrupted clone is finished by running it again.
func Clone(ctx context.Context, inboxURL, dir, list string, opts *Options) (*Mirror, *FetchResult, error) {
	o := opts.withDefaults()
	base, err := NormalizeURL(inboxURL)
	if err != nil {
		return nil, nil, err
	}
	m, err := Open(dir)
	switch {
	case err == nil && m.URL != base:
		return nil, nil, fmt.Errorf("mirror: %s already mirrors %s, not %s", dir, m.URL, base)
	case errors.Is(err, ErrNotMirror):
		m = &Mirror{URL: base, List: list, Created: time.Now().UTC().Truncate(time.Second), Dir: dir}
		if err := m.save(); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	}
	res, err := m.Fetch(ctx, o)
	return m, res, err
}

// Open reads the mirror at dir.
func Open(dir string) (*Mirror, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotMirror, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	var m Mirror
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("mirror: %s: %w", filepath.Join(dir, MetaFile), err)
	}
	if m.URL == "" {
		return nil, fmt.Errorf("mirror: %s: no url", filepath.Join(dir, MetaFile))
	}
	m.Dir = dir
	return &m, nil
}

// List returns the mirrors in the subdirectories of root, by name; a
// missing root holds none.
func List(root string) ([]*Mirror, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	var out []*Mirror
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		m, err := Open(filepath.Join(root, e.Name()))
		if errors.Is(err, ErrNotMirror) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (m *Mirror) save() error {
	if err := os.MkdirAll(filepath.Join(m.Dir, "git"), 0o755); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	tmp := filepath.Join(m.Dir, MetaFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(m.Dir, MetaFile)); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	return nil
}

// epochDir is the local directory of epoch n.
func (m *Mirror) epochDir(n int) string {
	return filepath.Join(m.Dir, "git", fmt.Sprintf("%d.git", n))
}

// Fetch brings the mirror up to date: new epochs are cloned, changed
// ones fetched, in epoch order. An error names the epoch; the epochs
// before it are up to date.
func (m *Mirror) Fetch(ctx context.Context, opts *Options) (*FetchResult, error) {
	o := opts.withDefaults()
	epochs, how, err := o.discover(ctx, m.URL)
	if err != nil {
		return nil, err
	}
	res := &FetchResult{Epochs: len(epochs), Discovery: how}
	for _, ep := range epochs {
		dir := m.epochDir(ep.N)
		if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
			if err := o.cloneEpoch(ctx, epochURL(m.URL, ep.N), dir); err != nil {
				return res, err
			}
			res.Cloned = append(res.Cloned, ep.N)
			continue
		}
		if ep.Fingerprint != "" {
			if fp, err := o.fingerprint(ctx, dir); err == nil && fp == ep.Fingerprint {
				res.Unchanged++
				continue
			}
		}
		if _, err := o.git(ctx, dir, "fetch", "--quiet", "--prune", "origin"); err != nil {
			return res, fmt.Errorf("mirror: fetch %s: %w", epochURL(m.URL, ep.N), err)
		}
		res.Fetched = append(res.Fetched, ep.N)
	}
	level := slog.LevelInfo
	if len(res.Cloned)+len(res.Fetched) == 0 {
		level = slog.LevelDebug
	}
	o.Logger.Log(ctx, level, "mirror: up to date", "url", m.URL, "epochs", res.Epochs, "cloned", res.Cloned,
		"fetched", res.Fetched, "unchanged", res.Unchanged, "discovery", how)
	return res, nil
}

// cloneEpoch clones src into dir by way of dir.partial.
func (o *Options) cloneEpoch(ctx context.Context, src, dir string) error {
	partial := dir + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	o.Logger.Info("mirror: cloning epoch", "url", src, "dir", dir)
	if _, err := o.git(ctx, "", "clone", "--quiet", "--mirror", src, partial); err != nil {
		os.RemoveAll(partial)
		return fmt.Errorf("mirror: clone %s: %w", src, err)
	}
	if err := os.Rename(partial, dir); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	return nil
}

// remoteExists asks the server whether a repository answers at url,
// with the first request of git's smart HTTP protocol (GET
// info/refs?service=git-upload-pack; a dumb server answers it too):
// false for 404 or 410, an error when the server cannot be asked.
func (o *Options) remoteExists(ctx context.Context, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/info/refs?service=git-upload-pack", nil)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return false, fmt.Errorf("mirror: probing %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusOK:
		return true, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return false, nil
	}
	return false, fmt.Errorf("mirror: probing %s: HTTP %s", url, resp.Status)
}

// git runs git (in gitDir unless "") and returns its standard output;
// an error carries the end of its standard error.
func (o *Options) git(ctx context.Context, gitDir string, args ...string) (string, error) {
	full := []string{"-c", "http.lowSpeedLimit=1000", "-c", fmt.Sprintf("http.lowSpeedTime=%d", int(o.Timeout.Seconds()))}
	if gitDir != "" {
		full = append(full, "--git-dir="+gitDir)
	}
	cmd := exec.CommandContext(ctx, o.Git, append(full, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "SSH_ASKPASS=true")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return stdout.String(), ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = "…" + msg[len(msg)-500:]
		}
		if msg != "" {
			return stdout.String(), fmt.Errorf("git %s: %w: %s", args[0], err, msg)
		}
		return stdout.String(), fmt.Errorf("git %s: %w", args[0], err)
	}
	return stdout.String(), nil
}
