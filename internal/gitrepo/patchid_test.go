package gitrepo

import (
	"os/exec"
	"strings"
	"testing"
)

// computePatchID feeds text line by line, as LogReader does.
func computePatchID(text string) string { return diffPatchID([]byte(text)) }

// gitPatchIDOf runs `git patch-id --stable` on text and returns the id
// of the first patch, or "".
func gitPatchIDOf(t testing.TB, text string) string {
	t.Helper()
	cmd := exec.Command("git", "patch-id", "--stable")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git patch-id: %v", err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	id, _, _ := strings.Cut(line, " ")
	return id
}

// isOidLine reports whether git patch-id would take line for the start
// of a new commit; the port leaves commit boundaries to its caller.
func isOidLine(line string) bool {
	for _, p := range []string{"commit ", "From "} {
		if rest, ok := strings.CutPrefix(line, p); ok {
			line = rest
			break
		}
	}
	return len(line) >= 40 && isHex(line[:40], 40, 40)
}

var patchIDCases = []struct {
	name, diff string
}{
	{"simple", "diff --git a/f b/f\nindex 1111111..2222222 100644\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
	{"single line hunks", "diff --git a/f b/f\nindex 1111111..2222222 100644\n--- a/f\n+++ b/f\n@@ -5 +5 @@\n-x\n+y\n@@ -9 +9 @@\n-p\n+q\n"},
	{"two files", "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\ndiff --git a/g b/g\n--- a/g\n+++ b/g\n@@ -1,2 +1 @@\n-1\n-2\n+3\n"},
	{"two files swapped", "diff --git a/g b/g\n--- a/g\n+++ b/g\n@@ -1,2 +1 @@\n-1\n-2\n+3\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n"},
	{"whitespace only differs", "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-  x y\n+\tx\ty  \r\n"},
	{"no newline at eof", "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n"},
	{"mode only", "diff --git a/s b/s\nold mode 100644\nnew mode 100755\n"},
	{"pure rename then edit", "diff --git a/a b/b\nsimilarity index 100%\nrename from a\nrename to b\ndiff --git a/c b/c\n--- a/c\n+++ b/c\n@@ -1 +1 @@\n-1\n+2\n"},
	{"binary", "diff --git a/bin b/bin\nindex 0123456..89abcde 100644\nBinary files a/bin and b/bin differ\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n"},
	{"new binary, index without mode", "diff --git a/bin b/bin\nnew file mode 100644\nindex 0000000..89abcde\nBinary files /dev/null and b/bin differ\n"},
	{"message before diff", "Subject: x\n\nbody\n---\n f | 2 +-\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n-- \n2.43.0\n"},
	{"hunk shorter than announced", "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-x\n+y\n"},
	{"garbage after hunk stops the patch", "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n???\ndiff --git a/g b/g\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-1\n+2\n"},
	{"malformed hunk header", "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -a,b +c @@\n-x\n+y\n"},
	{"empty added file", "diff --git a/e b/e\nnew file mode 100644\nindex 0000000..e69de29\n"},
	{"no trailing newline", "diff --git a/f b/f\nindex 1111111..2222222\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y"},
	{"nothing", "just a message\n"},
}

func TestPatchIDMatchesGit(t *testing.T) {
	needGit(t)
	for _, tt := range patchIDCases {
		t.Run(tt.name, func(t *testing.T) {
			want := gitPatchIDOf(t, tt.diff)
			if got := computePatchID(tt.diff); got != want {
				t.Errorf("patch-id = %q, git patch-id --stable = %q", got, want)
			}
		})
	}
	// The stable id ignores file order: the two orders hash alike.
	if a, b := computePatchID(patchIDCases[2].diff), computePatchID(patchIDCases[3].diff); a != b || a == "" {
		t.Errorf("file order changed the patch-id: %q vs %q", a, b)
	}
}

func FuzzPatchID(f *testing.F) {
	for _, tt := range patchIDCases {
		f.Add(tt.diff)
	}
	_, gitErr := exec.LookPath("git")
	f.Fuzz(func(t *testing.T, diff string) {
		got := computePatchID(diff) // must not panic
		if got != "" && len(got) != 40 {
			t.Fatalf("patch-id %q is not 40 hex digits", got)
		}
		if gitErr != nil {
			return
		}
		sawIndex := false
		for _, line := range strings.Split(diff, "\n") {
			if i := strings.IndexByte(line, 0); i >= 0 {
				line = line[:i]
			}
			if isOidLine(line) {
				return // git would start a new commit here; not comparable
			}
			if strings.HasPrefix(line, "index ") && strings.Contains(line, "..") {
				sawIndex = true
			}
			if !sawIndex && (strings.HasPrefix(line, "Binary files") || strings.HasPrefix(line, "GIT binary patch")) {
				return // git would hash uninitialised blob ids; git log always prints an index line first
			}
		}
		if want := gitPatchIDOf(t, diff); got != want {
			t.Fatalf("patch-id(%q) = %q, git patch-id --stable = %q", diff, got, want)
		}
	})
}
