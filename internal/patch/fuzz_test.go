package patch

import (
	"regexp"
	"strings"
	"testing"
)

func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{
		"[PATCH v3 2/7] io_uring: fix x", "Re: [PATCH net-next v2 0/5] a", "[PATCHv3] foo",
		"[RFC PATCH 1/2] b", "[LTP] [PATCH] foo", "AW: [PATCH] x", "[PATCH 5.10 012/123] io_uring: y",
		"[GIT PULL] io_uring fixes for 6.8-rc1", "[PATCH liburing v2 1/3] z", "Re[2]: Réf : 回复: x",
		"PATCH v2 1/3: bare", "[PATCH unclosed", "[]", "Re:", "[RFC/PATCH,v2 1/99999999999]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub := ParseSubject(s)
		if sub.Version < 0 || sub.Counter < 0 || sub.Total < 0 {
			t.Errorf("ParseSubject(%q): negative numbers %+v", s, sub)
		}
		if sub.IsCover != (sub.Counter == 0 && sub.Total > 0) {
			t.Errorf("ParseSubject(%q): IsCover = %v with %d/%d", s, sub.IsCover, sub.Counter, sub.Total)
		}
		if n := sub.Normalized; strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Errorf("ParseSubject(%q).Normalized = %q: spaces not collapsed", s, n)
		}
		if !strings.Contains(collapseSpace(s), sub.Normalized) {
			t.Errorf("ParseSubject(%q).Normalized = %q is not part of the subject", s, sub.Normalized)
		}
		n := NormalizeSubject(s)
		if again := NormalizeSubject(n); again != n {
			t.Errorf("NormalizeSubject not idempotent: %q -> %q -> %q", s, n, again)
		}
	})
}

var trailerKey = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

func FuzzParseTrailers(f *testing.F) {
	for _, s := range []string{
		"t\n\nbody\n\nSigned-off-by: A <a@b>\nCc: stable@vger.kernel.org # 5.10+\n",
		"t\n\nFixes: 0123456789ab (\"x\")\nLink: https://lore.kernel.org/r/a%40b\n---\nbase-commit: abc\n",
		"t\n\ntext\n(cherry picked from commit abc)\nSigned-off-by: A\n  continued\n# c\n",
		"Reviewed-by: R <r@e>\n> Acked-by: Q <q@e>\n", "\n\n\n", "---\n", "a:\n\n:b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(fn string, ts []Trailer) {
			for _, tr := range ts {
				if !trailerKey.MatchString(tr.Key) && fn != "FindReplyTrailers" {
					t.Errorf("%s(%q): bad key %q", fn, s, tr.Key)
				}
				if strings.Contains(tr.Value, "\n") {
					t.Errorf("%s(%q): value %q holds a newline", fn, s, tr.Value)
				}
			}
		}
		check("ParseTrailers", ParseTrailers(s))
		check("ParseBodyTrailers", ParseBodyTrailers(s))
		for _, tr := range FindReplyTrailers(s) {
			if !isReviewKey(tr.Key) || !strings.Contains(tr.Value, "@") {
				t.Errorf("FindReplyTrailers(%q): %+v", s, tr)
			}
		}
		_ = MessageIDFromURL(s)
	})
}

func FuzzParsePatches(f *testing.F) {
	for _, s := range []string{
		formatPatchBody,
		"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
		"diff --git a/x b/x\nindex 1..2 100644\nGIT binary patch\nliteral 3\nKcmZ>9\n\n",
		"diff --git a/x b/y\nsimilarity index 90%\nrename from x\nrename to y\n",
		"commit " + strings.Repeat("a", 40) + "\ndiff x\n--- a\n+++ b\n@@ -1,99999999999 +1 @@\n-a\n\\ No newline\n",
		"diff --git \"a/q\\tx\" \"b/q\\tx\"\n--- \"a/q\\tx\"\n+++ \"b/q\\tx\"\n@@ -0,0 +1 @@\n+x\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, _ := ParsePatches(s)
		text := normalizeNewlines(s)
		ids := map[int]string{}
		for _, r := range PatchIDs(text) {
			ids[r.Start] = r.PatchID
		}
		for _, p := range ps {
			if p.Start < 0 || p.End > len(text) || p.Start >= p.End {
				t.Fatalf("ParsePatches(%q): range %d..%d of %d", s, p.Start, p.End, len(text))
			}
			if len(p.Files) == 0 {
				t.Errorf("ParsePatches(%q): patch without files", s)
			}
			if p.PatchID != "" && ids[p.Start] != p.PatchID {
				t.Errorf("ParsePatches(%q): PatchID %s, PatchIDs says %s", s, p.PatchID, ids[p.Start])
			}
		}
		if id, err := PatchID(s); err == nil && len(id) != 40 {
			t.Errorf("PatchID(%q) = %q", s, id)
		}
	})
}
