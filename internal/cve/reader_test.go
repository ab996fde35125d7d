package cve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	shaFix   = "e622502c310f1069fd9f41cd38210553115f610a"
	shaIntro = "bb7403655b3c3eb245d0ee330047cd3e20b3c4af"
	shaBack  = "d2f1b7fe74afd66298dbb3c7b39e7b62e4df1724"
)

// recordJSON is a small CVE JSON 5 record in the vulns repository's shape.
func recordJSON(id, title string, files []string, metrics string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	pf := strings.Join(quoted, ", ")
	return fmt.Sprintf(`{
  "containers": {"cna": {
    "descriptions": [{"lang": "en", "value": "In the Linux kernel, the following vulnerability has been resolved:\n\n%s\n\nbody"}],
    %s
    "affected": [
      {"product": "Linux", "programFiles": [%s], "versions": [
        {"version": "%s", "lessThan": "%s", "status": "affected", "versionType": "git"}]},
      {"product": "Linux", "programFiles": [%s], "versions": [
        {"version": "6.8", "status": "affected"},
        {"version": "6.1.77", "lessThanOrEqual": "6.1.*", "status": "unaffected", "versionType": "semver"}]}
    ],
    "references": [{"url": "https://git.kernel.org/stable/c/%s"}, {"url": "https://git.kernel.org/stable/c/%s"}],
    "title": %q
  }},
  "cveMetadata": {"cveId": %q, "state": "PUBLISHED", "datePublished": "2024-03-06T06:45:38.012Z"},
  "dataType": "CVE_RECORD", "dataVersion": "5.1.1"
}`, title, metrics, pf, shaIntro, shaFix, pf, shaBack, shaFix, title, id)
}

// writeRecord writes the files of one record under root/cve/state/year.
func writeRecord(t *testing.T, root, state, id string, files map[string]string) {
	t.Helper()
	year, _, ok := parseID(id)
	if !ok {
		t.Fatalf("bad id %q", id)
	}
	dir := filepath.Join(root, "cve", state, fmt.Sprint(year))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for ext, content := range files {
		if err := os.WriteFile(filepath.Join(dir, id+"."+ext), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var dyadOK = "# dyad version: 1.2.0\n# \tgetting vulnerable:fixed pairs for git id " + shaFix + "\n" +
	"6.1.75:" + shaIntro + ":6.1.77:" + shaBack + "\n" +
	"0:0:6.8:" + shaFix + "\n" +
	"5.2.19:" + strings.ToUpper(shaIntro) + ":0:0\n"

// goodRecord is the files of a well-formed record.
func goodRecord(id, title string) map[string]string {
	return map[string]string{
		"json":       recordJSON(id, title, []string{"io_uring/rw.c", "include/linux/io_uring_types.h"}, ""),
		"sha1":       shaFix, // no final newline, as in the real repository
		"vulnerable": shaIntro + "\n",
		"dyad":       dyadOK,
		"mbox":       "From bippy-1.2.0 Mon Sep 17 00:00:00 2001\nSubject: " + id + ": " + title + "\n\nbody\n",
		"cvss":       "f4215fc3-5b6b-47ff-a258-f7189bd81038 CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H\n\nAV:L - rationale\n",
		"reference":  "https://project-zero.issues.chromium.org/issues/1\n",
	}
}

type readResult struct {
	ids    []string
	errs   []*RecordError
	reader *Reader
	recs   map[string]*Record
}

func readAll(t *testing.T, root string, opts *Options) readResult {
	t.Helper()
	var res readResult
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.OnError = func(e *RecordError) { res.errs = append(res.errs, e) }
	r, err := Open(context.Background(), root, &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	res.reader = r
	res.recs = make(map[string]*Record)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		res.ids = append(res.ids, rec.ID)
		res.recs[rec.ID] = rec
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after EOF = %v, want io.EOF", err)
	}
	return res
}

func TestReadRecord(t *testing.T) {
	root := t.TempDir()
	writeRecord(t, root, "published", "CVE-2024-26626", goodRecord("CVE-2024-26626", "io_uring/rw: fix a thing"))
	res := readAll(t, root, nil)
	if len(res.errs) != 0 {
		t.Fatalf("errors: %v", res.errs)
	}
	got := res.recs["CVE-2024-26626"]
	if got == nil {
		t.Fatalf("record not read; ids %v", res.ids)
	}
	want := &Record{
		ID: "CVE-2024-26626", Year: 2024, Number: 26626, State: "published",
		FixSHAs:        []string{shaFix},
		IntroducedSHAs: []string{shaIntro},
		Backports: []Backport{
			{"6.1.75", shaIntro, "6.1.77", shaBack},
			{"", "", "6.8", shaFix},
			{"5.2.19", shaIntro, "", ""},
		},
		Title:       "io_uring/rw: fix a thing",
		Description: "In the Linux kernel, the following vulnerability has been resolved:\n\nio_uring/rw: fix a thing\n\nbody",
		Files:       []string{"io_uring/rw.c", "include/linux/io_uring_types.h"},
		Severity:    "HIGH", CVSS: 7.8, CVSSVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		Published: time.Date(2024, 3, 6, 6, 45, 38, 12e6, time.UTC),
		References: []string{
			"https://git.kernel.org/stable/c/" + shaBack,
			"https://git.kernel.org/stable/c/" + shaFix,
			"https://project-zero.issues.chromium.org/issues/1",
		},
		Affected: []VersionRange{
			{Type: "git", Status: "affected", Version: shaIntro, LessThan: shaFix},
			{Status: "affected", Version: "6.8"},
			{Type: "semver", Status: "unaffected", Version: "6.1.77", LessThanOrEqual: "6.1.*"},
		},
		Path: filepath.Join(root, "cve", "published", "2024", "CVE-2024-26626"),
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Fingerprint" }, cmp.Ignore())); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if len(got.Fingerprint) != 64 {
		t.Errorf("Fingerprint = %q, want 64 hex digits", got.Fingerprint)
	}
	if !got.Touches("io_uring/") || got.Touches("fs/io_uring.c", "net/") {
		t.Errorf("Touches gave wrong answers for %v", got.Files)
	}

	loaded, err := Load(context.Background(), got.Path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(got, loaded); diff != "" {
		t.Errorf("Load differs from Reader (-reader +load):\n%s", diff)
	}
}

func TestJSONMetricsWin(t *testing.T) {
	root := t.TempDir()
	files := goodRecord("CVE-2025-1", "x: y")
	files["json"] = recordJSON("CVE-2025-1", "x: y", []string{"a.c"},
		`"metrics": [{"cvssV3_1": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "baseScore": 7.5, "baseSeverity": "HIGH"}}],`)
	writeRecord(t, root, "published", "CVE-2025-1", files)
	rec := readAll(t, root, nil).recs["CVE-2025-1"]
	if rec == nil || rec.CVSS != 7.5 || rec.CVSSVector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" {
		t.Fatalf("record %+v: want the JSON metric (7.5)", rec)
	}
	writeRecord(t, root, "published", "CVE-2025-2", map[string]string{"json": recordJSON("CVE-2025-2", "x", nil, "")})
	rec = readAll(t, root, nil).recs["CVE-2025-2"]
	if rec == nil || rec.CVSS != 0 || rec.Severity != "" || rec.Files != nil {
		t.Fatalf("unscored record %+v: want no score, no files", rec)
	}
}

func TestMalformedRecordsAreSkipped(t *testing.T) {
	root := t.TempDir()
	good := func(id string) map[string]string { return goodRecord(id, "good "+id) }
	writeRecord(t, root, "published", "CVE-2021-47083", good("CVE-2021-47083"))
	writeRecord(t, root, "published", "CVE-2024-9", good("CVE-2024-9"))
	writeRecord(t, root, "published", "CVE-2024-10", good("CVE-2024-10"))
	writeRecord(t, root, "published", "CVE-2024-100", good("CVE-2024-100"))

	badJSON := good("CVE-2024-11")
	badJSON["json"] = "{\n  \"containers\": {\n    \"cna\": [}\n}\n"
	writeRecord(t, root, "published", "CVE-2024-11", badJSON)

	badDyad := good("CVE-2024-12")
	badDyad["dyad"] = "# comment\n6.1:" + shaIntro + ":6.2:" + shaFix + "\n6.1:not-a-sha:6.2:" + shaFix + "\n"
	writeRecord(t, root, "published", "CVE-2024-12", badDyad)

	noJSON := good("CVE-2024-13")
	delete(noJSON, "json")
	writeRecord(t, root, "published", "CVE-2024-13", noJSON)

	badSHA := good("CVE-2024-14")
	badSHA["sha1"] = shaFix + "\nxyz\n"
	writeRecord(t, root, "published", "CVE-2024-14", badSHA)

	wrongID := good("CVE-2024-15")
	wrongID["json"] = recordJSON("CVE-2024-16", "x", nil, "")
	writeRecord(t, root, "published", "CVE-2024-15", wrongID)

	badCVSS := good("CVE-2024-17")
	badCVSS["cvss"] = "uuid CVSS:3.1/AV:Q\n"
	writeRecord(t, root, "published", "CVE-2024-17", badCVSS)

	writeRecord(t, root, "rejected", "CVE-2024-5", good("CVE-2024-5"))
	// Clutter the reader must ignore.
	for _, p := range []string{"cve/published/README", "cve/published/2024/notes.txt", "cve/published/2024/CVE-2024-18"} {
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "cve", "published", "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}

	res := readAll(t, root, nil)
	if diff := cmp.Diff([]string{"CVE-2021-47083", "CVE-2024-9", "CVE-2024-10", "CVE-2024-100"}, res.ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	type errSummary struct {
		File string
		Line int
		Err  error
	}
	var got []errSummary
	for _, e := range res.errs {
		rel, _ := filepath.Rel(root, e.Path)
		got = append(got, errSummary{rel, e.Line, e.Err})
	}
	p := func(name string) string { return filepath.Join("cve", "published", "2024", name) }
	want := []errSummary{
		{p("CVE-2024-11.json"), 3, ErrBadJSON},
		{p("CVE-2024-12.dyad"), 3, ErrBadDyad},
		{p("CVE-2024-13.json"), 0, ErrMissingJSON},
		{p("CVE-2024-14.sha1"), 2, ErrBadSHA},
		{p("CVE-2024-15.json"), 0, ErrIDMismatch},
		{p("CVE-2024-17.cvss"), 1, ErrBadCVSS},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) || errors.Is(b, a) })); diff != "" {
		t.Errorf("record errors (-want +got):\n%s", diff)
	}
	if res.reader.Malformed() != len(want) {
		t.Errorf("Malformed() = %d, want %d", res.reader.Malformed(), len(want))
	}

	both := readAll(t, root, &Options{States: []string{"published", "rejected"}})
	if last := both.ids[len(both.ids)-1]; last != "CVE-2024-5" || both.recs[last].State != "rejected" {
		t.Errorf("with rejected: ids %v, want CVE-2024-5 (rejected) last", both.ids)
	}
}

func TestUnchangedSkipsByFingerprint(t *testing.T) {
	root := t.TempDir()
	writeRecord(t, root, "published", "CVE-2024-1", goodRecord("CVE-2024-1", "one"))
	writeRecord(t, root, "published", "CVE-2024-2", goodRecord("CVE-2024-2", "two"))
	first := readAll(t, root, nil)
	known := make(map[string]string)
	for id, r := range first.recs {
		known[id] = r.Fingerprint
	}
	if known["CVE-2024-1"] == known["CVE-2024-2"] {
		t.Fatal("different records share a fingerprint")
	}
	unchanged := func(id, fp string) bool { return known[id] == fp }

	if res := readAll(t, root, &Options{Unchanged: unchanged}); len(res.ids) != 0 || res.reader.Skipped() != 2 {
		t.Fatalf("unchanged tree: read %v, skipped %d; want none read, 2 skipped", res.ids, res.reader.Skipped())
	}
	// Any file changing changes the fingerprint, even one that is not parsed.
	files := goodRecord("CVE-2024-2", "two")
	files["mbox"] += "edited\n"
	writeRecord(t, root, "published", "CVE-2024-2", files)
	res := readAll(t, root, &Options{Unchanged: unchanged})
	if diff := cmp.Diff([]string{"CVE-2024-2"}, res.ids); diff != "" {
		t.Errorf("after editing the mbox (-want +got):\n%s", diff)
	}
	// A new file too.
	writeRecord(t, root, "published", "CVE-2024-1", map[string]string{"message": "override\n"})
	res = readAll(t, root, &Options{Unchanged: unchanged})
	if diff := cmp.Diff([]string{"CVE-2024-1", "CVE-2024-2"}, res.ids); diff != "" {
		t.Errorf("after adding a .message (-want +got):\n%s", diff)
	}
}

func TestOpenErrorsAndCancel(t *testing.T) {
	if _, err := Open(context.Background(), t.TempDir(), nil); !errors.Is(err, ErrNoRecords) {
		t.Errorf("Open(empty dir) = %v, want ErrNoRecords", err)
	}
	if _, err := Open(context.Background(), t.TempDir(), &Options{States: []string{"../x"}}); err == nil {
		t.Error("Open with state ../x: no error")
	}

	root := t.TempDir()
	writeRecord(t, root, "published", "CVE-2024-1", goodRecord("CVE-2024-1", "one"))
	writeRecord(t, root, "published", "CVE-2024-2", goodRecord("CVE-2024-2", "two"))
	// The cve/ directory itself is accepted as root.
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Open(ctx, filepath.Join(root, "cve"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %v, want context.Canceled", err)
	}
	for range 2 {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
