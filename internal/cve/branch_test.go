package cve

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// strakDyads are .dyad files the cases below are written against: a real
// one (CVE-2024-26581, a bug also backported into stable branches before
// it was fixed), one whose origin is unknown ("0:0") and one never fixed.
var strakDyads = map[string]string{
	"backported-bug": `# dyad version: 86b352798e93
4.19.316:8284a79136c384059e85e278da2210b809730287:4.19.316:c60d252949caf9aba537525195edae6bbabc35eb
5.4.262:acaee227cf79c45a5d2d49c3e9a66333a462802c:5.4.269:10e9cb39313627f2eae4cd70c4b742074e998fd8
5.10.190:893cb3c3513cf661a0ff45fe0cfa83fe27131f76:5.10.210:4cee42fcf54fec46b344681e7cc4f234bb22f85a
5.15.124:50cbb9d195c197af671869c8cadce3bd483735a0:5.15.149:2bab493a5624444ec6e648ad0d55a362bcb4c003
6.1.43:89a4d1a89751a0fbd520e64091873e19cc0979e8:6.1.78:1296c110c5a0b45a8fcf58e7d18bc5da61a565cb
6.5:f718863aca469a109895cb855e6b81fff4827d71:6.6.17:b734f7a47aeb32a5ba298e4ccc16bb0c52b6dbf7
6.5:f718863aca469a109895cb855e6b81fff4827d71:6.7.5:6eb14441f10602fa1cf691da9d685718b68b78a9
6.5:f718863aca469a109895cb855e6b81fff4827d71:6.8:60c0c230c6f046da536d3df8b39a20b9a9fd6af0
6.4.8:cd66733932399475fe933cb3ec03e687ed401462:0:0
`,
	"since-the-beginning": `0:0:5.15.150:1111111111111111111111111111111111111111
0:0:6.1.80:2222222222222222222222222222222222222222
0:0:6.8-rc4:3333333333333333333333333333333333333333
`,
	"never-fixed": `5.10:4444444444444444444444444444444444444444:0:0
`,
}

// strakCase is one answer of strak for a release: is it vulnerable to
// the CVE whose .dyad is Dyad (strak SHA), and which commit fixes it
// there when the release is named by strak --fixed.
type strakCase struct {
	Dyad    string
	Version string
	Open    bool   // strak vX.Y.Z lists the CVE
	FixedBy string // strak --fixed X.Y.Z names this commit ("" = not listed)
}

// strakCases are written down from strak's rule (tools/strak/src/main.rs:
// vulnerable = contains the introducing commit of some line and the
// fixing commit of none; --fixed = a line's fixed version string equals
// the argument) and the kernel's branching model (doc/cve.md).
var strakCases = []strakCase{
	// 4.19: the bug came in and was fixed by the same release.
	{"backported-bug", "4.19.315", false, ""},
	{"backported-bug", "4.19.316", false, "c60d252949caf9aba537525195edae6bbabc35eb"},
	// 5.4
	{"backported-bug", "5.4.261", false, ""},
	{"backported-bug", "5.4.262", true, ""},
	{"backported-bug", "5.4.268", true, ""},
	{"backported-bug", "5.4.269", false, "10e9cb39313627f2eae4cd70c4b742074e998fd8"},
	// 5.10
	{"backported-bug", "5.10.189", false, ""},
	{"backported-bug", "5.10.190", true, ""},
	{"backported-bug", "5.10.209", true, ""},
	{"backported-bug", "5.10.210", false, "4cee42fcf54fec46b344681e7cc4f234bb22f85a"},
	// 5.15
	{"backported-bug", "5.15.124", true, ""},
	{"backported-bug", "5.15.149", false, "2bab493a5624444ec6e648ad0d55a362bcb4c003"},
	// 6.1
	{"backported-bug", "6.1.42", false, ""},
	{"backported-bug", "6.1.43", true, ""},
	{"backported-bug", "6.1.77", true, ""},
	{"backported-bug", "6.1.78", false, "1296c110c5a0b45a8fcf58e7d18bc5da61a565cb"},
	// 6.4: only its stable branch got the bug, and never the fix.
	{"backported-bug", "6.4", false, ""},
	{"backported-bug", "6.4.7", false, ""},
	{"backported-bug", "6.4.8", true, ""},
	{"backported-bug", "6.4.16", true, ""},
	// 6.5 introduced it in mainline.
	{"backported-bug", "6.5-rc7", false, ""},
	{"backported-bug", "6.5", true, ""},
	{"backported-bug", "6.5.13", true, ""},
	// 6.6 and 6.7 stable got the fix.
	{"backported-bug", "6.6", true, ""},
	{"backported-bug", "6.6.16", true, ""},
	{"backported-bug", "6.6.17", false, "b734f7a47aeb32a5ba298e4ccc16bb0c52b6dbf7"},
	{"backported-bug", "6.6.20", false, ""},
	{"backported-bug", "6.7.4", true, ""},
	{"backported-bug", "6.7.5", false, "6eb14441f10602fa1cf691da9d685718b68b78a9"},
	// mainline fixed it in 6.8.
	{"backported-bug", "6.8-rc1", true, ""},
	{"backported-bug", "6.8", false, "60c0c230c6f046da536d3df8b39a20b9a9fd6af0"},
	{"backported-bug", "6.8.1", false, ""},
	{"backported-bug", "6.12.3", false, ""},
	// A branch no line names, older than the bug.
	{"backported-bug", "4.14.300", false, ""},

	{"since-the-beginning", "2.6.32.5", true, ""},
	{"since-the-beginning", "5.10.200", true, ""},
	{"since-the-beginning", "5.15.149", true, ""},
	{"since-the-beginning", "5.15.150", false, "1111111111111111111111111111111111111111"},
	{"since-the-beginning", "6.1.80", false, "2222222222222222222222222222222222222222"},
	{"since-the-beginning", "6.6.20", true, ""}, // 6.6 never got the fix
	{"since-the-beginning", "6.8-rc3", true, ""},
	{"since-the-beginning", "6.8-rc4", false, "3333333333333333333333333333333333333333"},
	{"since-the-beginning", "6.8", false, ""},
	{"since-the-beginning", "6.9.1", false, ""},

	{"never-fixed", "5.9", false, ""},
	{"never-fixed", "5.4.200", false, ""},
	{"never-fixed", "5.10", true, ""},
	{"never-fixed", "6.6.20", true, ""},
}

func TestStrakRules(t *testing.T) {
	branches := map[string]bool{}
	for _, c := range strakCases {
		bps, err := ParseDyad([]byte(strakDyads[c.Dyad]))
		if err != nil {
			t.Fatal(err)
		}
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
	if len(strakCases) < 20 || len(branches) < 5 {
		t.Errorf("%d cases over %d branches, want at least 20 over 5", len(strakCases), len(branches))
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
	bps, err := ParseDyad([]byte(strakDyads["backported-bug"]))
	if err != nil {
		t.Fatal(err)
	}
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
