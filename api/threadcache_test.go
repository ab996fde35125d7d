package api

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patchtrail/indexer"
	"patchtrail/internal/store"

	"github.com/labstack/echo/v4"
)

// TestThreadCache: a cached answer equals a fresh one; a new message in
// the store is seen at once, and so is any other write to the store (a
// radar score, a link) in the answers that show it.
func TestThreadCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := indexer.Import(ctx, st, samplePath, nil); err != nil {
		t.Fatal(err)
	}
	base := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t)}))
	const mid = "20240205230000.310306-1-dave@example.org"
	routes := map[string]string{
		"/all/" + mid + "/t/":         "/LIST/MSGID/t/",
		"/all/" + mid + "/t.mbox.gz":  "/LIST/MSGID/t.mbox.gz",
		"/api/v1/thread/" + mid:       "/api/v1/thread/{mid}",
		"/all/" + mid + "/":           "/LIST/MSGID/",
		"/all/" + mid + "/raw":        "/LIST/MSGID/raw",
		"/api/v1/message/" + mid:      "/api/v1/message/{mid}",
		"/all/" + mid + "/series/":    "/LIST/MSGID/series/",
		"/api/v1/series/" + mid:       "/api/v1/series/{mid}",
		"/all/?q=s:io_uring":          "", // a search: never kept here
		"/api/v1/search?q=s:io_uring": "",
	}
	for path := range routes {
		a := do(t, "GET", base+path, "")
		b := do(t, "GET", base+path, "")
		if !bytes.Equal(a.Body, b.Body) || a.Status != b.Status ||
			a.Header.Get("Content-Type") != b.Header.Get("Content-Type") {
			t.Errorf("%s: cached answer differs: %d %q / %d %q", path, a.Status, a.Header.Get("Content-Type"), b.Status, b.Header.Get("Content-Type"))
		}
	}
	metrics := do(t, "GET", base+"/metrics", "")
	for path, route := range routes {
		if route == "" {
			for _, r := range []string{`route="/LIST/ (cached)"`, `route="/api/v1/search (cached)"`} {
				if bytes.Contains(metrics.Body, []byte(r)) {
					t.Errorf("%s: a search was answered from the answer cache", path)
				}
			}
			continue
		}
		if want := `route="` + route + ` (cached)",status="200"} 1`; !bytes.Contains(metrics.Body, []byte(want)) {
			t.Errorf("%s: the second request was not answered from the cache (no %s)", path, want)
		}
	}

	// A write that adds no message (here: a meta row, as a link or a
	// radar run writes rows): every answer is built again.
	before := do(t, "GET", base+"/api/v1/thread/"+mid, "")
	if _, err := st.DB().ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES ('test_write', '1')`); err != nil {
		t.Fatal(err)
	}
	do(t, "GET", base+"/api/v1/thread/"+mid, "")
	metrics = do(t, "GET", base+"/metrics", "")
	if want := `route="/api/v1/thread/{mid}",status="200"} 2`; !bytes.Contains(metrics.Body, []byte(want)) {
		t.Errorf("the answer was not built again after a write to the store (no %s)", want)
	}

	reply := "From x Thu Jan  1 00:00:00 1970\nMessage-ID: <late-reply@example.org>\nIn-Reply-To: <" + mid + ">\n" +
		"References: <" + mid + ">\nSubject: Re: [PATCH] io_uring: fix use-after-free in io_rw_done()\n" +
		"From: Late <late@example.org>\nDate: Mon, 1 Apr 2024 10:00:00 +0000\n\nlate reply\n"
	p := filepath.Join(t.TempDir(), "late.mbox")
	if err := os.WriteFile(p, []byte(reply), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := indexer.Import(ctx, st, p, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	after := do(t, "GET", base+"/api/v1/thread/"+mid, "")
	if bytes.Equal(before.Body, after.Body) || !bytes.Contains(after.Body, []byte("late-reply@example.org")) {
		t.Errorf("the thread answer did not change after a new reply was stored")
	}
}

// TestCaptureWriter: an answer under the limit goes out in one write with
// its length and is kept; a larger one is streamed whole and not kept; a
// handler that fails after writing part of its answer gets an error
// answer, not a truncated body that looks whole.
func TestCaptureWriter(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, nil, &Options{Logger: testLogger(t)})
	calls := map[string]int{}
	e := echo.New()
	e.Use(s.cacheThreads)
	e.GET("/all/:mid/t.mbox.gz", func(c echo.Context) error {
		setRoute(c, "/LIST/MSGID/t.mbox.gz", kindText)
		mid := c.Param("mid")
		calls[mid]++
		size := map[string]int{"small": 1000, "big": threadCacheMaxBody + 1000, "fails": 100}[mid]
		c.Response().Header().Set(echo.HeaderContentType, "application/gzip")
		c.Response().WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("x"), 4096)
		for n := 0; n < size; n += len(chunk) {
			if _, err := c.Response().Write(chunk[:min(len(chunk), size-n)]); err != nil {
				return err
			}
		}
		if mid == "fails" {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "gave up")
		}
		return nil
	})
	ts := httptest.NewServer(e)
	defer ts.Close()
	for _, tc := range []struct {
		mid    string
		status int
		size   int
		calls  int // handler calls after two requests
	}{
		{"small", 200, 1000, 1},
		{"big", 200, threadCacheMaxBody + 1000, 2},
		{"fails", 503, -1, 2},
	} {
		for range 2 {
			r := do(t, "GET", ts.URL+"/all/"+tc.mid+"/t.mbox.gz", "")
			if r.Status != tc.status || (tc.size >= 0 && len(r.Body) != tc.size) {
				t.Errorf("%s: %d with %d bytes, want %d with %d", tc.mid, r.Status, len(r.Body), tc.status, tc.size)
			}
			if tc.mid == "fails" && bytes.Contains(r.Body, []byte("xxxx")) {
				t.Errorf("%s: the partial answer went out: %.40q", tc.mid, r.Body)
			}
			if tc.mid == "small" && r.Header.Get("Content-Length") != "1000" {
				t.Errorf("%s: Content-Length %q", tc.mid, r.Header.Get("Content-Length"))
			}
		}
		if calls[tc.mid] != tc.calls {
			t.Errorf("%s: handler ran %d times for two requests, want %d", tc.mid, calls[tc.mid], tc.calls)
		}
	}
}

// TestMessageCaches: thread pages, mboxes and trees built from cached
// bodies, gzipped pieces and thread trees equal those of a server that
// caches nothing.
func TestMessageCaches(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := indexer.Import(ctx, st, samplePath, nil); err != nil {
		t.Fatal(err)
	}
	plain := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t), CacheBytes: -1}))
	cs := New(st, nil, &Options{Logger: testLogger(t)})
	cs.threads = nil // rebuild every answer, from the message caches
	cached := newServerFor(t, cs)
	const mid = "20240205230000.310306-1-dave@example.org"
	for _, path := range []string{"/all/" + mid + "/t/", "/all/" + mid + "/t.mbox.gz", "/api/v1/thread/" + mid} {
		want := do(t, "GET", plain+path, "")
		for i := range 2 {
			got := do(t, "GET", cached+path, "")
			a, b := want.Body, got.Body
			if strings.HasSuffix(path, ".gz") {
				a, b = gunzip(t, a), gunzip(t, b)
			}
			if got.Status != 200 || !bytes.Equal(a, b) {
				t.Errorf("%s, request %d: %d, differs from the uncached answer", path, i+1, got.Status)
			}
		}
	}
	if cs.bodies.Len() == 0 || cs.pieces.Len() == 0 || cs.views.Len() == 0 {
		t.Errorf("nothing was cached: %d bodies, %d pieces, %d thread trees", cs.bodies.Len(), cs.pieces.Len(), cs.views.Len())
	}
}

// TestFeedEntryCache: Atom feeds built from cached entries equal those of
// a server that caches nothing, and the entries were reused.
func TestFeedEntryCache(t *testing.T) {
	st, ix := sampleData(t)
	plain := newServerFor(t, New(st, ix, &Options{Logger: testLogger(t), CacheBytes: -1, BaseURL: "http://lore.test"}))
	cs := New(st, ix, &Options{Logger: testLogger(t), BaseURL: "http://lore.test"})
	cs.threads = nil // build every feed again, from the cached entries
	cached := newServerFor(t, cs)
	for _, path := range []string{"/all/new.atom", "/io-uring/new.atom", "/all/?x=A&q=s:io_uring"} {
		want := do(t, "GET", plain+path, "")
		if want.Status != 200 || !bytes.Contains(want.Body, []byte("<entry>")) {
			t.Fatalf("%s: %d without entries", path, want.Status)
		}
		for i := range 2 {
			if got := do(t, "GET", cached+path, ""); got.Status != 200 || !bytes.Equal(got.Body, want.Body) {
				t.Errorf("%s, request %d: %d, differs from the uncached feed", path, i+1, got.Status)
			}
		}
	}
	if s := cs.feedEntries.Stats(); s.Entries == 0 || s.Hits == 0 {
		t.Errorf("feed entries were not cached and reused: %+v", s)
	}
}

// TestEncodeFeed: a feed spliced from separately encoded entries is the
// bytes xml.Encoder writes for the feed holding them.
func TestEncodeFeed(t *testing.T) {
	f := &atomFeed{Title: "t <&> \"x\"", ID: toUUID("x"), Updated: "2024-01-01T00:00:00Z",
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: "http://lore.test/all/?q=a&b"}, {Rel: "self", Href: "http://lore.test/all/new.atom"}}}
	entries := []atomEntry{
		{Author: atomAuthor{Name: "A <b>", Email: "a@b"}, Title: "one & two", Updated: "2024-01-01T00:00:00Z",
			Link: atomLink{Href: "http://lore.test/all/m1/"}, ID: toUUID("m1"), Content: atomContent{Type: "text", Text: "body\n<tag> & \x01 ]]> é\r\n"}},
		{Title: "reply", Link: atomLink{Href: "http://lore.test/all/m2/"}, ID: toUUID("m2"),
			InReplyTo: &atomReplyTo{Ref: toUUID("m1"), Href: "http://lore.test/all/m1/"}, Content: atomContent{Type: "text", Text: "r"}},
	}
	var parts [][]byte
	for i := range entries {
		b, err := encodeEntry(&entries[i])
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	got, err := encodeFeed(f, parts)
	if err != nil {
		t.Fatal(err)
	}
	whole := *f
	whole.Entries = entries
	var want bytes.Buffer
	want.WriteString(xml.Header)
	if err := xml.NewEncoder(&want).Encode(&whole); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("spliced feed differs:\n got %s\nwant %s", got, want.Bytes())
	}
}
