package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCVECommands runs cve import with a dates file, cve list with its
// filters and outputs, gap and problems end to end on the sample archive.
func TestCVECommands(t *testing.T) {
	root := repoRoot(t)
	data := t.TempDir()
	pt(t, data, "import", "--no-index", filepath.Join(root, "testdata/sample/sample.mbox"))

	vulns := t.TempDir()
	dir := filepath.Join(vulns, "cve", "published", "2024")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sha := func(c string) string { return strings.Repeat(c, 40) }
	files := map[string]string{
		"CVE-2024-1000.json": `{"cveMetadata":{"cveId":"CVE-2024-1000"},"containers":{"cna":{"title":"io_uring: fix use-after-free in io_rw_done()","affected":[{"programFiles":["io_uring/rw.c"]}]}}}`,
		"CVE-2024-1000.sha1": sha("a") + "\n",
		"CVE-2024-1000.dyad": "6.1:" + sha("b") + ":6.1.80:" + sha("c") + "\n6.1:" + sha("b") + ":6.8:" + sha("a") + "\n",
		"CVE-2024-1001.json": `{"cveMetadata":{"cveId":"CVE-2024-1001"},"containers":{"cna":{"title":"net: fix a leak","affected":[{"programFiles":["net/core/dev.c"]}]}}}`,
		"CVE-2024-1001.dyad": "0:0:0:0\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dates := filepath.Join(t.TempDir(), "dates.tsv")
	os.WriteFile(dates, []byte("# cve\tfirst_published\nCVE-2024-1000\t2024-03-06T23:00:00Z\nCVE-2024-1001\t2024-04-01T00:00:00Z\n"), 0o644)
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	os.WriteFile(bad, []byte("CVE-2024-1000\t2024-03-06T23:00:00Z\nCVE-2024-1001 April\n"), 0o644)

	if _, stderr, err := ptErr(data, "cve", "import", "--published-dates", bad, vulns); err == nil || !strings.Contains(stderr, "bad.tsv:2") {
		t.Errorf("cve import with a bad dates file: %v, %q; want an error naming bad.tsv:2", err, stderr)
	}
	if out := pt(t, data, "cve", "import", "--published-dates", dates, vulns); !strings.Contains(out, "2 added") || !strings.Contains(out, "2 of the imported records dated") {
		t.Errorf("cve import = %q", out)
	}
	if out := pt(t, data, "cve", "import", "--published-dates", dates, vulns); !strings.Contains(out, "2 unchanged") {
		t.Errorf("cve import again = %q", out)
	}

	list := func(args ...string) []string {
		t.Helper()
		var got []struct {
			ID      string `json:"id"`
			FixedBy string `json:"fixed_by"`
			Posting *struct {
				MessageID string `json:"message_id"`
			} `json:"posting"`
		}
		out := pt(t, data, append([]string{"cve", "list", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("cve list %v: %v\n%s", args, err, out)
		}
		ids := []string{}
		for _, c := range got {
			s := c.ID
			if c.FixedBy != "" {
				s += " " + c.FixedBy[:4]
			}
			if c.Posting != nil {
				s += " <" + c.Posting.MessageID + ">"
			}
			ids = append(ids, s)
		}
		return ids
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "CVE-2024-1000 CVE-2024-1001"},
		{[]string{"--open-in", "6.1.79"}, "CVE-2024-1000 CVE-2024-1001"},
		{[]string{"--open-in", "v6.1.80"}, "CVE-2024-1001"},
		{[]string{"--open-in", "6.8"}, "CVE-2024-1001"},
		{[]string{"--open-in", "6.0"}, "CVE-2024-1001"},
		{[]string{"--fixed-in", "6.1.80"}, "CVE-2024-1000 cccc"},
		{[]string{"--file", "io_uring"}, "CVE-2024-1000"},
		{[]string{"--published", "2024-04-01.."}, "CVE-2024-1001"},
		{[]string{"--traced"}, "CVE-2024-1000 <20240205230000.310306-1-dave@example.org>"},
		{[]string{"--untraced"}, "CVE-2024-1001"},
		{[]string{"--list", "io-uring"}, "CVE-2024-1000 <20240205230000.310306-1-dave@example.org>"},
		{[]string{"--list", "netdev"}, ""},
	} {
		if got := strings.Join(list(tc.args...), " "); got != tc.want {
			t.Errorf("cve list %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(pt(t, data, "cve", "list", "--csv", "--file", "io_uring"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "CVE-2024-1000" || rows[1][8] != "6.1:6.1.80 mainline:6.8" {
		t.Errorf("cve list --csv = %q, %v", rows, err)
	}
	for _, args := range [][]string{{"--open-in", "next"}, {"--published", "yesterday"}, {"--traced", "--untraced"}, {"--json", "--csv"}} {
		if _, _, err := ptErr(data, append([]string{"cve", "list"}, args...)...); err == nil {
			t.Errorf("cve list %v succeeded, want an error", args)
		}
	}

	var rep struct {
		CVEs []struct {
			ID   string   `json:"id"`
			Days *float64 `json:"days"`
		} `json:"cves"`
		Overall struct {
			CVEs       int     `json:"cves"`
			MedianDays float64 `json:"median_days"`
		} `json:"overall"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "gap", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.CVEs) != 1 || rep.CVEs[0].ID != "CVE-2024-1000" || rep.CVEs[0].Days == nil || *rep.CVEs[0].Days != 30 || rep.Overall.MedianDays != 30 {
		t.Errorf("gap --json = %+v", rep)
	}
	if out := pt(t, data, "gap"); !strings.Contains(out, "CVE-2024-1000") || !strings.Contains(out, "list io-uring") {
		t.Errorf("gap = %q", out)
	}

	// trace --all --json: one trace a line, every CVE in id order, each
	// the same as the CVE's own trace --json.
	lines := strings.Split(strings.TrimSuffix(pt(t, data, "trace", "--all", "--json"), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("trace --all --json: %d lines, want 2", len(lines))
	}
	for i, id := range []string{"CVE-2024-1000", "CVE-2024-1001"} {
		var tr struct {
			CVE *struct {
				ID string `json:"id"`
			} `json:"cve"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &tr); err != nil || tr.CVE == nil || tr.CVE.ID != id {
			t.Errorf("trace --all line %d: %v, %.200s; want the trace of %s", i+1, err, lines[i], id)
		}
		var one, all any
		json.Unmarshal([]byte(pt(t, data, "trace", "--json", id)), &one)
		json.Unmarshal([]byte(lines[i]), &all)
		if !reflect.DeepEqual(one, all) {
			t.Errorf("trace --all line %d differs from trace --json %s", i+1, id)
		}
	}
	for _, args := range [][]string{{"--all"}, {"--all", "--json", "CVE-2024-1000"}} {
		if _, _, err := ptErr(data, append([]string{"trace"}, args...)...); err == nil {
			t.Errorf("trace %v succeeded, want a usage error", args)
		}
	}

	bogus := filepath.Join(root, "testdata/malformed/bogus-dates.mbox")
	pt(t, data, "import", "--no-index", bogus)
	var probs []struct {
		Source    string `json:"source"`
		MessageID string `json:"message_id"`
		Problem   string `json:"problem"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "problems", "--json")), &probs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range probs {
		if p.Source == "" || p.Problem == "" {
			t.Errorf("problem without source or text: %+v", p)
		}
		if p.Source == bogus && p.MessageID == "bogus-date-b@example.org" && strings.Contains(p.Problem, `"yesterday"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("problems --json = %+v, want the bad Date of <bogus-date-b@example.org> in %s", probs, bogus)
	}
	if out := pt(t, data, "problems"); !strings.Contains(out, bogus+" <bogus-date-b@example.org>") {
		t.Errorf("problems = %q", out)
	}
}
