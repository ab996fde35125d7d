package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/cve"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

// cveSample is the sample archive with four CVE records: CVE-2024-1000's
// fix is posted in the archive (found by its title), the others are not.
func cveSample(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := indexer.Import(ctx, st, samplePath, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	records := []struct {
		id, title, file, sev string
		cvss                 float64
		dyad                 string
	}{
		{"CVE-2024-1000", "io_uring: fix use-after-free in io_rw_done()", "io_uring/rw.c", "HIGH", 7.8,
			"6.1:0123456789abcdef0123456789abcdef01234567:6.1.80:2222222222222222222222222222222222222222\n" +
				"6.1:0123456789abcdef0123456789abcdef01234567:6.8:8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809\n"},
		{"CVE-2024-1001", "net: fix a leak", "net/core/dev.c", "LOW", 3.3,
			"5.10:1111111111111111111111111111111111111111:6.7:3333333333333333333333333333333333333333\n"},
		{"CVE-2024-1002", "mm: fix <a race>", "mm/memory.c", "CRITICAL", 9.8,
			"6.6:1111111111111111111111111111111111111111:6.6.21:4444444444444444444444444444444444444444\n" +
				"6.6:1111111111111111111111111111111111111111:6.9:5555555555555555555555555555555555555555\n"},
		{"CVE-2024-10003", "io_uring: fix a hang", "io_uring/io_uring.c", "", 0,
			"6.1:1111111111111111111111111111111111111111:6.10:6666666666666666666666666666666666666666\n"},
	}
	dates := cve.Published{}
	for i, r := range records {
		dir := filepath.Join(root, "cve", "published", "2024")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		metric := ""
		if r.sev != "" {
			metric = fmt.Sprintf(`,"metrics":[{"cvssV3_1":{"baseScore":%v,"baseSeverity":%q,"vectorString":"CVSS:3.1/AV:L"}}]`, r.cvss, r.sev)
		}
		js := fmt.Sprintf(`{"cveMetadata":{"cveId":%q,"state":"PUBLISHED"},"containers":{"cna":{"title":%q,"affected":[{"programFiles":[%q]}]%s}}}`, r.id, r.title, r.file, metric)
		fix := r.dyad[strings.LastIndexByte(r.dyad[:len(r.dyad)-1], ':')+1:]
		for ext, data := range map[string]string{"json": js, "dyad": r.dyad, "sha1": fix} {
			if err := os.WriteFile(filepath.Join(dir, r.id+"."+ext), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dates[r.id] = time.Date(2024, 3, 1+i, 12, 0, 0, 0, time.UTC)
	}
	if _, err := link.ImportCVEs(ctx, st, root, &link.CVEOptions{Published: dates}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCVEsAPI(t *testing.T) {
	base := newServerFor(t, New(cveSample(t), nil, &Options{Logger: testLogger(t)}))
	tests := []struct {
		query string
		want  []string
		total int
	}{
		{"", []string{"CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002", "CVE-2024-10003"}, 4},
		{"sort=-cvss", []string{"CVE-2024-1002", "CVE-2024-1000", "CVE-2024-1001", "CVE-2024-10003"}, 4},
		{"open_in=6.6.20", []string{"CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002", "CVE-2024-10003"}, 4},
		{"open_in=6.1.80", []string{"CVE-2024-1001", "CVE-2024-10003"}, 2},
		{"fixed_in=6.6.21", []string{"CVE-2024-1002"}, 1},
		{"file=io_uring", []string{"CVE-2024-1000", "CVE-2024-10003"}, 2},
		{"file=net/*&file=mm", []string{"CVE-2024-1001", "CVE-2024-1002"}, 2},
		{"published=2024-03-02..2024-03-03", []string{"CVE-2024-1001", "CVE-2024-1002"}, 2},
		{"traced=yes", []string{"CVE-2024-1000"}, 1},
		{"traced=no&sort=-id", []string{"CVE-2024-10003", "CVE-2024-1002", "CVE-2024-1001"}, 3},
		{"list=io-uring", []string{"CVE-2024-1000"}, 1},
		{"limit=2&offset=2", []string{"CVE-2024-1002", "CVE-2024-10003"}, 4},
		{"limit=2&offset=8", []string{}, 4},
	}
	for _, tc := range tests {
		var p CVEPage
		r := getJSON(t, base+"/api/v1/cves?"+tc.query, &p)
		if r.Status != http.StatusOK {
			t.Errorf("cves?%s: status %d: %s", tc.query, r.Status, r.Body)
			continue
		}
		got := []string{}
		for _, c := range p.CVEs {
			got = append(got, c.ID)
		}
		if d := cmp.Diff(tc.want, got); d != "" || p.Total != tc.total {
			t.Errorf("cves?%s: total %d, want %d; ids (-want +got):\n%s", tc.query, p.Total, tc.total, d)
		}
	}
	var p CVEPage
	getJSON(t, base+"/api/v1/cves?limit=1&traced=yes", &p)
	if len(p.CVEs) != 1 || p.CVEs[0].Posting == nil || p.CVEs[0].Posting.MessageID != traceFix || p.CVEs[0].Trace != "/_/trace/CVE-2024-1000" {
		t.Errorf("traced CVE = %+v, want posting <%s>", p.CVEs, traceFix)
	}
	if len(p.CVEs) == 1 && (len(p.CVEs[0].Branches) != 2 || p.CVEs[0].Branches[0].FixedVersion == "") {
		t.Errorf("branches = %+v", p.CVEs[0].Branches)
	}
	getJSON(t, base+"/api/v1/cves?limit=3", &p)
	if want := "/api/v1/cves?limit=3&offset=3"; p.Next != want {
		t.Errorf("next = %q, want %q", p.Next, want)
	}
	for _, q := range []string{"open_in=banana", "fixed_in=6.x", "published=2024-13-01", "traced=maybe", "sort=color", "file=%5B", "limit=-1"} {
		r := do(t, http.MethodGet, base+"/api/v1/cves?"+q, "")
		var e ErrorBody
		if err := json.Unmarshal(r.Body, &e); err != nil || r.Status != http.StatusBadRequest || e.Error.Message == "" {
			t.Errorf("cves?%s: status %d %s, want 400 with a message", q, r.Status, r.Body)
		}
	}
}

func TestCVEsPage(t *testing.T) {
	base := newServerFor(t, New(cveSample(t), nil, &Options{Logger: testLogger(t)}))
	page := func(q string) string {
		r := do(t, http.MethodGet, base+"/_/cves/?"+q, "")
		if r.Status != http.StatusOK {
			t.Fatalf("/_/cves/?%s: status %d\n%.500s", q, r.Status, r.Body)
		}
		if m := scriptTag.FindString(string(r.Body)); m != "" {
			t.Errorf("/_/cves/?%s contains %q", q, m)
		}
		return string(r.Body)
	}
	order := func(body string, ids ...string) bool {
		last := -1
		for _, id := range ids {
			i := strings.Index(body, `href="/_/trace/`+id+`"`)
			if i < last {
				return false
			}
			last = i
		}
		return last >= 0
	}
	body := page("")
	for _, w := range []string{`name="open_in"`, `name="traced"`, "4 CVEs", "mm: fix &lt;a race&gt;", "6.6: 6.6.21", "CVSS"} {
		if !strings.Contains(body, w) {
			t.Errorf("/_/cves/ lacks %q", w)
		}
	}
	if !order(body, "CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002", "CVE-2024-10003") {
		t.Error("/_/cves/ not in id order")
	}
	// The header links sort, and a second click reverses.
	if !strings.Contains(body, `href="/_/cves/?sort=cvss"`) {
		t.Fatalf("/_/cves/ lacks a link sorting by CVSS")
	}
	body = page("sort=cvss")
	if !order(body, "CVE-2024-10003", "CVE-2024-1001", "CVE-2024-1000", "CVE-2024-1002") || !strings.Contains(body, `href="/_/cves/?sort=-cvss"`) {
		t.Error("/_/cves/?sort=cvss: wrong order or no reversing link")
	}
	body = page("open_in=6.1.80&traced=no&file=&sort=-cvss")
	if !order(body, "CVE-2024-1001", "CVE-2024-10003") || strings.Contains(body, "/_/trace/CVE-2024-1000\"") || !strings.Contains(body, "2 CVEs") {
		t.Errorf("filtered page: wrong rows\n%s", body)
	}
	if !strings.Contains(body, `value="6.1.80"`) || !strings.Contains(body, `<option value="no" selected>`) {
		t.Error("filtered page does not keep the form's values")
	}
	body = page("limit=2&offset=2")
	if !strings.Contains(body, `rel="prev"`) || strings.Contains(body, `rel="next"`) || !strings.Contains(body, "showing 3–4") {
		t.Error("paging links wrong on the last page")
	}
	if r := do(t, http.MethodGet, base+"/_/cves/?published="+url.QueryEscape("2024-03-05..2024-03-01"), ""); r.Status != http.StatusBadRequest {
		t.Errorf("bad range: status %d, want 400", r.Status)
	}
}
