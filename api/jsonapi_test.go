package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"patchtrail/search"
)

const (
	coverMID   = "20240115090000.310017-0-alice@example.org"
	patch2MID  = "20240115090002.310051-2-alice@example.org"
	hostileMID = `xss"onmouseover=alert(5)@example.net`
)

func hitIDs(hs []Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.MessageID)
	}
	return out
}

func TestAPISearch(t *testing.T) {
	_, ts := newTestServer(t, nil)
	_, ix := sampleData(t)
	tests := []struct {
		query string
		opts  search.SearchOptions
	}{
		{"s:io_uring", search.SearchOptions{}},
		{"s:io_uring", search.SearchOptions{Limit: 5, Offset: 5}},
		{"s:io_uring", search.SearchOptions{Limit: 7, Threads: true}},
		{"f:alice AND s:patch", search.SearchOptions{Sort: search.SortRelevance}},
		{"nq:READ_ONCE", search.SearchOptions{List: "io-uring"}},
		{"dfn:io_uring/net.c", search.SearchOptions{}},
	}
	for _, tc := range tests {
		v := url.Values{"q": {tc.query}}
		if tc.opts.Limit > 0 {
			v.Set("limit", strconv.Itoa(tc.opts.Limit))
		}
		if tc.opts.Offset > 0 {
			v.Set("offset", strconv.Itoa(tc.opts.Offset))
		}
		if tc.opts.Threads {
			v.Set("threads", "1")
		}
		if tc.opts.Sort != "" {
			v.Set("sort", tc.opts.Sort)
		}
		if tc.opts.List != "" {
			v.Set("list", tc.opts.List)
		}
		var got SearchPage
		getJSON(t, ts.URL+"/api/v1/search?"+v.Encode(), &got)
		want, err := ix.Search(context.Background(), tc.query, &tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Hits) == 0 {
			t.Fatalf("search %q: the fixture should match something", tc.query)
		}
		if diff := cmp.Diff(hitIDs(Hits(want.Hits)), hitIDs(got.Hits)); diff != "" {
			t.Errorf("search %v: hits differ from Index.Search (-want +got):\n%s", v, diff)
		}
		if got.Total != want.Total || got.Query != tc.query {
			t.Errorf("search %v: total %d query %q, want %d %q", v, got.Total, got.Query, want.Total, tc.query)
		}
		for _, h := range got.Hits {
			if h.URL != messageURL(h.List, h.MessageID) {
				t.Errorf("hit %s: url %q", h.MessageID, h.URL)
			}
		}
	}
}

func TestAPISearchPaging(t *testing.T) {
	_, ts := newTestServer(t, &Options{MaxLimit: 10})
	var all []string
	next := "/api/v1/search?q=s:io_uring&limit=1000"
	for pages := 0; next != ""; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		var p SearchPage
		getJSON(t, ts.URL+next, &p)
		if p.Limit != 10 {
			t.Fatalf("limit = %d, want it capped at 10", p.Limit)
		}
		all = append(all, hitIDs(p.Hits)...)
		next = p.Next
		if uint64(len(all)) == p.Total && next != "" {
			t.Fatalf("next page %q after the last hit", next)
		}
	}
	_, ix := sampleData(t)
	want, _ := ix.Search(context.Background(), "s:io_uring", &search.SearchOptions{Limit: 1000})
	if diff := cmp.Diff(hitIDs(Hits(want.Hits)), all); diff != "" {
		t.Errorf("pages joined differ from one big search (-want +got):\n%s", diff)
	}
}

func TestAPIViews(t *testing.T) {
	_, ts := newTestServer(t, nil)
	st, _ := sampleData(t)
	ctx := context.Background()
	for _, mid := range []string{coverMID, patch2MID, hostileMID} {
		esc := escapeMID(mid)
		var m MessageDetail
		getJSON(t, ts.URL+"/api/v1/message/"+esc, &m)
		want, err := LoadMessageDetail(ctx, st, mid)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, &m, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("message %s differs from LoadMessageDetail (-want +got):\n%s", mid, diff)
		}
		if r := do(t, http.MethodGet, ts.URL+m.RawURL, ""); r.Status != http.StatusOK {
			t.Errorf("raw_url %s = %d", m.RawURL, r.Status)
		}
		var th Thread
		getJSON(t, ts.URL+"/api/v1/thread/"+esc, &th)
		wt, _, err := LoadThread(ctx, st, mid)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wt, &th, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("thread %s differs from LoadThread (-want +got):\n%s", mid, diff)
		}
	}
	var sr Series
	getJSON(t, ts.URL+"/api/v1/series/"+escapeMID(patch2MID), &sr)
	ws, err := LoadSeries(ctx, st, patch2MID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ws, &sr, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("series differs from LoadSeries (-want +got):\n%s", diff)
	}
	var ls ListsPage
	getJSON(t, ts.URL+"/api/v1/lists", &ls)
	wl, _ := st.Lists(ctx)
	if len(ls.Lists) != len(wl) || len(wl) == 0 || ls.Lists[0].Name != wl[0].Name || ls.Lists[0].Messages != wl[0].Messages {
		t.Errorf("lists = %+v, want %+v", ls.Lists, wl)
	}
	var stats StatsPage
	getJSON(t, ts.URL+"/api/v1/stats", &stats)
	wst, _ := st.Stats(ctx)
	if diff := cmp.Diff(wst, stats.Store); diff != "" || !stats.Search || stats.IndexDocuments != uint64(wst.Messages) {
		t.Errorf("stats = %+v, want store %+v and %d indexed (%s)", stats, wst, wst.Messages, diff)
	}
}

func TestAPIErrors(t *testing.T) {
	_, ts := newTestServer(t, nil)
	tests := []struct {
		path   string
		status int
		pos    int
	}{
		{"/api/v1/message/nonexistent@example.org", http.StatusNotFound, 0},
		{"/api/v1/thread/nonexistent@example.org", http.StatusNotFound, 0},
		{"/api/v1/series/" + escapeMID(hostileMID), http.StatusNotFound, 0}, // not a patch
		{"/api/v1/message/", http.StatusBadRequest, 0},
		{"/api/v1/search?q=" + url.QueryEscape("s:foo AND (bar"), http.StatusBadRequest, 11},
		{"/api/v1/search?q=" + url.QueryEscape(`s:"unterminated AND`), http.StatusOK, 0},
		{"/api/v1/search?q=", http.StatusBadRequest, 0},
		{"/api/v1/search?q=a&limit=x", http.StatusBadRequest, 0},
		{"/api/v1/search?q=a&offset=-1", http.StatusBadRequest, 0},
		{"/api/v1/search?q=a&offset=999999", http.StatusOK, 0}, // past the end: no hits, no next
		{"/api/v1/search?q=a&sort=sideways", http.StatusBadRequest, 0},
		{"/api/v1/nothing", http.StatusNotFound, 0},
		{"/api/v2/search", http.StatusNotFound, 0},
	}
	for _, tc := range tests {
		r := do(t, http.MethodGet, ts.URL+tc.path, "")
		if r.Status != tc.status {
			t.Errorf("GET %s = %d %s, want %d", tc.path, r.Status, r.Body, tc.status)
			continue
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: Content-Type %q, want JSON", tc.path, ct)
			continue
		}
		if tc.status == http.StatusOK {
			continue
		}
		var e ErrorBody
		if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Status != tc.status || e.Error.Message == "" {
			t.Errorf("GET %s: error body %s (%v)", tc.path, r.Body, err)
		}
		if e.Error.Position != tc.pos {
			t.Errorf("GET %s: position %d, want %d", tc.path, e.Error.Position, tc.pos)
		}
	}
}

func TestAPIDeadline(t *testing.T) {
	_, ts := newTestServer(t, &Options{RequestTimeout: 1}) // 1ns: every request is late
	for _, path := range []string{"/api/v1/search?q=s:io_uring", "/api/v1/message/" + coverMID, "/api/v1/thread/" + coverMID} {
		r := do(t, http.MethodGet, ts.URL+path, "")
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s with an expired deadline = %d %s, want 503 with Retry-After", path, r.Status, r.Body)
		}
	}
}

func TestAPINoIndex(t *testing.T) {
	st, _ := sampleData(t)
	ts := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t)}))
	if r := do(t, http.MethodGet, ts+"/api/v1/search?q=s:io_uring", ""); r.Status != http.StatusServiceUnavailable {
		t.Errorf("search without an index = %d, want 503", r.Status)
	}
	if r := do(t, http.MethodGet, ts+"/api/v1/message/"+coverMID, ""); r.Status != http.StatusOK {
		t.Errorf("message without an index = %d, want 200", r.Status)
	}
}

// TestAPISearchDeep: pages deeper than the index searches at once are read
// by walking the hits: every page of every depth is there (no cap), equal
// to the same page of one big search, and the HTML page links to them.
func TestAPISearchDeep(t *testing.T) {
	defer func(d int) { deepOffset = d }(deepOffset)
	deepOffset = 3 // the sample archive has far fewer than search.MaxOffset hits
	_, ts := newTestServer(t, &Options{MaxLimit: 4})
	_, ix := sampleData(t)
	for _, tc := range []struct {
		q     string
		extra string
		opts  search.SearchOptions
	}{
		{"s:io_uring", "", search.SearchOptions{Limit: 1000}},
		{"s:io_uring", "&threads=1", search.SearchOptions{Limit: 1000, Threads: true}},
		{"f:alice OR s:patch", "&sort=relevance", search.SearchOptions{Limit: 1000, Sort: search.SortRelevance}},
	} {
		want, err := ix.Search(context.Background(), tc.q, &tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Hits) <= 8 {
			t.Fatalf("%s: %d hits; the fixture should give pages beyond offset %d", tc.q, len(want.Hits), deepOffset)
		}
		var all []string
		next := "/api/v1/search?" + url.Values{"q": {tc.q}}.Encode() + "&limit=4" + tc.extra
		for pages := 0; next != ""; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			var p SearchPage
			getJSON(t, ts.URL+next, &p)
			if p.Total != want.Total {
				t.Errorf("%s offset %d: total %d, want %d", tc.q, p.Offset, p.Total, want.Total)
			}
			all = append(all, hitIDs(p.Hits)...)
			next = p.Next
		}
		if diff := cmp.Diff(hitIDs(Hits(want.Hits)), all); diff != "" {
			t.Errorf("%s%s: pages joined differ from one big search (-want +got):\n%s", tc.q, tc.extra, diff)
		}
	}
	var past SearchPage
	getJSON(t, ts.URL+"/api/v1/search?q=s:io_uring&offset=100000", &past)
	if len(past.Hits) != 0 || past.Next != "" || past.Total == 0 {
		t.Errorf("offset past the end: %d hits, next %q, total %d; want no hits, no next, the total", len(past.Hits), past.Next, past.Total)
	}
	// The HTML page beyond the old cap links to the next page.
	r := do(t, http.MethodGet, ts.URL+"/all/?q=s:io_uring&o=4&l=4", "")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `rel="next"`) {
		t.Errorf("search page at offset 4 (deep): %d, next link: %v", r.Status, strings.Contains(string(r.Body), `rel="next"`))
	}
}
