package patch

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitEnv isolates git from the user's and system's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+home,
		"GIT_AUTHOR_NAME=A U Thor", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=C O Mitter", "GIT_COMMITTER_EMAIL=committer@example.com",
		"GIT_AUTHOR_DATE=2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z")
}

func runGit(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(dir)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}

// ourPatchIDOutput formats PatchIDs the way git patch-id prints them.
func ourPatchIDOutput(text string) string {
	var b strings.Builder
	for _, r := range PatchIDs(text) {
		fmt.Fprintf(&b, "%s %s\n", r.PatchID, r.Commit)
	}
	return b.String()
}

// checkAgainstGit compares our output with `git patch-id --stable` for
// one input.
func checkAgainstGit(t *testing.T, name, text string) {
	t.Helper()
	want := runGit(t, t.TempDir(), text, "patch-id", "--stable")
	if got := ourPatchIDOutput(text); got != want {
		t.Errorf("%s: PatchIDs =\n%s\ngit patch-id --stable =\n%s\ninput:\n%s", name, got, want, text)
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func lines(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s line %d\n", prefix, i)
	}
	return b.String()
}

// TestPatchIDGeneratedDiffs builds a repository whose commits cover the
// shapes of diff git produces and checks each rendering against git.
func TestPatchIDGeneratedDiffs(t *testing.T) {
	needGit(t)
	dir := t.TempDir()
	runGit(t, dir, "", "init", "-q", "-b", "main")
	p := func(name string) string { return filepath.Join(dir, name) }
	commit := func(msg string) string {
		runGit(t, dir, "", "add", "-A")
		runGit(t, dir, "", "commit", "-q", "-m", msg)
		return strings.TrimSpace(runGit(t, dir, "", "rev-parse", "HEAD"))
	}

	writeFile(t, p("a.txt"), lines("a", 30), 0o644)
	writeFile(t, p("b.txt"), lines("b", 30), 0o644)
	writeFile(t, p("tab.c"), "int main(void)\n{\n\treturn 0;\n}\n", 0o644)
	writeFile(t, p("blob.bin"), "\x00\x01\x02binary\x00data\n", 0o644)
	writeFile(t, p("run.sh"), "#!/bin/sh\necho hi\n", 0o644)
	writeFile(t, p("noeol.txt"), "one\ntwo", 0o644)
	commit("base")

	var commits []string
	// Two files, several hunks.
	writeFile(t, p("a.txt"), strings.Replace(strings.Replace(lines("a", 30), "a line 3\n", "a line three\n", 1), "a line 27\n", "", 1), 0o644)
	writeFile(t, p("b.txt"), lines("b", 30)+"b added\n", 0o644)
	commits = append(commits, commit("io_uring: two files\n\nBody.\n\nSigned-off-by: A <a@example.com>"))
	// Rename with a change, new file, deleted file.
	if err := os.Rename(p("b.txt"), p("renamed.txt")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p("renamed.txt"), lines("b", 30)+"b added\nafter rename\n", 0o644)
	writeFile(t, p("new.txt"), "fresh\n", 0o644)
	if err := os.Remove(p("tab.c")); err != nil {
		t.Fatal(err)
	}
	commits = append(commits, commit("rename, new, delete"))
	// Pure rename.
	if err := os.Rename(p("renamed.txt"), p("pure.txt")); err != nil {
		t.Fatal(err)
	}
	commits = append(commits, commit("pure rename"))
	// Mode change only, then mode and content.
	writeFile(t, p("run.sh"), "#!/bin/sh\necho hi\n", 0o755)
	commits = append(commits, commit("mode only"))
	writeFile(t, p("run.sh"), "#!/bin/sh\necho hello\n", 0o644)
	writeFile(t, p("a.txt"), lines("a", 31), 0o644)
	commits = append(commits, commit("mode and content"))
	// Binary change and a text change.
	writeFile(t, p("blob.bin"), "\x00\x01\x02binary\x00changed\n", 0o644)
	writeFile(t, p("new.txt"), "fresh\nand more\n", 0o644)
	commits = append(commits, commit("binary"))
	// No newline at end of file, whitespace-only change.
	writeFile(t, p("noeol.txt"), "one\ntwo\nthree", 0o644)
	writeFile(t, p("a.txt"), strings.Replace(lines("a", 31), "a line 10\n", "a  line\t10 \n", 1), 0o644)
	commits = append(commits, commit("noeol and whitespace"))
	// A copy.
	writeFile(t, p("copy.txt"), lines("a", 31)+"copied\n", 0o644)
	commits = append(commits, commit("copy"))
	// Empty new file and a deleted binary.
	writeFile(t, p("empty.txt"), "", 0o644)
	if err := os.Remove(p("blob.bin")); err != nil {
		t.Fatal(err)
	}
	commits = append(commits, commit("empty and delete binary"))

	renderings := [][]string{
		{"format-patch", "-1", "--stdout"},
		{"format-patch", "-1", "--stdout", "--binary"},
		{"format-patch", "-1", "--stdout", "-M", "-C", "--find-copies-harder"},
		{"show", "--format=medium"},
		{"show", "--format=email", "--no-renames", "--binary"},
		{"diff-tree", "-p", "-r", "--root"},
		{"log", "-p", "-1", "-U1"},
		{"log", "-p", "-1", "-U0", "--full-index"},
	}
	var all strings.Builder
	for i, c := range commits {
		for _, r := range renderings {
			args := append(append([]string{}, r...), c)
			out := runGit(t, dir, "", args...)
			checkAgainstGit(t, fmt.Sprintf("commit %d, git %s", i, strings.Join(r, " ")), out)
			all.WriteString(out)
		}
	}
	// All of them in one stream, as git log -p | git patch-id reads them.
	checkAgainstGit(t, "all commits in one stream", all.String())
	checkAgainstGit(t, "git log -p", runGit(t, dir, "", "log", "-p", "--binary"))
	checkAgainstGit(t, "format-patch of the range", runGit(t, dir, "", "format-patch", "--stdout", "--root", "main"))

	// --stable ignores file order: the diff of the first commit with its
	// two files swapped has the same id, from git and from us.
	orderFile := filepath.Join(t.TempDir(), "order")
	writeFile(t, orderFile, "b.txt\na.txt\n", 0o644)
	fwd := runGit(t, dir, "", "diff", commits[0]+"^", commits[0])
	rev := runGit(t, dir, "", "diff", "-O"+orderFile, commits[0]+"^", commits[0])
	if strings.Index(fwd, "a/a.txt") > strings.Index(fwd, "a/b.txt") || strings.Index(rev, "a/a.txt") < strings.Index(rev, "a/b.txt") {
		t.Fatalf("order file not applied:\n%s\n%s", fwd, rev)
	}
	checkAgainstGit(t, "swapped", rev)
	idFwd, err1 := PatchID(fwd)
	idRev, err2 := PatchID(rev)
	if err1 != nil || err2 != nil || idFwd != idRev {
		t.Errorf("PatchID in file order %s (%v), swapped %s (%v); want equal", idFwd, err1, idRev, err2)
	}
}

// TestPatchIDQuirks feeds git's parser its odd corners and compares.
func TestPatchIDQuirks(t *testing.T) {
	needGit(t)
	const hdr = "diff --git a/f.c b/f.c\nindex 1234567..89abcde 100644\n--- a/f.c\n+++ b/f.c\n"
	const body = "@@ -1,3 +1,3 @@ int f(void)\n a\n-b\n+c\n d\n"
	tests := map[string]string{
		"plain":                  hdr + body,
		"crlf":                   strings.ReplaceAll(hdr+body, "\n", "\r\n"),
		"vertical tab, formfeed": hdr + "@@ -1,3 +1,3 @@\n a\v\n-b\f\n+c\n d\n",
		"nul in line":            hdr + "@@ -1,3 +1,3 @@\n a\x00zzz\n-b\n+c\n d\n",
		"no final newline":       hdr + "@@ -1,3 +1,3 @@\n a\n-b\n+c\n d",
		"no newline marker":      hdr + "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
		"short backslash line":   hdr + "@@ -1,2 +1,2 @@\n a\n-b\n\\ short\n+c\n",
		"counts without commas":  hdr + "@@ -1 +1 @@\n-b\n+c\n",
		"huge counts":            hdr + "@@ -1,99999999999999999999 +1,4294967297 @@\n-b\n+c\n",
		"bad hunk header":        hdr + "@@ -x +1 @@\n-b\n+c\n",
		"space after comma":      hdr + "@@ -1, 2 +1,2 @@\n-b\n+c\n a\n",
		"miscounted hunk":        hdr + "@@ -1,2 +1,2 @@\n-b\n+c\n+extra\n a\nmore text\n",
		"signature":              hdr + body + "-- \n2.43.0\n",
		"text then second patch": hdr + body + "\nsome words\n\n" + strings.ReplaceAll(hdr, "f.c", "g.c") + body,
		"prose diff line":        "Changes:\ndiff from v1: fixed\n- dropped a thing\n",
		"binary without index":   "diff --git a/x.bin b/x.bin\nBinary files a/x.bin and b/x.bin differ\n",
		"binary then text":       "diff --git a/x.bin b/x.bin\nindex 0000001..0000002 100644\nGIT binary patch\nliteral 3\nKcmZ>9\n\nliteral 0\nKcmV+b0RR6000031\n\n" + hdr + body,
		"index without dots":     "diff --git a/x.bin b/x.bin\nindex abcdef\nBinary files differ\n",
		"index at eof":           "diff --git a/x.bin b/x.bin\nBinary files differ\ndiff --git a/y b/y\nindex 12..34",
		"commit headers":         "commit " + strings.Repeat("ab", 20) + "\n\n    msg\n\n" + hdr + body + "commit " + strings.Repeat("CD", 20) + "\n" + hdr + body,
		"from header":            "From " + strings.Repeat("12", 20) + " Mon Sep 17 00:00:00 2001\nSubject: x\n\n---\n" + hdr + body,
		"bare oid line in body":  hdr + body + strings.Repeat("0", 40) + " other\n" + hdr + body,
		"oid line in message":    "Fixes:\n" + strings.Repeat("e", 40) + " (\"x\")\n\n" + hdr + body,
		"header-only diffs":      "diff --git a/m b/m\nold mode 100644\nnew mode 100755\ndiff --git a/r b/s\nsimilarity index 100%\nrename from r\nrename to s\n" + hdr + body,
		"empty":                  "",
		"just diff":              "diff ",
		"high bytes":             hdr + "@@ -1,2 +1,2 @@\n \xa0\xff\n-\xc3\xa9\n+\xe2\x80\x83x\n",
		"no-op hunk end":         hdr + "@@ -0,0 +1 @@\n+x\n@@ -5,0 +6,0 @@\n\n",
	}
	for name, in := range tests {
		checkAgainstGit(t, name, in)
	}
}

func TestPatchIDErrNoPatch(t *testing.T) {
	for _, in := range []string{"", "hello\n", "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n"} {
		if id, err := PatchID(in); err != ErrNoPatch {
			t.Errorf("PatchID(%q) = %q, %v; want ErrNoPatch", in, id, err)
		}
	}
}

func TestPatchIDRanges(t *testing.T) {
	msg := "Subject: x\n\nmessage\n---\n f | 2 +-\n\n"
	diff := "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"
	text := msg + diff + "-- \n2.43.0\n"
	rs := PatchIDs(text)
	if len(rs) != 1 {
		t.Fatalf("PatchIDs = %v, want one", rs)
	}
	if got := text[rs[0].Start:rs[0].End]; got != diff {
		t.Errorf("range = %q, want %q", got, diff)
	}
}
