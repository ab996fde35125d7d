package cve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"
	"time"
)

// ErrBadDates marks a malformed line of a publication dates file.
var ErrBadDates = errors.New("cve: malformed publication date line")

// Published maps CVE ids to the time they became public: the date of
// the vulns repository commit that first added the record's .json under
// cve/published. The CVE JSON itself carries no datePublished (cve.org
// adds it), so this is where publication dates come from.
type Published map[string]time.Time

// ReadPublished reads a dates file: one "CVE-YYYY-N<TAB>RFC 3339 time"
// per line; blank lines and lines starting with '#' are skipped. A bad
// line is an error naming name and the line number.
func ReadPublished(r io.Reader, name string) (Published, error) {
	out := Published{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: %s:%d: %d fields, want 2 (id, date)", ErrBadDates, name, n, len(f))
		}
		if _, _, ok := parseID(f[0]); !ok {
			return nil, fmt.Errorf("%w: %s:%d: %q is not a CVE id", ErrBadDates, name, n, f[0])
		}
		t, err := time.Parse(time.RFC3339, f[1])
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %v", ErrBadDates, name, n, err)
		}
		if old, ok := out[f[0]]; !ok || t.Before(old) {
			out[f[0]] = t
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cve: %s: %w", name, err)
	}
	return out, nil
}

// ReadPublishedFile is ReadPublished over a file.
func ReadPublishedFile(name string) (Published, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cve: %w", err)
	}
	defer f.Close()
	return ReadPublished(f, name)
}

// IsGitCheckout reports whether root is a git work tree (a clone of the
// vulns repository whose history holds the publication dates).
func IsGitCheckout(root string) bool {
	fi, err := os.Stat(root + "/.git")
	return err == nil && (fi.IsDir() || fi.Mode().IsRegular())
}

// PublishedFromGit reads publication dates from the history of a clone
// of the vulns repository at root: for every cve/published/YEAR/CVE-….json,
// the committer date of the oldest commit that added it (renames are
// not followed, so a record moved in from cve/reserved counts from its
// move).
func PublishedFromGit(ctx context.Context, root string) (Published, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", root, "log", "--no-renames", "--diff-filter=A",
		"--name-only", "--format=%x00%cI", "--", "cve/published")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cve: git log: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cve: git log: %w", err)
	}
	out := Published{}
	var when time.Time
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if d, ok := strings.CutPrefix(line, "\x00"); ok {
			if when, err = time.Parse(time.RFC3339, strings.TrimSpace(d)); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				return nil, fmt.Errorf("cve: git log date %q: %w", d, err)
			}
			continue
		}
		name := path.Base(line)
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || !strings.HasPrefix(line, "cve/published/") {
			continue
		}
		if _, _, ok := parseID(id); !ok {
			continue
		}
		// git log walks newest first: the last date seen is the oldest.
		if old, ok := out[id]; !ok || when.Before(old) {
			out[id] = when
		}
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("cve: git log in %s: %w: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	if scanErr != nil {
		return nil, fmt.Errorf("cve: git log: %w", scanErr)
	}
	return out, nil
}
