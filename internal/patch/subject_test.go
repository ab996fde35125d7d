package patch

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSubject(t *testing.T) {
	tests := []struct {
		in   string
		want Subject
	}{
		{"[PATCH v3 2/7] io_uring: fix x", Subject{
			Prefixes: []string{"PATCH"}, Version: 3, Counter: 2, Total: 7, IsPatch: true,
			Normalized: "io_uring: fix x"}},
		{"Re: [PATCH net-next v2 0/5] io_uring zerocopy send", Subject{
			Reply: true, Prefixes: []string{"PATCH"}, Subsystems: []string{"net-next"},
			Version: 2, Total: 5, IsPatch: true, IsCover: true, Normalized: "io_uring zerocopy send"}},
		{"[PATCHv3] foo", Subject{Prefixes: []string{"PATCH"}, Version: 3, IsPatch: true, Normalized: "foo"}},
		{"[PATCH-v4 1/1] foo", Subject{Prefixes: []string{"PATCH"}, Version: 4, Counter: 1, Total: 1, IsPatch: true, Normalized: "foo"}},
		{"[RFC PATCH 1/2] io_uring: idea", Subject{
			Prefixes: []string{"RFC", "PATCH"}, Version: 1, Counter: 1, Total: 2, IsPatch: true,
			Normalized: "io_uring: idea"}},
		{"[RFC] single cqe per link", Subject{Prefixes: []string{"RFC"}, Version: 1, IsPatch: true, Normalized: "single cqe per link"}},
		{"[RFCv2 3/4] thing", Subject{Prefixes: []string{"RFC"}, Version: 2, Counter: 3, Total: 4, IsPatch: true, Normalized: "thing"}},
		{"[LTP] [PATCH] foo", Subject{ListTags: []string{"LTP"}, Prefixes: []string{"PATCH"}, Version: 1, IsPatch: true, Normalized: "foo"}},
		{"AW: [PATCH] x", Subject{Reply: true, Prefixes: []string{"PATCH"}, Version: 1, IsPatch: true, Normalized: "x"}},
		{"[PATCH 5.10 012/123] io_uring: fix race", Subject{
			Prefixes: []string{"PATCH"}, Subsystems: []string{"5.10"}, Version: 1, Counter: 12, Total: 123,
			IsPatch: true, Normalized: "io_uring: fix race"}},
		{"[GIT PULL] io_uring fixes for 6.8-rc1", Subject{
			Prefixes: []string{"GIT PULL"}, Version: 1, IsPatch: true, Normalized: "io_uring fixes for 6.8-rc1"}},
		{"Re: [GIT PULL] io_uring fixes", Subject{
			Reply: true, Prefixes: []string{"GIT PULL"}, Version: 1, IsPatch: true, Normalized: "io_uring fixes"}},
		{"[PATCH liburing v2 1/3] test: add x", Subject{
			Prefixes: []string{"PATCH"}, Subsystems: []string{"liburing"}, Version: 2, Counter: 1, Total: 3,
			IsPatch: true, Normalized: "test: add x"}},
		{"[PATCH RESEND for-next] io_uring: y", Subject{
			Prefixes: []string{"PATCH", "RESEND"}, Subsystems: []string{"for-next"}, Version: 1,
			IsPatch: true, Normalized: "io_uring: y"}},
		{"[RESEND PATCH v2] z", Subject{Prefixes: []string{"RESEND", "PATCH"}, Version: 2, IsPatch: true, Normalized: "z"}},
		{"[PATCH][next] io_uring: fix a typo", Subject{
			Prefixes: []string{"PATCH"}, Subsystems: []string{"next"}, Version: 1, IsPatch: true,
			Normalized: "io_uring: fix a typo"}},
		{"[PATCHSET v3 0/4] io_uring: stuff", Subject{
			Prefixes: []string{"PATCH"}, Version: 3, Total: 4, IsPatch: true, IsCover: true, Normalized: "io_uring: stuff"}},
		{"[RFC/PATCH] x", Subject{Prefixes: []string{"RFC", "PATCH"}, Version: 1, IsPatch: true, Normalized: "x"}},
		{"[patch v2] lower case", Subject{Prefixes: []string{"PATCH"}, Version: 2, IsPatch: true, Normalized: "lower case"}},
		{"Re: Re: RE: Sv: Antw: Odp: Vs: Réf: [PATCH] deep", Subject{
			Reply: true, Prefixes: []string{"PATCH"}, Version: 1, IsPatch: true, Normalized: "deep"}},
		{"Fwd: [PATCH] forwarded", Subject{Forward: true, Prefixes: []string{"PATCH"}, Version: 1, IsPatch: true, Normalized: "forwarded"}},
		{"WG: Fw: hello", Subject{Forward: true, Version: 1, Normalized: "hello"}},
		{"RE : French reply", Subject{Reply: true, Version: 1, Normalized: "French reply"}},
		{"Re[2]: counted", Subject{Reply: true, Version: 1, Normalized: "counted"}},
		{"Re^3: counted", Subject{Reply: true, Version: 1, Normalized: "counted"}},
		{"回复: 中文", Subject{Reply: true, Version: 1, Normalized: "中文"}},
		{"PATCH: bare prefix", Subject{Prefixes: []string{"PATCH"}, Version: 1, IsPatch: true, Normalized: "bare prefix"}},
		{"PATCH v2 1/3: bare counted", Subject{Prefixes: []string{"PATCH"}, Version: 2, Counter: 1, Total: 3, IsPatch: true, Normalized: "bare counted"}},
		{"PATCHv5 bare glued", Subject{Prefixes: []string{"PATCH"}, Version: 5, IsPatch: true, Normalized: "bare glued"}},
		{"PATCHING things up", Subject{Version: 1, Normalized: "PATCHING things up"}},
		{"Patch review process", Subject{Version: 1, Normalized: "Patch review process"}},
		{"[ANNOUNCE] liburing 2.5", Subject{ListTags: []string{"ANNOUNCE"}, Version: 1, Normalized: "liburing 2.5"}},
		{"[git] topic", Subject{ListTags: []string{"git"}, Version: 1, Normalized: "topic"}},
		{"Reply: not a prefix", Subject{Version: 1, Normalized: "Reply: not a prefix"}},
		{"Fixes: not a prefix either", Subject{Version: 1, Normalized: "Fixes: not a prefix either"}},
		{"io_uring: fix [bracket] inside", Subject{Version: 1, Normalized: "io_uring: fix [bracket] inside"}},
		{"  [PATCH  v2\t 1/2]   spaced \t out  ", Subject{
			Prefixes: []string{"PATCH"}, Version: 2, Counter: 1, Total: 2, IsPatch: true, Normalized: "spaced out"}},
		{"[PATCH unclosed", Subject{Version: 1, Normalized: "[PATCH unclosed"}},
		{"", Subject{Version: 1}},
		{"Re: (subset) [PATCH 00/11] remove aux CQE caches", Subject{
			Reply: true, Prefixes: []string{"PATCH"}, Version: 1, Total: 11, IsPatch: true, IsCover: true,
			Normalized: "remove aux CQE caches"}},
		{"(not a tag) text", Subject{Version: 1, Normalized: "(not a tag) text"}},
		{"Re: [PATCH RFC} io_uring: io_kiocb alloc cache", Subject{
			Reply: true, Prefixes: []string{"PATCH", "RFC"}, Version: 1, IsPatch: true, Normalized: "io_uring: io_kiocb alloc cache"}},
		{"[PULL|PATCH v3 0/7] x", Subject{
			Prefixes: []string{"PULL", "PATCH"}, Version: 3, Total: 7, IsPatch: true, IsCover: true, Normalized: "x"}},
		{"[2/5] io_uring: counter only", Subject{Version: 1, Counter: 2, Total: 5, IsPatch: true, Normalized: "io_uring: counter only"}},
		{"[zcrx-next 0/2] io_uring: z", Subject{Subsystems: []string{"zcrx-next"}, Version: 1, Total: 2, IsPatch: true, IsCover: true, Normalized: "io_uring: z"}},
		{"[PATCH AUTOSEL 5.10 01/12] io_uring: s", Subject{
			Prefixes: []string{"PATCH"}, Subsystems: []string{"AUTOSEL", "5.10"}, Version: 1, Counter: 1, Total: 12,
			IsPatch: true, Normalized: "io_uring: s"}},
		{"[PATCH]", Subject{Prefixes: []string{"PATCH"}, Version: 1, IsPatch: true}},
	}
	for _, tt := range tests {
		got := ParseSubject(tt.in)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseSubject(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestNormalizedKey(t *testing.T) {
	a := ParseSubject("[PATCH v3 2/7] io_uring: Fix X")
	b := ParseSubject("Re: [PATCH v1 2/6] io_uring:  fix x")
	if a.NormalizedKey() != b.NormalizedKey() || a.NormalizedKey() != "io_uring: fix x" {
		t.Errorf("NormalizedKey = %q and %q, want both %q", a.NormalizedKey(), b.NormalizedKey(), "io_uring: fix x")
	}
}

func TestNormalizeSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Re: [PATCH] io_uring: Fix  it", "[patch] io_uring: fix it"},
		{"AW: Re: Fwd:   Hello\tWorld...", "hello world"},
		{"RE:[PATCH v2]x", "[patch v2]x"},
		{"  plain  ", "plain"},
		{"Re:", ""},
		{"Re: [PATCH]", "[patch]"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeSubject(tt.in); got != tt.want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
