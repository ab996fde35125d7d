package mirror

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Epoch is one epoch of a remote inbox as its manifest describes it.
type Epoch struct {
	N int
	// Fingerprint is the SHA-1 of `git show-ref` in the remote epoch,
	// "" when unknown (no manifest, or a probed epoch).
	Fingerprint string
}

// maxManifest bounds a manifest download (lore's whole-site manifest
// is a few MB compressed).
const maxManifest = 256 << 20

// errNoManifest reports a manifest that is not there (404, 410).
var errNoManifest = errors.New("mirror: no manifest")

// epochKeyRE matches a manifest key naming an epoch: "/LIST/git/N.git".
var epochKeyRE = regexp.MustCompile(`^(.*)/git/(0|[1-9][0-9]{0,5})\.git$`)

// discover finds the epochs of the inbox at base: from base/manifest.js.gz,
// else from the site's /manifest.js.gz filtered for this inbox, else by
// asking the server for base/git/0.git, 1.git, … in turn. A manifest can lag
// behind (public-inbox-httpd caches it): the epoch after the last one
// listed is always probed as well, so an epoch rollover is seen at once.
func (o *Options) discover(ctx context.Context, base string) ([]Epoch, string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, "", fmt.Errorf("mirror: %q: %w", base, err)
	}
	inboxPath := strings.TrimRight(u.Path, "/")
	var (
		epochs []Epoch
		how    string
	)
	site := *u
	site.Path, site.RawPath = "/manifest.js.gz", ""
	for _, m := range []string{base + "/manifest.js.gz", site.String()} {
		eps, err := o.manifestEpochs(ctx, m, inboxPath)
		if err == nil && len(eps) > 0 {
			epochs, how = eps, m
			break
		}
		if err != nil && !errors.Is(err, errNoManifest) {
			o.Logger.Warn("mirror: manifest unusable, trying the next way", "url", m, "err", err)
		}
	}
	if how == "" {
		how = "probing " + base + "/git/N.git"
	}
	// Probe past the end: manifests lag, and without one this finds all.
	next := 0
	if len(epochs) > 0 {
		next = epochs[len(epochs)-1].N + 1
	}
	for {
		ok, err := o.remoteExists(ctx, epochURL(base, next))
		if err != nil {
			return nil, "", err
		}
		if !ok {
			break
		}
		epochs = append(epochs, Epoch{N: next})
		next++
	}
	if len(epochs) == 0 {
		return nil, "", fmt.Errorf("mirror: %s: no public-inbox epochs found (no manifest, no %s)", base, epochURL(base, 0))
	}
	return epochs, how, nil
}

// epochURL is the clone URL of epoch n of the inbox at base.
func epochURL(base string, n int) string { return base + "/git/" + strconv.Itoa(n) + ".git" }

// manifestEpochs downloads a manifest.js.gz (grokmirror's format, as
// public-inbox-httpd and lore serve it: gzipped JSON mapping
// "/LIST/git/N.git" to {"fingerprint", "modified", …}) and returns the
// epochs of the inbox whose URL path is inboxPath.
func (o *Options) manifestEpochs(ctx context.Context, manifestURL, inboxPath string) ([]Epoch, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, manifestURL, nil)
	if err != nil {
		return nil, fmt.Errorf("mirror: %s: %w", manifestURL, err)
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, errNoManifest
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("mirror: %s: HTTP %s", manifestURL, resp.Status)
	}
	m, err := parseManifest(io.LimitReader(resp.Body, maxManifest))
	if err != nil {
		return nil, fmt.Errorf("mirror: %s: %w", manifestURL, err)
	}
	return inboxEpochs(m, inboxPath), nil
}

// manifestEntry is the part of a manifest entry patchtrail uses.
type manifestEntry struct {
	Fingerprint *string `json:"fingerprint"`
	Modified    int64   `json:"modified"`
}

// parseManifest decodes a manifest, gzipped or (when a proxy already
// undid the compression) plain JSON.
func parseManifest(r io.Reader) (map[string]manifestEntry, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		defer zr.Close()
		src = io.LimitReader(zr, maxManifest)
	}
	var m map[string]manifestEntry
	if err := json.NewDecoder(src).Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return m, nil
}

// inboxEpochs picks the epochs of one inbox out of a manifest, in order.
// A key belongs to the inbox when its part before /git/N.git is the
// inbox's URL path or, for a site mounted under a prefix, a trailing
// part of it.
func inboxEpochs(m map[string]manifestEntry, inboxPath string) []Epoch {
	var out []Epoch
	for key, e := range m {
		sub := epochKeyRE.FindStringSubmatch(key)
		// Keys start with '/', so a suffix match is at a path boundary.
		if sub == nil || !strings.HasPrefix(sub[1], "/") || !strings.HasSuffix(inboxPath, sub[1]) {
			continue
		}
		n, _ := strconv.Atoi(sub[2])
		ep := Epoch{N: n}
		if e.Fingerprint != nil {
			ep.Fingerprint = *e.Fingerprint
		}
		out = append(out, ep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}

// fingerprint computes what a manifest lists for a repository: the
// SHA-1 of `git show-ref`.
func (o *Options) fingerprint(ctx context.Context, gitDir string) (string, error) {
	out, err := o.git(ctx, gitDir, "show-ref")
	if err != nil {
		// show-ref exits 1 when there are no refs.
		if strings.TrimSpace(out) == "" {
			out = ""
		} else {
			return "", err
		}
	}
	sum := sha1.Sum([]byte(out))
	return hex.EncodeToString(sum[:]), nil
}
