package link

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"patchtrail/internal/patch"
)

func diffOf(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestSimilarity(t *testing.T) {
	many := func(prefix string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "+%s line %d\n", prefix, i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		a, b string
		want float64
		tol  float64
	}{
		{"equal", diffOf("+a", "-b"), diffOf("+a", "-b"), 1, 0},
		{"white space ignored", diffOf("+\tif (x)  y;"), diffOf("+ if (x) y;"), 1, 0},
		{"sign matters", diffOf("+a"), diffOf("-a"), 0, 0},
		{"half", diffOf("+a", "+b", "+c"), diffOf("+a", "+b", "+d"), 0.5, 0},
		{"context and blank lines ignored", diffOf("+a", " ctx", "+  "), diffOf("+a"), 1, 0},
		{"empty", "", diffOf("+a"), 0, 0},
		// Above SketchSize lines, the estimate stays close.
		{"large, two thirds shared", many("x", 2000) + many("y", 1000), many("x", 2000) + many("z", 1000), 2.0 / 4, 0.08},
		{"large, disjoint", many("x", 2000), many("y", 2000), 0, 0.02},
	}
	for _, tt := range tests {
		a, b := DiffSketch(tt.a), DiffSketch(tt.b)
		got := Similarity(a, b)
		if math.Abs(got-tt.want) > tt.tol {
			t.Errorf("%s: Similarity = %.3f, want %.3f±%.2f", tt.name, got, tt.want, tt.tol)
		}
		if back := Similarity(b, a); back != got {
			t.Errorf("%s: not symmetric: %.3f and %.3f", tt.name, got, back)
		}
		if len(a) > SketchSize {
			t.Errorf("%s: sketch holds %d hashes, more than %d", tt.name, len(a), SketchSize)
		}
	}
}

func TestPatchSketchMatchesDiffSketch(t *testing.T) {
	mail := "diff --git a/f.c b/f.c\nindex 1111111..2222222 100644\n--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n"
	ps, err := patch.ParsePatches(mail)
	if err != nil {
		t.Fatal(err)
	}
	if got := Similarity(PatchSketch(ps), DiffSketch(diffOf("-b", "+c"))); got != 1 {
		t.Errorf("Similarity(mail, commit diff) = %v, want 1", got)
	}
}

func TestIsStableSubject(t *testing.T) {
	tests := []struct {
		subject        string
		stable, tagged bool
	}{
		{"[PATCH 6.1.y] io_uring: fix x", true, true},
		{"[PATCH AUTOSEL 6.9 06/15] io_uring/sqpoll: work around a leak", true, true},
		{"[PATCH AUTOSEL 6.17-6.12] io_uring/zctx: check chained notif contexts", true, true},
		{"[PATCH stable-5.10] io_uring: fix y", true, true},
		{"[PATCH 5.15.12 1/2] io_uring: fix z", true, true},
		{"[PATCH 5.12] io_uring: fix for the next release", false, true},
		{"[PATCH for-6.1 3/4] io_uring: fix multishot accept request leaks", false, false},
		{"[PATCH v2 1/3] io_uring/net: add io_net_retry() helper", false, false},
		{"Re: [PATCH 6.1.y] io_uring: fix x", true, true},
		{"io_uring: 6.1 is great", false, false},
	}
	for _, tt := range tests {
		if got := IsStableSubject(tt.subject); got != tt.stable {
			t.Errorf("IsStableSubject(%q) = %v, want %v", tt.subject, got, tt.stable)
		}
		if got := versionTagged(tt.subject); got != tt.tagged {
			t.Errorf("versionTagged(%q) = %v, want %v", tt.subject, got, tt.tagged)
		}
	}
}

func TestSubjectSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"io_uring: fix x", "io_uring: fix x", 1},
		{"io_uring/rw: drop a check", "io_uring/rw: remove a check", 4.0 / 6},
		{"a b", "c d", 0},
		{"", "a", 0},
	}
	for _, tt := range tests {
		if got := subjectSimilarity(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("subjectSimilarity(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzSketch(f *testing.F) {
	f.Add("+a\n-b\n", "+a\n")
	f.Add("+\t x\n+y\n", "-x\n")
	f.Add("", "+")
	f.Fuzz(func(t *testing.T, a, b string) {
		sa, sb := DiffSketch(a), DiffSketch(b)
		for i := 1; i < len(sa); i++ {
			if sa[i-1] >= sa[i] {
				t.Fatalf("sketch of %q not sorted and distinct", a)
			}
		}
		s := Similarity(sa, sb)
		if s < 0 || s > 1 || s != Similarity(sb, sa) {
			t.Fatalf("Similarity = %v (reverse %v)", s, Similarity(sb, sa))
		}
		if len(sa) > 0 && Similarity(sa, sa) != 1 {
			t.Fatalf("Similarity(a, a) = %v", Similarity(sa, sa))
		}
	})
}
