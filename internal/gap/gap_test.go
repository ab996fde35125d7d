package gap

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/cve"
	"patchtrail/internal/exposure"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ q, want float64 }{{0, 1}, {0.5, 5.5}, {0.9, 9.1}, {1, 10}} {
		if got := Quantile(xs, tc.q); got != tc.want {
			t.Errorf("Quantile(1..10, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil) = %v", got)
	}
}

func TestSubsystem(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{"io_uring/rw.c"}, "io_uring"},
		{[]string{"fs/io_uring.c", "include/linux/io_uring.h", "fs/io-wq.c"}, "fs"},
		{[]string{"include/x.h", "io_uring/a.c"}, "include"},
		{nil, ""},
	} {
		if got := Subsystem(tc.files); got != tc.want {
			t.Errorf("Subsystem(%q) = %q, want %q", tc.files, got, tc.want)
		}
	}
}

func TestStats(t *testing.T) {
	var cs []*CVE
	for i, d := range []float64{10, 20, 30, 100, 400} {
		cs = append(cs, &CVE{ID: string(rune('a' + i)), Days: ptr(d), PublicBefore: d > 0})
	}
	got := stats("g", cs)
	want := Stats{Group: "g", CVEs: 5, PublicBefore: 5, Share: 1, Over90: 0.4, MeanDays: 112, MedianDays: 30, P90Days: 280}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
}

func TestHistogramCumulative(t *testing.T) {
	var cs []*CVE
	for _, d := range []float64{0, 6.9, 7, 29, 30, 400, 2000, -1} {
		cs = append(cs, &CVE{Days: ptr(d)})
	}
	var got []int
	for _, b := range histogram(cs) {
		got = append(got, b.Count)
	}
	if d := cmp.Diff([]int{3, 1, 1, 1, 0, 0, 0, 1, 0, 1}, got); d != "" {
		t.Errorf("histogram (-want +got):\n%s", d)
	}
	c := cumulative("2024", []float64{30, 10, 10, 90})
	want := Curve{Group: "2024", Points: []Point{{10, 0.5}, {30, 0.75}, {90, 1}}}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("cumulative (-want +got):\n%s", d)
	}
}

// TestMeasure measures the gap of a CVE whose fix is in the sample
// archive (testdata/sample): posted 2024-02-05 23:00 UTC, applied
// 2024-02-06 19:00 UTC (a week before the kernel became a CNA), CVE
// published 30 days after the posting.
func TestMeasure(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := indexer.Import(ctx, st, filepath.Join("..", "..", "testdata", "sample", "sample.mbox"), &indexer.Options{List: "io-uring", Workers: 2}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "cve", "published", "2024")
	os.MkdirAll(dir, 0o755)
	files := map[string]string{
		"CVE-2024-1000.json": `{"cveMetadata":{"cveId":"CVE-2024-1000"},"containers":{"cna":{"title":"io_uring: fix use-after-free in io_rw_done()","affected":[{"programFiles":["io_uring/rw.c"]}],"metrics":[{"cvssV3_1":{"baseScore":7.8,"baseSeverity":"HIGH","vectorString":"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}}]}}}`,
		"CVE-2024-1000.sha1": "1111111111111111111111111111111111111111\n",
		"CVE-2024-1000.dyad": "6.1:2222222222222222222222222222222222222222:6.1.80:3333333333333333333333333333333333333333\n6.1:2222222222222222222222222222222222222222:6.8:1111111111111111111111111111111111111111\n",
		// A CVE without a posting in the archive.
		"CVE-2024-1001.json": `{"cveMetadata":{"cveId":"CVE-2024-1001"},"containers":{"cna":{"title":"net: fix something else","affected":[{"programFiles":["net/core/dev.c"]}]}}}`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pub := time.Date(2024, 3, 6, 23, 0, 0, 0, time.UTC)
	if _, err := link.ImportCVEs(ctx, st, root, &link.CVEOptions{Published: cve.Published{"CVE-2024-1000": pub, "CVE-2024-1001": pub}}); err != nil {
		t.Fatal(err)
	}
	rep, err := Measure(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.CVEs) != 1 {
		t.Fatalf("Measure: %d CVEs, want the one with a posting", len(rep.CVEs))
	}
	c := rep.CVEs[0]
	if c.ID != "CVE-2024-1000" || c.Days == nil || *c.Days != 30 || !c.PublicBefore || c.Era != "before-cna" || c.Severity != "high" || c.Subsystem != "io_uring" || c.Year != 2024 {
		t.Errorf("Measure = %+v", c)
	}
	var events []string
	for _, s := range c.Steps {
		d := "?"
		if s.Date != nil {
			d = s.Date.UTC().Format("2006-01-02T15")
		}
		events = append(events, s.Event+" "+s.Version+" "+d)
	}
	want := []string{"first_posted  2024-02-05T23", "last_version_posted  2024-02-05T23", "applied  2024-02-06T19", "cve_published  2024-03-06T23", "mainline_fix 6.8 ?", "backport 6.1.80 ?"}
	if d := cmp.Diff(want, events); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	if rep.Overall.CVEs != 1 || rep.Overall.MedianDays != 30 || len(rep.ByList) != 1 || rep.ByList[0].Group != "io-uring" {
		t.Errorf("aggregates: %+v by list %+v", rep.Overall, rep.ByList)
	}
	// A filter that excludes it.
	rep, err = Measure(ctx, st, &exposure.Filter{Files: []string{"net"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.CVEs) != 0 {
		t.Errorf("Measure(--file net) = %d CVEs, want 0", len(rep.CVEs))
	}
}
