package api

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

// The JSON API answers the stored scores, filtered; the page lists them
// with links to their trace; the feed links with the configured base.
func TestRadarAPI(t *testing.T) {
	_, ts := newTestServer(t, nil)
	var all RadarPage
	getJSON(t, ts.URL+"/api/v1/radar?from=2000-01-01&limit=0", &all)
	if len(all.Items) < 5 {
		t.Fatalf("radar of the sample: %d patches, want at least 5", len(all.Items))
	}
	seen := map[string]bool{}
	for i, it := range all.Items {
		if it.Score < 0 || it.Score > 1 || it.MessageID == "" || it.Subject == "" {
			t.Errorf("item %+v", it)
		}
		if n := len(it.Versions); n == 0 || it.Versions[n-1] != it.MessageID {
			t.Errorf("%s: versions %v, want it last", it.MessageID, it.Versions)
		}
		if i > 0 && it.Score > all.Items[i-1].Score {
			t.Errorf("not ranked: %v after %v", it.Score, all.Items[i-1].Score)
		}
		for _, v := range it.Versions {
			if seen[v] {
				t.Errorf("version <%s> folded into two rows", v)
			}
			seen[v] = true
		}
	}
	// The v1 and v2 of the io_uring/net series are one row each patch.
	folded := false
	for _, it := range all.Items {
		if strings.Contains(it.Subject, "reject unknown flags") && len(it.Versions) == 2 {
			folded = true
		}
	}
	if !folded {
		t.Error("the two versions of \"reject unknown flags\" are not folded into one row")
	}
	min := all.Items[len(all.Items)/2].Score
	var some RadarPage
	getJSON(t, ts.URL+"/api/v1/radar?from=2000-01-01&min_score="+jsonNum(min), &some)
	if len(some.Items) == 0 || len(some.Items) >= len(all.Items) && all.Items[len(all.Items)-1].Score < min {
		t.Errorf("min_score=%v: %d of %d rows", min, len(some.Items), len(all.Items))
	}
	for _, it := range some.Items {
		if it.Score < min {
			t.Errorf("min_score=%v: row with %v", min, it.Score)
		}
	}
	var none RadarPage
	getJSON(t, ts.URL+"/api/v1/radar?from=2030-01-01", &none)
	if len(none.Items) != 0 {
		t.Errorf("from 2030: %d rows", len(none.Items))
	}
	for _, bad := range []string{"from=yesterday", "min_score=2", "limit=-1"} {
		if r := do(t, "GET", ts.URL+"/api/v1/radar?"+bad, ""); r.Status != 400 {
			t.Errorf("GET /api/v1/radar?%s: status %d, want 400", bad, r.Status)
		}
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestRadarPage(t *testing.T) {
	_, ts := newTestServer(t, nil)
	// By default the last 30 days: the sample is older.
	r := do(t, "GET", ts.URL+"/radar/", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), "No patch matches") || !strings.Contains(string(r.Body), `name="no_cve" value="1" checked`) {
		t.Errorf("GET /radar/: status %d, want 200 with no rows and no_cve checked:\n%s", r.Status, r.Body)
	}
	r = do(t, "GET", ts.URL+"/radar/?from=2000-01-01", "")
	body := string(r.Body)
	if r.Status != 200 || !strings.Contains(body, "reject unknown flags in io_send_prep()") || !strings.Contains(body, `href="/_/trace/`) {
		t.Errorf("GET /radar/?from=2000-01-01: status %d, want rows linking to traces:\n%s", r.Status, body)
	}
	// The message page of a patch shows its score and signals.
	r = do(t, "GET", ts.URL+"/all/"+escapeMID(patch2MID)+"/", "")
	if !strings.Contains(string(r.Body), "Radar score") {
		t.Errorf("message page of a patch has no radar score:\n%s", r.Body)
	}
	r = do(t, "GET", ts.URL+"/all/"+escapeMID(coverMID)+"/", "")
	if strings.Contains(string(r.Body), "Radar score") {
		t.Error("message page of a cover letter shows a radar score")
	}
}

func TestRadarAtom(t *testing.T) {
	const base = "https://lore.example.org/x"
	_, ts := newTestServer(t, &Options{BaseURL: base + "/"})
	r := do(t, "GET", ts.URL+"/radar/new.atom?from=2000-01-01&min_score=0", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("status %d, type %q", r.Status, r.Header.Get("Content-Type"))
	}
	var f atomFeed
	if err := xml.Unmarshal(r.Body, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) == 0 {
		t.Fatal("no entries")
	}
	for i, e := range f.Entries {
		if !strings.HasPrefix(e.Link.Href, base+"/_/trace/") || !strings.Contains(e.Content.Text, "score ") {
			t.Errorf("entry %+v: want a trace link under %s and the score", e, base)
		}
		if i > 0 && e.Updated > f.Entries[i-1].Updated {
			t.Errorf("entries not newest first: %s after %s", e.Updated, f.Entries[i-1].Updated)
		}
	}
	for _, l := range f.Links {
		if !strings.HasPrefix(l.Href, base+"/radar/") {
			t.Errorf("feed link %q not under %s/radar/", l.Href, base)
		}
	}
}
