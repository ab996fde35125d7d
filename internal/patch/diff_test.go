package patch

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const formatPatchBody = `The poll path forgot to drop a reference.

Fixes: 0123456789ab ("io_uring: add poll")
Signed-off-by: Dev Eloper <dev@example.com>
---
 io_uring/poll.c | 4 +++-
 io_uring/rw.c   | 1 -
 2 files changed, 3 insertions(+), 2 deletions(-)

diff --git a/io_uring/poll.c b/io_uring/poll.c
index 1111111..2222222 100644
--- a/io_uring/poll.c
+++ b/io_uring/poll.c
@@ -10,7 +10,9 @@ static int io_poll_check(struct io_kiocb *req)
 	int v;
 
 	v = atomic_read(&req->poll_refs);
-	return v;
+	if (v)
+		put(req);
+	return 0;
 }
 
 static void io_poll_remove(void)
diff --git a/io_uring/rw.c b/io_uring/rw.c
index 3333333..4444444 100644
--- a/io_uring/rw.c
+++ b/io_uring/rw.c
@@ -1,3 +1,2 @@
 a
-b
 c
-- 
2.43.0
`

func TestParsePatchesFormatPatch(t *testing.T) {
	ps, err := ParsePatches(formatPatchBody)
	if err != nil {
		t.Fatalf("ParsePatches: %v", err)
	}
	want := []Patch{{
		Files: []File{
			{OldPath: "io_uring/poll.c", NewPath: "io_uring/poll.c", OldMode: 0o100644, NewMode: 0o100644,
				OldOID: "1111111", NewOID: "2222222", Added: 3, Removed: 1,
				Hunks: []Hunk{{Header: "static int io_poll_check(struct io_kiocb *req)",
					OldStart: 10, OldLines: 7, NewStart: 10, NewLines: 9,
					Added:   []string{"\tif (v)", "\t\tput(req);", "\treturn 0;"},
					Removed: []string{"\treturn v;"},
					Context: []string{"\tint v;", "", "\tv = atomic_read(&req->poll_refs);", "}", "", "static void io_poll_remove(void)"}}}},
			{OldPath: "io_uring/rw.c", NewPath: "io_uring/rw.c", OldMode: 0o100644, NewMode: 0o100644,
				OldOID: "3333333", NewOID: "4444444", Removed: 1,
				Hunks: []Hunk{{OldStart: 1, OldLines: 3, NewStart: 1, NewLines: 2,
					Removed: []string{"b"}, Context: []string{"a", "c"}}}},
		},
		Added: 3, Removed: 2, Diffstat: "2 files changed, 3 insertions(+), 2 deletions(-)",
	}}
	if diff := cmp.Diff(want, ps, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Patch{}, "PatchID", "Start", "End")); diff != "" {
		t.Errorf("ParsePatches mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(formatPatchBody[ps[0].Start:], "diff --git a/io_uring/poll.c") ||
		!strings.HasSuffix(formatPatchBody[:ps[0].End], " c\n") {
		t.Errorf("range %d..%d = %q", ps[0].Start, ps[0].End, formatPatchBody[ps[0].Start:ps[0].End])
	}
	id, err := PatchID(formatPatchBody)
	if err != nil || ps[0].PatchID != id || len(id) != 40 {
		t.Errorf("Patch.PatchID = %q, PatchID = %q, %v", ps[0].PatchID, id, err)
	}
	// CRLF gives the same result.
	crlf, err := ParsePatches(strings.ReplaceAll(formatPatchBody, "\n", "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ps, crlf); diff != "" {
		t.Errorf("CRLF body differs (-LF +CRLF):\n%s", diff)
	}
}

func TestParsePatchesGitPatchID(t *testing.T) {
	needGit(t)
	ps, err := ParsePatches(formatPatchBody)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ParsePatches = %v, %v", ps, err)
	}
	want := strings.Fields(runGit(t, t.TempDir(), formatPatchBody, "patch-id", "--stable"))[0]
	if ps[0].PatchID != want {
		t.Errorf("PatchID = %s, git patch-id --stable = %s", ps[0].PatchID, want)
	}
}

func TestParsePatchesShapes(t *testing.T) {
	stdout := "From " + strings.Repeat("a", 40) + " Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH 1/2] one\n\nmsg\n---\n" +
		"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n-- \n2.43.0\n\n" +
		"From " + strings.Repeat("b", 40) + " Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH 2/2] two\n\nmsg\n---\n" +
		"diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1,2 @@\n 1\n+2\n-- \n2.43.0\n"
	type fileSummary struct {
		Path                                string
		New, Delete, Rename, Copy, Bin, Dmg bool
		OldMode, NewMode                    uint32
		Added, Removed, Hunks               int
	}
	type patchSummary struct {
		Files    []fileSummary
		HasID    bool
		Commit   string
		Diffstat string
	}
	summarize := func(ps []Patch) []patchSummary {
		var out []patchSummary
		for _, p := range ps {
			s := patchSummary{HasID: p.PatchID != "", Commit: p.Commit, Diffstat: p.Diffstat}
			for _, f := range p.Files {
				s.Files = append(s.Files, fileSummary{f.Path(), f.IsNew, f.IsDelete, f.IsRename, f.IsCopy, f.IsBinary, f.Damaged,
					f.OldMode, f.NewMode, f.Added, f.Removed, len(f.Hunks)})
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name    string
		in      string
		want    []patchSummary
		wantErr bool
	}{
		{"format-patch --stdout", stdout, []patchSummary{
			{Files: []fileSummary{{Path: "x", Added: 1, Removed: 1, Hunks: 1}}, HasID: true, Commit: strings.Repeat("a", 40),
				Diffstat: "1 file changed, 1 insertion(+), 1 deletion(-)"},
			{Files: []fileSummary{{Path: "y", Added: 1, Hunks: 1}}, HasID: true, Commit: strings.Repeat("b", 40),
				Diffstat: "1 file changed, 1 insertion(+)"},
		}, false},
		{"plain diff -u", "Try this:\n\n--- a/fs/x.c\t2024-01-01\n+++ b/fs/x.c\t2024-01-02\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\nThanks\n",
			[]patchSummary{{Files: []fileSummary{{Path: "fs/x.c", Added: 1, Removed: 1, Hunks: 1}},
				Diffstat: "1 file changed, 1 insertion(+), 1 deletion(-)"}}, false},
		{"two plain diffs", "--- a/p\n+++ b/p\n@@ -1 +1 @@\n-a\n+b\n--- a/q\n+++ b/q\n@@ -1 +1 @@\n-a\n+b\n",
			[]patchSummary{{Files: []fileSummary{{Path: "p", Added: 1, Removed: 1, Hunks: 1}, {Path: "q", Added: 1, Removed: 1, Hunks: 1}},
				Diffstat: "2 files changed, 2 insertions(+), 2 deletions(-)"}}, false},
		{"gnu diff -ruN", "diff -ruN a/k.c b/k.c\n--- a/k.c\n+++ b/k.c\n@@ -1 +1 @@\n-a\n+b\n",
			[]patchSummary{{Files: []fileSummary{{Path: "k.c", Added: 1, Removed: 1, Hunks: 1}}, HasID: true,
				Diffstat: "1 file changed, 1 insertion(+), 1 deletion(-)"}}, false},
		{"rename mode new delete binary",
			"diff --git a/old.c b/new.c\nsimilarity index 90%\nrename from old.c\nrename to new.c\nindex 1..2 100644\n--- a/old.c\n+++ b/new.c\n@@ -1 +1 @@\n-a\n+b\n" +
				"diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n" +
				"diff --git a/added.txt b/added.txt\nnew file mode 100644\nindex 0000000..3\n--- /dev/null\n+++ b/added.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n" +
				"diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\nindex 4..0000000\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n" +
				"diff --git a/img.png b/img.png\nindex 5..6 100644\nBinary files a/img.png and b/img.png differ\n" +
				"diff --git a/a.c b/b.c\nsimilarity index 100%\ncopy from a.c\ncopy to b.c\n",
			[]patchSummary{{Files: []fileSummary{
				{Path: "new.c", Rename: true, OldMode: 0o100644, NewMode: 0o100644, Added: 1, Removed: 1, Hunks: 1},
				{Path: "run.sh", OldMode: 0o100644, NewMode: 0o100755},
				{Path: "added.txt", New: true, NewMode: 0o100644, Added: 2, Hunks: 1},
				{Path: "gone.txt", Delete: true, OldMode: 0o100644, Removed: 1, Hunks: 1},
				{Path: "img.png", Bin: true, OldMode: 0o100644, NewMode: 0o100644},
				{Path: "b.c", Copy: true},
			}, HasID: true, Diffstat: "6 files changed, 3 insertions(+), 2 deletions(-)"}}, false},
		{"whitespace-damaged file then a good one",
			"diff --git a/bad.c b/bad.c\n--- a/bad.c\n+++ b/bad.c\n@@ -1,3 +1,3 @@\nint a;\n-b\n+c\n d\n" +
				"diff --git a/good.c b/good.c\n--- a/good.c\n+++ b/good.c\n@@ -1 +1 @@\n-a\n+b\n",
			// The damaged file keeps its name; the next file still parses.
			[]patchSummary{{Files: []fileSummary{{Path: "bad.c", Dmg: true}, {Path: "good.c", Added: 1, Removed: 1, Hunks: 1}},
				HasID: true, Diffstat: "2 files changed, 1 insertion(+), 1 deletion(-)"},
			}, true},
		{"no patch", "Hello,\n\nI think --- this is fine.\n", nil, false},
		{"quoted patch", "> diff --git a/x b/x\n> --- a/x\n> +++ b/x\n> @@ -1 +1 @@\n> -a\n> +b\n\nNice.\n", nil, false},
		{"prose diff line", "Changes since v1:\ndiff from v1: none\n- dropped\n", nil, false},
		{"pull request without diff", "The following changes since commit " + strings.Repeat("c", 40) + ":\n\n  Linux 6.8 (2024-03-10)\n\nare available in the Git repository at:\n\n  git://git.kernel.dk/linux.git tags/io_uring-6.9\n\n----------------------------------------------------------------\nJens Axboe (1):\n      io_uring: x\n\n io_uring/x.c | 1 +\n 1 file changed, 1 insertion(+)\n", nil, false},
	}
	for _, tt := range tests {
		ps, err := ParsePatches(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: ParsePatches error = %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%s: error %v is not a *ParseError", tt.name, err)
			}
		}
		if diff := cmp.Diff(tt.want, summarize(ps), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: ParsePatches mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDiffstat(t *testing.T) {
	tests := []struct {
		files, added, removed int
		want                  string
	}{
		{0, 0, 0, "0 files changed"},
		{1, 0, 0, "1 file changed, 0 insertions(+), 0 deletions(-)"},
		{1, 1, 0, "1 file changed, 1 insertion(+)"},
		{2, 0, 1, "2 files changed, 1 deletion(-)"},
		{3, 10, 2, "3 files changed, 10 insertions(+), 2 deletions(-)"},
	}
	for _, tt := range tests {
		if got := Diffstat(tt.files, tt.added, tt.removed); got != tt.want {
			t.Errorf("Diffstat(%d, %d, %d) = %q, want %q", tt.files, tt.added, tt.removed, got, tt.want)
		}
	}
}
