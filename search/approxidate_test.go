package search

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// approxCases were checked against `git rev-parse --since=X` (git 2.39)
// with GIT_TEST_DATE_NOW set and TZ=UTC; see TestApproxidateMatchesGit.
var approxCases = []struct {
	in   string
	want string // RFC 3339; "" = error
}{
	{"yesterday", "2024-03-14T10:00:00Z"},
	{"3.days.ago", "2024-03-12T10:00:00Z"},
	{"3 days ago", "2024-03-12T10:00:00Z"},
	{"3_days_ago", "2024-03-12T10:00:00Z"},
	{"ten.days.ago", "2024-03-05T10:00:00Z"},
	{"2.weeks.ago", "2024-03-01T10:00:00Z"},
	{"2.weeks", "2024-03-01T10:00:00Z"},
	{"last.week", "2024-03-08T10:00:00Z"},
	{"1.month.ago", "2024-02-15T10:00:00Z"},
	{"6.months.ago", "2023-09-15T10:00:00Z"},
	{"last.year", "2023-03-15T10:00:00Z"},
	{"noon", "2024-03-14T12:00:00Z"}, // before noon: yesterday's
	{"noon.yesterday", "2024-03-13T12:00:00Z"},
	{"midnight", "2024-03-15T00:00:00Z"},
	{"tea", "2024-03-14T17:00:00Z"},
	{"last.friday", "2024-03-08T10:00:00Z"},
	{"jan.5", "2024-01-05T10:00:00Z"},
	{"5.pm", "2024-03-15T17:00:00Z"},
	{"10am", "2024-03-15T10:00:00Z"},
	{"12:30", "2024-03-15T12:30:00Z"},
	{"2024.01.15", "2024-01-15T10:00:00Z"},
	{"01/15/2024", "2024-01-15T10:00:00Z"},
	{"15.01.2024", "2024-01-15T10:00:00Z"},
	{"never", "1970-01-01T00:00:00Z"},
	{"now", "2024-03-15T10:00:00Z"},
	{"1700000000", "2023-11-14T22:13:20Z"},
	{"@1700000000", "2023-11-14T22:13:20Z"},
	{"2024-01-15 10:30:00", "2024-01-15T10:30:00Z"},
	// exact forms where patchtrail is stricter than git:
	{"2024-01-15", "2024-01-15T00:00:00Z"}, // git: current time of day
	{"20240115", "2024-01-15T00:00:00Z"},   // git: now (it ignores the number)
	{"20240115103000", "2024-01-15T10:30:00Z"},
	{"2024-01-15T10:30:00+02:00", "2024-01-15T08:30:00Z"},
	{"Mon, 15 Jan 2024 10:30:00 +0100", "2024-01-15T09:30:00Z"},
	{"garbage", ""}, // git: now, silently
	{"ago", ""},
	{"", ""},
	{"99999999999999999999.days.ago", ""},
}

func TestApproxidate(t *testing.T) {
	for _, tt := range approxCases {
		got, err := Approxidate(tt.in, testNow)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Approxidate(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Approxidate(%q) error: %v", tt.in, err)
			continue
		}
		if s := got.Format(time.RFC3339); s != tt.want {
			t.Errorf("Approxidate(%q) = %s, want %s", tt.in, s, tt.want)
		}
	}
}

func TestApproxidateAfternoon(t *testing.T) {
	now := time.Date(2024, 3, 15, 15, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"noon":           "2024-03-15T12:00:00Z",
		"noon.yesterday": "2024-03-14T12:00:00Z",
		"tea":            "2024-03-14T17:00:00Z",
		"yesterday":      "2024-03-14T15:00:00Z",
	} {
		got, err := Approxidate(in, now)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("Approxidate(%q) at 15:00 = %v, %v; want %s", in, got, err, want)
		}
	}
}

// TestApproxidateMatchesGit compares with the real git, when installed.
func TestApproxidateMatchesGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	if out, err := exec.Command(git, "init", "-q", dir).CombinedOutput(); err != nil {
		t.Skipf("git init: %v %s", err, out)
	}
	for _, now := range []time.Time{testNow, testNow.Add(5 * time.Hour)} {
		for _, tt := range approxCases {
			if tt.want == "" || tt.in == "20240115" || tt.in == "2024-01-15" || strings.ContainsAny(tt.in, "T,") || len(tt.in) == 14 {
				continue // deliberate differences, see approxCases
			}
			cmd := exec.Command(git, "rev-parse", "--since="+tt.in)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TZ=UTC", fmt.Sprintf("GIT_TEST_DATE_NOW=%d", now.Unix()))
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("git rev-parse --since=%q: %v", tt.in, err)
			}
			secs, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(string(out)), "--max-age="), 10, 64)
			if err != nil {
				t.Fatalf("git rev-parse --since=%q printed %q", tt.in, out)
			}
			got, err := Approxidate(tt.in, now)
			if err != nil || got.Unix() != secs {
				t.Errorf("now=%s Approxidate(%q) = %v, %v; git says %s", now.Format(time.Kitchen), tt.in,
					got.Format(time.RFC3339), err, time.Unix(secs, 0).UTC().Format(time.RFC3339))
			}
		}
	}
}
