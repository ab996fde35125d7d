package api

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/search"
)

// checkGzipMbox checks the headers public-inbox-httpd sends with a
// gzipped mbox and returns the uncompressed body.
func checkGzipMbox(t *testing.T, what string, r *response) []byte {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s = %d %s", what, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/gzip" {
		t.Errorf("%s: Content-Type %q, want application/gzip", what, ct)
	}
	if ce := r.Header.Values("Content-Encoding"); len(ce) > 0 {
		t.Errorf("%s: Content-Encoding %q, want none", what, ce)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline; filename=") || !strings.HasSuffix(cd, ".mbox.gz") {
		t.Errorf("%s: Content-Disposition %q", what, cd)
	}
	return gunzip(t, r.Body)
}

func TestThreadMbox(t *testing.T) {
	_, ts := newTestServer(t, nil)
	st, _ := sampleData(t)
	ctx := context.Background()
	for _, list := range []string{"all", "io-uring"} {
		for _, mid := range []string{coverMID, patch2MID, hostileMID} {
			r := do(t, http.MethodGet, ts.URL+"/"+list+"/"+url.QueryEscape(mid)+"/t.mbox.gz", "")
			got := checkGzipMbox(t, "t.mbox.gz of "+mid, r)
			m := resolve(t, st, mid)
			ids, err := threadIDs(ctx, st, m, nil, 5000)
			if err != nil {
				t.Fatal(err)
			}
			// The expansion holds the strict thread in arrival order.
			strict, _ := st.ThreadMessages(ctx, m.Thread)
			have := map[int64]bool{}
			for _, id := range ids {
				have[id] = true
			}
			for _, sm := range strict {
				if !have[sm.ID] {
					t.Errorf("thread of %s misses %s", mid, sm.MessageID)
				}
			}
			for i := 1; i < len(ids); i++ {
				if ids[i-1] >= ids[i] {
					t.Errorf("thread of %s not in arrival order: %v", mid, ids)
				}
			}
			if want := mboxOf(t, st, ids); !bytes.Equal(got, want) {
				t.Errorf("t.mbox.gz of %s: body differs from the mboxrd of %v (%d vs %d bytes)", mid, ids, len(got), len(want))
			}
		}
	}
	// The cover letter's thread pulls in the same-subject reply that lost
	// its references (REFERENCE §2).
	got := mboxMIDs(gunzip(t, do(t, http.MethodGet, ts.URL+"/all/"+coverMID+"/t.mbox.gz", "").Body))
	if !contains(got, "CAFrank0x1234abcd+tidyup@mail.example.com") {
		t.Errorf("t.mbox.gz of the cover letter = %v, want the same-subject reply too", got)
	}
	if r := do(t, http.MethodGet, ts.URL+"/all/unknown@example.org/t.mbox.gz", ""); r.Status != http.StatusNotFound {
		t.Errorf("t.mbox.gz of an unknown message = %d, want 404", r.Status)
	}
	if r := do(t, http.MethodGet, ts.URL+"/nolist/"+coverMID+"/t.mbox.gz", ""); r.Status != http.StatusNotFound {
		t.Errorf("t.mbox.gz on an unknown list = %d, want 404", r.Status)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestRaw(t *testing.T) {
	_, ts := newTestServer(t, nil)
	st, _ := sampleData(t)
	for _, mid := range []string{coverMID, hostileMID, "CAFrank0x1234abcd+tidyup@mail.example.com"} {
		// Both escapings clients use: b4's quote_plus and our own.
		for _, esc := range []string{url.QueryEscape(mid), escapeMID(mid)} {
			r := do(t, http.MethodGet, ts.URL+"/all/"+esc+"/raw", "")
			if r.Status != http.StatusOK {
				t.Fatalf("raw %s = %d %s", esc, r.Status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; charset=") {
				t.Errorf("raw %s: Content-Type %q", mid, ct)
			}
			m := resolve(t, st, mid)
			if want := mboxOf(t, st, []int64{m.ID}); !bytes.Equal(r.Body, want) {
				t.Errorf("raw %s:\n%s\nwant\n%s", esc, r.Body, want)
			}
		}
	}
	if r := do(t, http.MethodGet, ts.URL+"/all/nope@example.org/raw", ""); r.Status != http.StatusNotFound {
		t.Errorf("raw of an unknown message = %d", r.Status)
	}
}

func TestLoreSearchMbox(t *testing.T) {
	_, ts := newTestServer(t, nil)
	st, ix := sampleData(t)
	ctx := context.Background()
	iterate := func(q string, o *search.SearchOptions) []string {
		var out []string
		if err := ix.Iterate(ctx, q, o, func(h search.Hit) error { out = append(out, h.MessageID); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	threadOf := func(mids []string) []string {
		var out []string
		seen := map[string]bool{}
		for _, mid := range mids {
			ids, err := threadIDs(ctx, st, resolve(t, st, mid), nil, 5000)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				m, _ := st.Message(ctx, id)
				if !seen[m.MessageID] {
					seen[m.MessageID] = true
					out = append(out, m.MessageID)
				}
			}
		}
		return out
	}
	q := "s:tidy"
	plain := iterate(q, &search.SearchOptions{})
	collapsed := iterate(q, &search.SearchOptions{Threads: true})
	tests := []struct {
		name, path, body string
		want             []string
	}{
		{"x=m", "/all/?x=m&q=" + url.QueryEscape(q), "", plain},
		{"x=m on the list", "/io-uring/?x=m&q=" + url.QueryEscape(q), "", plain},
		{"semicolons and +", "/all/?x=m;q=s:tidy+AND+f:alice", "", iterate("s:tidy AND f:alice", &search.SearchOptions{})},
		{"t=1", "/all/?x=m&t=1&q=" + url.QueryEscape(q), "", threadOf(collapsed)},
		{"body x=m", "/all/?x=m&q=" + url.QueryEscape(q), "x=m", threadOf(collapsed)},
		{"body x=0", "/all/?x=m&q=" + url.QueryEscape(q), "x=0", plain},
		{"t=0", "/all/?x=m&t=0&q=" + url.QueryEscape(q), "", plain},
		{"in a thread", "/all/" + escapeMID(patch2MID) + "/?x=m&q=" + url.QueryEscape("s:io_uring"), "",
			iterate("s:io_uring", &search.SearchOptions{ThreadID: itoa64(resolve(t, st, patch2MID).Thread)})},
	}
	for _, tc := range tests {
		if len(tc.want) == 0 {
			t.Fatalf("%s: the fixture should match something", tc.name)
		}
		var ids []int64
		for _, mid := range tc.want {
			ids = append(ids, resolve(t, st, mid).ID)
		}
		got := checkGzipMbox(t, tc.name, do(t, http.MethodPost, ts.URL+tc.path, tc.body))
		want := mboxOf(t, st, ids)
		if diff := cmp.Diff(mboxMIDs(want), mboxMIDs(got)); diff != "" || !bytes.Equal(got, want) {
			t.Errorf("POST %s (body %q): Message-IDs (-want +got):\n%s", tc.path, tc.body, diff)
		}
	}
	r := do(t, http.MethodPost, ts.URL+"/all/?x=m&q=s:zzzznothing", "")
	if r.Status != http.StatusNotFound || string(r.Body) != "No results found\n" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("no results = %d %q %q, want 404 text/plain No results found", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if r := do(t, http.MethodPost, ts.URL+"/all/?x=m&q="+url.QueryEscape("s:(oops"), ""); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "column 3") {
		t.Errorf("bad query = %d %q, want 400 naming column 3", r.Status, r.Body)
	}
	if r := do(t, http.MethodPost, ts.URL+"/all/", ""); r.Status != http.StatusNotFound {
		t.Errorf("POST without q = %d, want 404", r.Status)
	}
	if r := do(t, http.MethodPost, ts.URL+"/all/?q=s:tidy", ""); r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("POST without x=m = %d %s, want the HTML results", r.Status, r.Header.Get("Content-Type"))
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestRedirectsAndHelp(t *testing.T) {
	_, ts := newTestServer(t, nil)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := do(t, method, ts.URL+"/"+url.QueryEscape(coverMID)+"/", "")
		want := ts.URL + "/io-uring/" + coverMID + "/"
		if r.Status != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("%s /MSGID/ = %d %q, want 302 to %s", method, r.Status, r.Header.Get("Location"), want)
		}
	}
	tests := []struct {
		method, path string
		status       int
		location     string
	}{
		{http.MethodHead, "/all/_/text/help/", http.StatusOK, ""},
		{http.MethodGet, "/io-uring/_/text/help/", http.StatusOK, ""},
		{http.MethodGet, "/all/_/text/help", http.StatusFound, "/all/_/text/help/"},
		{http.MethodGet, "/all", http.StatusMovedPermanently, "/all/"},
		{http.MethodGet, "/all/" + coverMID, http.StatusMovedPermanently, "/all/" + coverMID + "/"},
		{http.MethodHead, "/unknown@example.org/", http.StatusNotFound, ""},
		{http.MethodHead, "/manifest.js.gz", http.StatusOK, ""},
	}
	for _, tc := range tests {
		r := do(t, tc.method, ts.URL+tc.path, "")
		loc := ""
		if tc.location != "" {
			loc = ts.URL + tc.location
		}
		if r.Status != tc.status || r.Header.Get("Location") != loc {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, r.Status, r.Header.Get("Location"), tc.status, loc)
		}
	}
	r := do(t, http.MethodGet, ts.URL+"/all/_/text/help/raw", "")
	if r.Status != http.StatusOK || string(r.Body) != search.HelpText() {
		t.Errorf("help/raw = %d, want the search help text", r.Status)
	}
}

func TestAtom(t *testing.T) {
	_, ts := newTestServer(t, nil)
	_, ix := sampleData(t)
	for _, tc := range []struct{ path, q string }{
		{"/all/new.atom", everything},
		{"/io-uring/new.atom", everything},
		{"/all/?x=A&q=" + url.QueryEscape("s:io_uring"), "s:io_uring"},
		{"/all/?x=A&q=" + url.QueryEscape("s:script"), "s:script"},
	} {
		r := do(t, http.MethodGet, ts.URL+tc.path, "")
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/atom+xml" {
			t.Fatalf("GET %s = %d %q", tc.path, r.Status, r.Header.Get("Content-Type"))
		}
		var f atomFeed
		if err := xml.Unmarshal(r.Body, &f); err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		want, _ := ix.Search(context.Background(), tc.q, &search.SearchOptions{Limit: feedEntries})
		if len(f.Entries) != len(want.Hits) || len(f.Entries) == 0 {
			t.Fatalf("GET %s: %d entries, want %d", tc.path, len(f.Entries), len(want.Hits))
		}
		for i, e := range f.Entries {
			if e.ID != toUUID(want.Hits[i].MessageID) || !strings.HasSuffix(e.Link.Href, escapeMID(want.Hits[i].MessageID)+"/") {
				t.Errorf("GET %s: entry %d = %s %s, want %s", tc.path, i, e.ID, e.Link.Href, want.Hits[i].MessageID)
			}
		}
	}
}

func TestManifest(t *testing.T) {
	_, ts := newTestServer(t, nil)
	r := do(t, http.MethodGet, ts.URL+"/manifest.js.gz", "")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/gzip" || r.Header.Get("Content-Encoding") != "" {
		t.Fatalf("manifest = %d %v", r.Status, r.Header)
	}
	var m map[string]manifestEntry
	if err := json.Unmarshal(gunzip(t, r.Body), &m); err != nil {
		t.Fatal(err)
	}
	e, ok := m["/io-uring"]
	if !ok || len(e.Fingerprint) != 40 || e.Modified == 0 {
		t.Errorf("manifest = %+v, want an entry for /io-uring", m)
	}
}

func TestLoreQuery(t *testing.T) {
	tests := []struct {
		raw  string
		want map[string]string
	}{
		{"x=m&q=a+b", map[string]string{"x": "m", "q": "a b"}},
		{"q=s%3Afoo;t=1;t", map[string]string{"q": "s:foo", "t": ""}},
		{"q=%zz&q=last", map[string]string{"q": "last"}},
		{"q=%zz", map[string]string{"q": "%zz"}},
		{"", map[string]string{}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, loreQuery(tc.raw)); diff != "" {
			t.Errorf("loreQuery(%q) (-want +got):\n%s", tc.raw, diff)
		}
	}
	if !loreFlag(map[string]string{"t": ""}, "t") || loreFlag(map[string]string{"t": "0"}, "t") || loreFlag(map[string]string{}, "t") {
		t.Error("loreFlag does not follow public-inbox (present and not 0)")
	}
}

func TestToFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[PATCH 0/3] io_uring/net: tidy up", "PATCH-0-3-io_uring-net-tidy-up"},
		{"..a...b--", "a.b"},
		{"<script>", "script"},
		{"", "def"},
		{"first\nsecond", "first"},
	}
	for _, tc := range tests {
		if got := toFilename(tc.in, "def"); got != tc.want {
			t.Errorf("toFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
