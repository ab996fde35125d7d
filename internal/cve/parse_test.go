package cve

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCVSSBaseScore(t *testing.T) {
	tests := []struct {
		vector   string
		score    float64
		severity string
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 8.8, "HIGH"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10, "CRITICAL"},
		{"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H", 4.7, "MEDIUM"},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "LOW"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, "NONE"},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
		{"CVSS:3.1/A:H/I:N/C:N/S:U/UI:N/PR:N/AC:L/AV:N/E:U", 7.5, "HIGH"}, // order free, temporal ignored
	}
	for _, tt := range tests {
		score, sev, err := CVSSBaseScore(tt.vector)
		if err != nil || score != tt.score || sev != tt.severity {
			t.Errorf("CVSSBaseScore(%q) = %v, %q, %v; want %v, %q", tt.vector, score, sev, err, tt.score, tt.severity)
		}
	}
	for _, bad := range []string{
		"", "CVSS:2.0/AV:N", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",          // A missing
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",      // bad value
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // repeated
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
	} {
		if _, _, err := CVSSBaseScore(bad); !errors.Is(err, ErrBadCVSS) {
			t.Errorf("CVSSBaseScore(%q) error = %v, want ErrBadCVSS", bad, err)
		}
	}
}

func TestParseDyad(t *testing.T) {
	tests := []struct {
		in   string
		want []Backport
		line int // of the error, 0 = none
	}{
		{"", nil, 0},
		{"# only comments\n\n", nil, 0},
		{"4.20:" + shaIntro + ":5.4.169:" + shaFix + "\r\n", []Backport{{"4.20", shaIntro, "5.4.169", shaFix}}, 0},
		{"0:0:6.8-rc1:" + shaFix, []Backport{{"", "", "6.8-rc1", shaFix}}, 0},
		{"# c\n6.1:" + shaIntro + ":0:0\n", []Backport{{"6.1", shaIntro, "", ""}}, 0},
		{"# c\n6.1:" + shaIntro + ":6.2\n", nil, 2},
		{"6.1:" + shaIntro[:12] + ":6.2:" + shaFix, nil, 1},
		{"v6.1:" + shaIntro + ":6.2:" + shaFix, nil, 1},
		{"6.1:" + shaIntro + ":6 2:" + shaFix, nil, 1},
		{"6.1:" + shaIntro + ":6.2:" + shaFix + ":extra", nil, 1},
	}
	for _, tt := range tests {
		got, err := ParseDyad([]byte(tt.in))
		if tt.line == 0 {
			if err != nil {
				t.Errorf("ParseDyad(%q) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDyad(%q) (-want +got):\n%s", tt.in, diff)
			}
			continue
		}
		var re *RecordError
		if !errors.As(err, &re) || re.Line != tt.line || !errors.Is(err, ErrBadDyad) {
			t.Errorf("ParseDyad(%q) error = %v, want ErrBadDyad at line %d", tt.in, err, tt.line)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		id           string
		year, number int
		ok           bool
	}{
		{"CVE-2024-26626", 2024, 26626, true},
		{"CVE-2021-0001", 2021, 1, true},
		{"CVE-24-1", 0, 0, false},
		{"CVE-2024-", 0, 0, false},
		{"CVE-2024-+1", 0, 0, false},
		{"CVE-2024-x", 0, 0, false},
		{"GHSA-2024-1", 0, 0, false},
	}
	for _, tt := range tests {
		y, n, ok := parseID(tt.id)
		if y != tt.year || n != tt.number || ok != tt.ok {
			t.Errorf("parseID(%q) = %d, %d, %v; want %d, %d, %v", tt.id, y, n, ok, tt.year, tt.number, tt.ok)
		}
	}
}

func FuzzParseDyad(f *testing.F) {
	f.Add(dyadOK)
	f.Add("0:0:0:0\n#x\n1:2:3:4")
	f.Fuzz(func(t *testing.T, in string) {
		bps, err := ParseDyad([]byte(in))
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || re.Line < 1 {
				t.Fatalf("error %v is not a *RecordError with a line", err)
			}
			return
		}
		for _, b := range bps {
			for _, s := range []string{b.IntroducedSHA, b.FixedSHA} {
				if s != "" && (len(s) != 40 || s != strings.ToLower(s)) {
					t.Fatalf("bad sha %q", s)
				}
			}
		}
	})
}

func FuzzParseRecordJSON(f *testing.F) {
	f.Add(recordJSON("CVE-2024-1", "t", []string{"a.c"}, ""))
	f.Add(`{"cveMetadata": {"cveId": "CVE-2024-1"}, "containers": {"cna": {"metrics": [{"cvssV3_1": {"baseScore": "x"}}]}}}`)
	f.Add("{\n\"containers\": 1}")
	f.Fuzz(func(t *testing.T, in string) {
		r := &Record{ID: "CVE-2024-1"}
		err := r.parseJSON([]byte(in))
		if err != nil && !errors.Is(err, ErrBadJSON) && !errors.Is(err, ErrIDMismatch) {
			t.Fatalf("parseJSON error %v wraps neither ErrBadJSON nor ErrIDMismatch", err)
		}
		if err == nil && len(r.Files) > 0 && r.Files[0] == "" {
			t.Fatalf("empty file name kept: %q", r.Files)
		}
	})
}

func FuzzCVSSBaseScore(f *testing.F) {
	f.Add("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	f.Add("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L")
	f.Fuzz(func(t *testing.T, v string) {
		score, sev, err := CVSSBaseScore(v)
		if err != nil {
			return
		}
		if score < 0 || score > 10 || sev == "" {
			t.Fatalf("CVSSBaseScore(%q) = %v, %q", v, score, sev)
		}
	})
}
