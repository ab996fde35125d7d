package exposure

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ulikunitz/xz"

	"patchtrail/internal/cve"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

// writeRecord writes a minimal vulns repository record.
func writeRecord(t *testing.T, root, id, title string, files []string, dyad string) {
	t.Helper()
	dir := filepath.Join(root, "cve", "published", id[4:8])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	js := fmt.Sprintf(`{"cveMetadata":{"cveId":%q},"containers":{"cna":{"title":%q,"affected":[{"programFiles":[%s]}]}}}`, id, title, strings.Join(quoted, ","))
	for ext, data := range map[string]string{"json": js, "dyad": dyad, "sha1": strings.Repeat("a", 40) + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, id+"."+ext), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func ids(es []*Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// TestStrakCases runs internal/cve's written-down strak cases through
// the store and List, as `cve list --open-in/--fixed-in` does.
func TestStrakCases(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "cve", "testdata", "strak")
	data, err := os.ReadFile(filepath.Join(dir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	idOf := map[string]string{}
	for i, name := range []string{"backported-bug", "since-the-beginning", "never-fixed"} {
		dyad, err := os.ReadFile(filepath.Join(dir, name+".dyad"))
		if err != nil {
			t.Fatal(err)
		}
		idOf[name] = fmt.Sprintf("CVE-2024-%d", 1000+i)
		writeRecord(t, root, idOf[name], "fix "+name, []string{"io_uring/rw.c"}, string(dyad))
	}
	st := openStore(t)
	dates := cve.Published{"CVE-2024-1000": time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)}
	if _, err := link.ImportCVEs(ctx, st, root, &link.CVEOptions{Published: dates}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		id := idOf[f[0]]
		open, err := List(ctx, st, &Filter{OpenIn: f[1]})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(ids(open), id); got != (f[2] == "open") {
			t.Errorf("cve list --open-in %s: %s listed %v, want %s", f[1], id, got, f[2])
		}
		fixed, err := List(ctx, st, &Filter{FixedIn: f[1]})
		if err != nil {
			t.Fatal(err)
		}
		var by string
		for _, e := range fixed {
			if e.ID == id {
				by = e.FixedBy
			}
		}
		if want := strings.TrimPrefix(f[3], "-"); by != want {
			t.Errorf("cve list --fixed-in %s: %s fixed by %q, want %q", f[1], id, by, want)
		}
		n++
	}
	if n < 20 {
		t.Errorf("%d cases, want at least 20", n)
	}

	// The other filters.
	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{Files: []string{"io_uring"}}, []string{"CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002"}},
		{Filter{Files: []string{"io_uring/*.c"}}, []string{"CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002"}},
		{Filter{Files: []string{"fs/*"}}, []string{}},
		{Filter{PublishedFrom: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)}, []string{"CVE-2024-1000"}},
		{Filter{PublishedTo: time.Date(2024, 3, 1, 23, 0, 0, 0, time.UTC)}, []string{}},
		{Filter{Traced: new(bool)}, []string{"CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002"}},
		{Filter{List: "io-uring"}, []string{}},
	} {
		got, err := List(ctx, st, &tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, ids(got)); d != "" {
			t.Errorf("List(%+v) (-want +got):\n%s", tc.f, d)
		}
	}
	for _, bad := range []Filter{{OpenIn: "next"}, {FixedIn: "6.x"}, {Files: []string{"["}}} {
		if _, err := List(ctx, st, &bad); !errors.Is(err, ErrBadFilter) {
			t.Errorf("List(%+v) = %v, want ErrBadFilter", bad, err)
		}
	}
}

func TestParsePublished(t *testing.T) {
	from, to, err := ParsePublished("2024-01-01..2024-06-30")
	if err != nil || !from.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || to.Format(time.RFC3339) != "2024-06-30T23:59:59Z" {
		t.Errorf("ParsePublished = %v, %v, %v", from, to, err)
	}
	if from, to, err := ParsePublished("2025-02-01.."); err != nil || from.IsZero() || !to.IsZero() {
		t.Errorf("ParsePublished(open end) = %v, %v, %v", from, to, err)
	}
	for _, bad := range []string{"2024-13-01..", "..yesterday", "2024-02-01..2024-01-01"} {
		if _, _, err := ParsePublished(bad); !errors.Is(err, ErrBadFilter) {
			t.Errorf("ParsePublished(%q) = %v, want ErrBadFilter", bad, err)
		}
	}
}

// dyadLineRE splits a kernel version independently of internal/cve.
var dyadVersionRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(-rc\d*)?$`)

// independentBranch names the line of a .dyad line: "mainline" when its
// fixed version is a mainline release, else the stable branch of the
// fixed (or, when unfixed, introduced) version.
func independentBranch(iv, fv string) string {
	v := fv
	if v == "" {
		v = iv
	}
	m := dyadVersionRE.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	mainlineParts := 2
	if m[1] == "2" && (m[2] == "6" || m[2] == "4") {
		mainlineParts = 3
	}
	parts := 2
	for _, p := range m[3:5] {
		if p != "" {
			parts++
		}
	}
	if fv != "" && (parts == mainlineParts || m[5] != "") {
		return "mainline"
	}
	return strings.Join(m[1:1+mainlineParts], ".")
}

// importVulnsFull unpacks vulns-full.tar.xz (skipping tb when it is
// absent) and imports it into a new store; it returns the store, each
// CVE's .dyad text and the ids that have a .json.
func importVulnsFull(tb testing.TB) (*store.Store, map[string]string, map[string]bool) {
	tb.Helper()
	tarball := filepath.Join("..", "..", "..", "shared", "corpus", "vulns-full.tar.xz")
	f, err := os.Open(tarball)
	if err != nil {
		tb.Skipf("no %s (the shared corpus): %v", tarball, err)
	}
	defer f.Close()
	if testing.Short() {
		tb.Skip("imports 14,000+ records; skipped with -short")
	}
	ctx := context.Background()
	start := time.Now()
	root := tb.TempDir()
	var xr io.Reader
	if xzBin, err := exec.LookPath("xz"); err == nil {
		// The xz program is many times faster than the Go decoder.
		cmd := exec.Command(xzBin, "-dc")
		cmd.Stdin = f
		out, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		defer cmd.Wait()
		defer out.Close()
		xr = out
	} else if xr, err = xz.NewReader(f); err != nil {
		tb.Fatal(err)
	}
	tr := tar.NewReader(xr)
	dyads := map[string]string{}
	hasJSON := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		name := filepath.Clean(h.Name)
		base := filepath.Base(name)
		id, ext, _ := strings.Cut(base, ".")
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(id, "CVE-") || ext == "mbox" || ext == "message" {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		switch ext {
		case "dyad":
			dyads[id] = string(b)
		case "json":
			hasJSON[id] = true
		}
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Logf("unpacked in %v", time.Since(start))
	st, err := store.Open(ctx, tb.TempDir(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	res, err := link.ImportCVEs(ctx, st, root, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if res.Added != len(hasJSON) {
		tb.Errorf("imported %d records, the tarball has %d with a .json; malformed: %q", res.Added, len(hasJSON), res.Malformed)
	}
	tb.Logf("imported in %v", time.Since(start))
	return st, dyads, hasJSON
}

// TestAllRecords imports every record of vulns-full and checks that the
// per-branch answer of every CVE equals a reading of its .dyad file done
// here, and that `--fixed-in` lists every CVE under every version its
// .dyad names as fixed.
func TestAllRecords(t *testing.T) {
	ctx := context.Background()
	st, dyads, hasJSON := importVulnsFull(t)
	all, err := List(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(hasJSON) {
		t.Errorf("cve list lists %d CVEs, want %d", len(all), len(hasJSON))
	}
	fixedIn := map[string][]string{} // version -> CVEs its dyad lines name
	bad := 0
	for _, e := range all {
		var want []string
		for _, line := range strings.Split(dyads[e.ID], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, ":")
			for i := range f {
				if f[i] == "0" {
					f[i] = ""
				}
			}
			want = append(want, fmt.Sprintf("%s %s:%s -> %s:%s open=%v", independentBranch(f[0], f[2]), f[0], f[1], f[2], f[3], f[2] == ""))
			if f[2] != "" {
				fixedIn[f[2]] = append(fixedIn[f[2]], e.ID)
			}
		}
		var got []string
		for _, b := range e.Branches {
			got = append(got, fmt.Sprintf("%s %s:%s -> %s:%s open=%v", b.Branch, b.IntroducedVersion, b.IntroducedSHA, b.FixedVersion, b.FixedSHA, b.Vulnerable))
		}
		if d := cmp.Diff(want, got); d != "" {
			if bad++; bad <= 10 {
				t.Errorf("%s: branches (-dyad +cve list):\n%s", e.ID, d)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d CVEs disagree with their .dyad", bad, len(all))
	}
	// --fixed-in over a sample of versions (every 200th named one).
	var versions []string
	for v := range fixedIn {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for i := 0; i < len(versions); i += 200 {
		v := versions[i]
		got, err := List(ctx, st, &Filter{FixedIn: v})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Compact(slices.Sorted(slices.Values(fixedIn[v])))
		if d := cmp.Diff(want, ids(got)); d != "" {
			t.Errorf("cve list --fixed-in %s (-dyad +cve list):\n%s", v, d)
		}
	}
	t.Logf("%d CVEs, %d with .dyad lines, %d fixed-in versions", len(all), len(dyads), len(versions))
}

// BenchmarkOpenIn is `cve list --open-in 6.6.20` over every record of
// vulns-full, without printing.
func BenchmarkOpenIn(b *testing.B) {
	st, _, _ := importVulnsFull(b)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		list, err := List(ctx, st, &Filter{OpenIn: "6.6.20"})
		if err != nil {
			b.Fatal(err)
		}
		n = len(list)
	}
	b.ReportMetric(float64(n), "cves")
}

func TestSort(t *testing.T) {
	day := func(d int) *time.Time { x := time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC); return &x }
	entries := func() []*Entry {
		return []*Entry{
			{ID: "CVE-2024-10000", Severity: "LOW", CVSS: 3.1, Published: day(5), Title: "b"},
			{ID: "CVE-2024-9999", Severity: "HIGH", CVSS: 7.8, Published: day(2), Title: "c"},
			{ID: "CVE-2023-52654", Title: "a"},
			{ID: "CVE-2024-1000", Severity: "CRITICAL", CVSS: 9.8, Published: day(9), Title: "a"},
		}
	}
	tests := []struct {
		key  string
		want []string
	}{
		{"", []string{"CVE-2023-52654", "CVE-2024-1000", "CVE-2024-9999", "CVE-2024-10000"}},
		{"-id", []string{"CVE-2024-10000", "CVE-2024-9999", "CVE-2024-1000", "CVE-2023-52654"}},
		{"published", []string{"CVE-2023-52654", "CVE-2024-9999", "CVE-2024-10000", "CVE-2024-1000"}},
		{"-published", []string{"CVE-2024-1000", "CVE-2024-10000", "CVE-2024-9999", "CVE-2023-52654"}},
		{"-severity", []string{"CVE-2024-1000", "CVE-2024-9999", "CVE-2024-10000", "CVE-2023-52654"}},
		{"cvss", []string{"CVE-2023-52654", "CVE-2024-10000", "CVE-2024-9999", "CVE-2024-1000"}},
		{"title", []string{"CVE-2023-52654", "CVE-2024-1000", "CVE-2024-10000", "CVE-2024-9999"}},
	}
	for _, tc := range tests {
		e := entries()
		if err := Sort(e, tc.key); err != nil {
			t.Fatalf("Sort(%q): %v", tc.key, err)
		}
		var got []string
		for _, x := range e {
			got = append(got, x.ID)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("Sort(%q) (-want +got):\n%s", tc.key, d)
		}
	}
	if err := Sort(entries(), "color"); !errors.Is(err, ErrBadFilter) {
		t.Errorf("Sort(color) = %v, want ErrBadFilter", err)
	}
}
