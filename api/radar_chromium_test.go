package api

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestChromiumRadarPage renders /radar/ in Chromium: the rows are the
// API's, in its order; the form's GET filters them; the links answer.
func TestChromiumRadarPage(t *testing.T) {
	needTool(t, "chromium")
	_, ts := newTestServer(t, nil)
	row := regexp.MustCompile(`<td><a href="/_/trace/([^"]+)">`)
	rows := func(dom string) []string {
		var out []string
		for _, m := range row.FindAllStringSubmatch(dom, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, q := range []string{"from=2000-01-01", "from=2000-01-01&min_score=0.3&no_cve=1"} {
		var page RadarPage
		getJSON(t, ts.URL+"/api/v1/radar?"+q, &page)
		var want []string
		for _, it := range page.Items {
			want = append(want, url.PathEscape(it.MessageID))
		}
		dom := chromiumDOM(t, ts.URL+"/radar/?"+q)
		if got := rows(dom); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("/radar/?%s rows\n%q\nwant the API's\n%q", q, got, want)
		}
		if q == "from=2000-01-01" && len(want) == 0 {
			t.Fatal("no rows to check")
		}
		checkLinks(t, ts.URL, dom)
	}
}
