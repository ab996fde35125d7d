package testserver

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// GitHTTP serves the bare repositories under Root with git's smart HTTP
// protocol (git http-backend behind net/http/cgi) on 127.0.0.1, plus
// manifests written by WriteManifest: a stand-in for a public-inbox
// site that needs only git.
type GitHTTP struct {
	Root string
	URL  string // http://127.0.0.1:PORT

	mu        sync.Mutex
	manifests map[string][]byte // URL path → gzipped manifest
	hits      map[string]int    // URL path → requests
}

// StartGitHTTP serves root until the test ends; it skips without git.
func StartGitHTTP(tb testing.TB, root string) *GitHTTP {
	tb.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		tb.Skip("git not installed")
	}
	g := &GitHTTP{Root: root, manifests: map[string][]byte{}, hits: map[string]int{}}
	backend := &cgi.Handler{Path: git, Args: []string{"http-backend"}, Root: "/",
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}, Stderr: io.Discard}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.hits[r.URL.Path]++
		m, ok := g.manifests[r.URL.Path]
		g.mu.Unlock()
		if ok {
			w.Header().Set("Content-Type", "application/gzip")
			w.Write(m)
			return
		}
		if filepath.Base(r.URL.Path) == "manifest.js.gz" {
			http.NotFound(w, r)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Hits is how many requests asked for path.
func (g *GitHTTP) Hits(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.hits[path]
}

var epochPathRE = regexp.MustCompile(`/git/[0-9]+\.git$`)

// WriteManifest serves at path (e.g. "/manifest.js.gz" or
// "/LIST/manifest.js.gz") a manifest of the epochs under Root/dirs… as
// they are now, with public-inbox's fingerprints (SHA-1 of `git
// show-ref`); an empty dirs removes it. Later commits make it stale
// until it is written again.
func (g *GitHTTP) WriteManifest(tb testing.TB, path string, dirs ...string) {
	tb.Helper()
	if len(dirs) == 0 {
		g.mu.Lock()
		delete(g.manifests, path)
		g.mu.Unlock()
		return
	}
	type entry struct {
		Fingerprint string `json:"fingerprint"`
		Modified    int64  `json:"modified"`
	}
	m := map[string]entry{}
	for _, d := range dirs {
		epochs, _ := filepath.Glob(filepath.Join(g.Root, d, "git", "*.git"))
		for _, ep := range epochs {
			key := "/" + filepath.ToSlash(mustRel(tb, g.Root, ep))
			if !epochPathRE.MatchString(key) {
				continue
			}
			out, _ := exec.Command("git", "--git-dir="+ep, "show-ref").Output()
			sum := sha1.Sum(out)
			m[key] = entry{Fingerprint: hex.EncodeToString(sum[:]), Modified: 1700000000}
		}
	}
	js, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(js)
	zw.Close()
	g.mu.Lock()
	g.manifests[path] = b.Bytes()
	g.mu.Unlock()
}

func mustRel(tb testing.TB, base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
