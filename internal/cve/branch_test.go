package cve

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// strakCase is one answer of strak for a release, from
// testdata/strak/cases.tsv: is the release vulnerable to the CVE whose
// .dyad is testdata/strak/Dyad.dyad, and which commit does strak --fixed
// name for it ("" = the CVE is not listed).
type strakCase struct {
	Dyad    string
	Version string
	Open    bool
	FixedBy string
}

func readStrakCases(t *testing.T) ([]strakCase, map[string][]Backport) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "strak", "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []strakCase
	dyads := map[string][]Backport{}
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[2] != "open" && f[2] != "closed" {
			t.Fatalf("cases.tsv:%d: bad line %q", n+1, line)
		}
		c := strakCase{Dyad: f[0], Version: f[1], Open: f[2] == "open", FixedBy: strings.TrimPrefix(f[3], "-")}
		if _, ok := dyads[c.Dyad]; !ok {
			b, err := os.ReadFile(filepath.Join("testdata", "strak", c.Dyad+".dyad"))
			if err != nil {
				t.Fatal(err)
			}
			if dyads[c.Dyad], err = ParseDyad(b); err != nil {
				t.Fatal(err)
			}
		}
		cases = append(cases, c)
	}
	return cases, dyads
}

func TestStrakRules(t *testing.T) {
	cases, dyads := readStrakCases(t)
	branches := map[string]bool{}
	for _, c := range cases {
		bps := dyads[c.Dyad]
		v := MustVersion(c.Version)
		branches[v.Branch()] = true
		if got := Exposed(bps, v); got != c.Open {
			t.Errorf("Exposed(%s, %s) = %v, want %v", c.Dyad, c.Version, got, c.Open)
		}
		sha, ok := FixedIn(bps, c.Version)
		if ok != (c.FixedBy != "") || sha != c.FixedBy {
			t.Errorf("FixedIn(%s, %s) = %q, %v, want %q", c.Dyad, c.Version, sha, ok, c.FixedBy)
		}
	}
	if len(cases) < 20 || len(branches) < 5 {
		t.Errorf("%d cases over %d branches, want at least 20 over 5", len(cases), len(branches))
	}
}

func TestParseAbbrevSHAList(t *testing.T) {
	got, err := parseAbbrevSHAList([]byte("1E18EC3E9D46\n\n8a4bda8cb9e43e1fae96c4c4aa94069f49dc3a6"))
	if err != nil || len(got) != 2 || got[0] != "1e18ec3e9d46" {
		t.Errorf("parseAbbrevSHAList = %q, %v", got, err)
	}
	for _, bad := range []string{"abc", "xyz1234567", strings.Repeat("a", 41)} {
		if _, err := parseAbbrevSHAList([]byte(bad)); !errors.Is(err, ErrBadSHA) {
			t.Errorf("parseAbbrevSHAList(%q) = %v, want ErrBadSHA", bad, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in           string
		mainline, rc bool
		branch       string
	}{
		{"6.8", true, false, "6.8"},
		{"v6.6.20", false, false, "6.6"},
		{"6.8-rc3", true, true, "6.8"},
		{"6.5-rc", true, true, "6.5"},
		{"2.6.39", true, false, "2.6.39"},
		{"2.6.32.5", false, false, "2.6.32"},
		{"2.4.37", true, false, "2.4.37"},
		{"3.0", true, false, "3.0"},
		{"3.0.101", false, false, "3.0"},
	} {
		v, err := ParseVersion(tc.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tc.in, err)
			continue
		}
		if v.Mainline() != tc.mainline || v.RC() != tc.rc || v.Branch() != tc.branch {
			t.Errorf("ParseVersion(%q) = mainline %v rc %v branch %q, want %v %v %q", tc.in, v.Mainline(), v.RC(), v.Branch(), tc.mainline, tc.rc, tc.branch)
		}
	}
	for _, bad := range []string{"", "0", "6", "next", "6.x", "6.6.1.2", "6.6.1-rc1", "0.5", "6.8-rcx", "6..1", "6.+1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded, want an error", bad)
		}
	}
}

// TestCompare follows cve_utils' version_utils.rs tests.
func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"5.4", "5.4", 0}, {"5.4.1", "5.4.1", 0}, {"5.4-rc3", "5.4-rc3", 0},
		{"5.4", "5.4.1", -1}, {"5.4.1", "5.4.2", -1}, {"5.4-rc2", "5.4-rc3", -1},
		{"5.4.200", "5.4.1", 1}, {"6.1", "6.0.100", 1}, {"5.4.234", "5.3.600", 1},
		{"6.10.100", "3.2", 1}, {"6.8-rc1", "6.8", -1}, {"6.8", "6.8-rc7", 1},
		{"5.15.100", "6.1.1", -1}, {"2.6.39", "3.0", -1},
	} {
		if got := Compare(MustVersion(tc.a), MustVersion(tc.b)); got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBranches(t *testing.T) {
	_, dyads := readStrakCases(t)
	bps := dyads["backported-bug"]
	var got []string
	for _, s := range Branches(bps) {
		st := s.FixedVersion
		if s.Vulnerable {
			st = "vulnerable"
		}
		got = append(got, s.Branch+"="+st)
	}
	want := []string{"4.19=4.19.316", "5.4=5.4.269", "5.10=5.10.210", "5.15=5.15.149", "6.1=6.1.78", "6.6=6.6.17", "6.7=6.7.5", "mainline=6.8", "6.4=vulnerable"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Branches (-want +got):\n%s", d)
	}
}
