package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSplitMessage(t *testing.T) {
	tests := []struct {
		msg, subject, body string
	}{
		{"subject\n", "subject", ""},
		{"subject", "subject", ""},
		{"subject\n\nbody\n", "subject", "body"},
		{"\n\nsubject  \ncontinued\n\n\nbody 1\n\nbody 2\n\n", "subject continued", "body 1\n\nbody 2"},
		{"", "", ""},
		{"subject\n  \nbody", "subject", "body"},
	}
	for _, tt := range tests {
		s, b := splitMessage(tt.msg)
		if s != tt.subject || b != tt.body {
			t.Errorf("splitMessage(%q) = %q, %q; want %q, %q", tt.msg, s, b, tt.subject, tt.body)
		}
	}
}

func TestUpstreamOf(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		body, want string
	}{
		{"commit " + sha + " upstream.\n\nSigned-off-by: x", sha},
		{"Commit " + strings.ToUpper(sha) + " upstream\n", sha},
		{"[ Upstream commit " + sha + " ]\n", sha},
		{"[upstream commit " + sha + "]", sha},
		{"text\n\n[ Upstream commit " + sha + " ]\n\ncommit fedcba9876543210fedcba9876543210fedcba98 upstream.", sha},
		{"commit " + sha[:12] + " upstream.", ""},     // abbreviated: not the stable form
		{"This reverts commit " + sha + ".", ""},      // not a backport
		{"commit " + sha + " was upstream later", ""}, // wrong order of words
		{"", ""},
	}
	for _, tt := range tests {
		if got := UpstreamOf(tt.body); got != tt.want {
			t.Errorf("UpstreamOf(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestRevertOf(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		subject, body string
		sha           string
		ok            bool
	}{
		{`Revert "io_uring: x"`, "This reverts commit " + sha + ".\n", sha, true},
		{`Revert "Revert "x""`, "This reverts commit " + strings.ToUpper(sha) + ".", sha, true},
		{`io_uring: undo x`, "This reverts commit 0123456789ab, it broke y.", "0123456789ab", true},
		{`Revert "x"`, "No sha given.", "", true},
		{`io_uring: fix`, "Fixes: " + sha, "", false},
		{`Reverted behaviour`, "", "", false},
	}
	for _, tt := range tests {
		sha, ok := RevertOf(tt.subject, tt.body)
		if sha != tt.sha || ok != tt.ok {
			t.Errorf("RevertOf(%q, %q) = %q, %v; want %q, %v", tt.subject, tt.body, sha, ok, tt.sha, tt.ok)
		}
	}
}

func TestSplitGitHeader(t *testing.T) {
	tests := []struct {
		in, old, new string
	}{
		{"a/f b/f", "f", "f"},
		{"a/dir/with space.txt b/dir/with space.txt", "dir/with space.txt", "dir/with space.txt"},
		{"a/x b/y b/x b/y", "x b/y", "x b/y"},
		{`"a/\303\274.txt" "b/\303\274.txt"`, "ü.txt", "ü.txt"},
		{`"a/tab\there" b/plain`, "tab\there", "plain"},
		{"a/old b/new", "old", "new"},
	}
	for _, tt := range tests {
		o, n := splitGitHeader([]byte(tt.in))
		if o != tt.old || n != tt.new {
			t.Errorf("splitGitHeader(%q) = %q, %q; want %q, %q", tt.in, o, n, tt.old, tt.new)
		}
	}
}

func TestUnquoteC(t *testing.T) {
	tests := []struct {
		in, want string
		n        int
		ok       bool
	}{
		{`"abc" rest`, "abc", 5, true},
		{`"\a\b\t\n\v\f\r\"\\"`, "\a\b\t\n\v\f\r\"\\", 20, true},
		{`"\303\274"`, "ü", 10, true},
		{`"unterminated`, "", 0, false},
		{`"bad \q"`, "", 0, false},
		{`"short \30"`, "", 0, false},
		{`plain`, "", 0, false},
	}
	for _, tt := range tests {
		got, n, ok := unquoteC([]byte(tt.in))
		if got != tt.want || n != tt.n || ok != tt.ok {
			t.Errorf("unquoteC(%q) = %q, %d, %v; want %q, %d, %v", tt.in, got, n, ok, tt.want, tt.n, tt.ok)
		}
	}
}

func TestParseRawDate(t *testing.T) {
	tests := []struct {
		in      string
		unix    int64
		offset  int
		wantErr bool
	}{
		{"1700000000 +0200", 1700000000, 7200, false},
		{"1700000000 -0530", 1700000000, -(5*3600 + 30*60), false},
		{"0 +0000", 0, 0, false},
		{"1700000000 bogus", 1700000000, 0, false},
		{"x +0000", 0, 0, true},
	}
	for _, tt := range tests {
		got, err := parseRawDate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseRawDate(%q) error = %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if _, off := got.Zone(); got.Unix() != tt.unix || off != tt.offset {
			t.Errorf("parseRawDate(%q) = %v (offset %d), want %d at offset %d", tt.in, got, off, tt.unix, tt.offset)
		}
	}
}

// streamReader is a LogReader over canned git output, without a process.
func streamReader(out string, withDiff bool) *LogReader {
	return &LogReader{
		ctx:  context.Background(),
		opts: (&LogOptions{WithDiff: withDiff}).withDefaults(),
		br:   bufio.NewReaderSize(strings.NewReader(out), 16), // tiny: exercises long lines
	}
}

func TestReadCommitStream(t *testing.T) {
	const a, b = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	out := "\x00" + a + " " + b + "\nAnn\nann@x\n1700000000 +0100\nCid\ncid@x\n1700000060 +0100\nsubject\n\nbody line that is longer than sixteen bytes\n\x00\n\n" +
		"diff --git a/one b/one\nindex 1..2 100644\n--- a/one\n+++ b/one\n@@ -1,2 +1,2 @@\n--- not a header\n+++ not a header either\n" +
		"diff --git a/old name b/new name\nsimilarity index 90%\nrename from old name\nrename to new name\n--- a/old name\t\n+++ b/new name\t\n@@ -1 +1,2 @@\n x\n+y\n" +
		"\x00" + b + "\nAnn\nann@x\n1600000000 +0000\nCid\ncid@x\n1600000000 +0000\nroot\n\x00\n"
	r := streamReader(out, true)
	c1, _, err := r.readCommit()
	if err != nil {
		t.Fatal(err)
	}
	want := &Commit{
		SHA: a, Parents: []string{b},
		AuthorName: "Ann", AuthorEmail: "ann@x", AuthorDate: time.Unix(1700000000, 0),
		CommitterName: "Cid", CommitterEmail: "cid@x", CommitDate: time.Unix(1700000060, 0),
		Subject: "subject", Body: "body line that is longer than sixteen bytes",
		Files: []FileChange{
			{Status: 'M', Path: "one", Added: 1, Removed: 1},
			{Status: 'R', OldPath: "old name", Path: "new name", Added: 1},
		},
		PatchID: computePatchID(out[strings.Index(out, "diff --git"):strings.LastIndex(out, "\x00"+b)]),
		Diff:    "--- not a header\n+++ not a header either\n+y\n",
	}
	if diff := cmp.Diff(want, c1, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
		t.Errorf("first commit (-want +got):\n%s", diff)
	}
	if _, off := c1.AuthorDate.Zone(); off != 3600 {
		t.Errorf("AuthorDate offset = %d, want 3600", off)
	}
	c2, _, err := r.readCommit()
	if err != nil {
		t.Fatal(err)
	}
	if c2.SHA != b || len(c2.Parents) != 0 || c2.PatchID != "" || len(c2.Files) != 0 {
		t.Errorf("second commit = %+v", c2)
	}
	if _, _, err := r.readCommit(); err != io.EOF {
		t.Errorf("after last commit: %v, want io.EOF", err)
	}
}

func TestReadCommitMalformed(t *testing.T) {
	sha := strings.Repeat("1", 40)
	tests := []struct {
		out  string
		want error
	}{
		{"garbage", ErrMalformedOutput},
		{"\x00" + sha + "\nno closing NUL: git died", io.ErrUnexpectedEOF},
		{"\x00" + sha + "\nonly two lines\x00", ErrMalformedOutput},
		{"\x00not-a-sha\na\nb\n1 +0000\nc\nd\n1 +0000\nmsg\x00", ErrMalformedOutput},
		{"\x00" + sha + "\na\nb\nnot a date\nc\nd\n1 +0000\nmsg\x00", ErrMalformedOutput},
	}
	for _, tt := range tests {
		if _, _, err := streamReader(tt.out, false).readCommit(); !errors.Is(err, tt.want) {
			t.Errorf("readCommit(%q) error = %v, want %v", tt.out, err, tt.want)
		}
	}
}

func FuzzReadCommits(f *testing.F) {
	const a = "1111111111111111111111111111111111111111"
	f.Add("\x00" + a + "\nA\na@x\n1 +0000\nC\nc@x\n2 +0000\ns\n\nb\n\x00\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n")
	f.Add("\x00" + a + "\nA\na@x\n1 +0000\nC\nc@x\n2 +0000\ns\x00\n\ndiff --git \"a/\\303\" b/g\nrename from x\n@@ -0,0 +1,3 @@\n+\n")
	f.Fuzz(func(t *testing.T, out string) {
		r := streamReader(out, true)
		for range 100 {
			c, _, err := r.readCommit()
			if err != nil {
				return
			}
			for _, fc := range c.Files {
				if fc.Added < 0 || fc.Removed < 0 {
					t.Fatalf("negative counts: %+v", fc)
				}
			}
			if len(c.Diff) > r.opts.MaxDiffBytes {
				t.Fatalf("Diff longer than the cap: %d", len(c.Diff))
			}
		}
	})
}
