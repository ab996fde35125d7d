package trace

import (
	"testing"
	"time"
)

func TestDaysRounding(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want float64
	}{
		{0, 0},
		{36 * time.Hour, 1.5},
		{30*time.Hour + 14*time.Minute, 1.3},     // 1.2597 days
		{-(30*time.Hour + 14*time.Minute), -1.3}, // int(x+0.5) gave -1.2
		{-2 * time.Hour, -0.1},                   // -0.083 days
		{-time.Hour, 0},                          // -0.04 days
		{-14 * 24 * time.Hour, -14},
	} {
		if got := *days(c.d); got != c.want {
			t.Errorf("days(%v) = %v, want %v", c.d, got, c.want)
		}
	}
}

// TestFirstOfKind checks that the CVE picked among several a commit
// belongs to does not depend on map order.
func TestFirstOfKind(t *testing.T) {
	for i := 0; i < 50; i++ {
		ids := map[string]string{"CVE-2024-10000": "fix", "CVE-2024-9999": "fix", "CVE-2023-52000": "introduced",
			"CVE-2025-1": "fix", "CVE-2024-50000": "backport"}
		if got := firstOfKind(ids, "fix"); got != "CVE-2024-9999" {
			t.Fatalf("firstOfKind(fix) = %s, want CVE-2024-9999", got)
		}
		if got := firstOfKind(ids, "backport"); got != "CVE-2024-50000" {
			t.Fatalf("firstOfKind(backport) = %s", got)
		}
		if got := firstOfKind(ids, "none"); got != "" {
			t.Fatalf("firstOfKind(none) = %q", got)
		}
	}
}

func TestIsBot(t *testing.T) {
	for _, c := range []struct {
		name, email string
		want        bool
	}{
		{"kernel test robot", "lkp@intel.com", true},
		{"kernel test robot", "oliver.sang@intel.com", true},
		{"", "lkp@intel.com", true},
		{"syzbot", "syzbot+93f72b3885406bb09e0d@syzkaller.appspotmail.com", true},
		{"", "patchwork-bot+netdevbpf@kernel.org", true},
		{"", "pr-tracker-bot@kernel.org", true},
		{"Ian Abbott", "abbotti@mev.co.uk", false},
		{"Jens Axboe", "axboe@kernel.dk", false},
		{"Abbot Someone", "lkp@example.org", false},
		{"Talbot", "bottom@example.org", false},
	} {
		if got := IsBot(c.name, c.email); got != c.want {
			t.Errorf("IsBot(%q, %q) = %v, want %v", c.name, c.email, got, c.want)
		}
	}
}
