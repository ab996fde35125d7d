package store

import (
	"context"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMentionTerms(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Re: CVE-2024-41001: io_uring/sqpoll: work around", []string{"CVE-2024-41001"}},
		{"see cve-2020-29373 and CVE-2020-29373, not CVE-20-1", []string{"CVE-2020-29373"}},
		{"The patch 5cf4f52e6d8a: \"io_uring: free io_buffer_list entries via RCU\" from Mar 14", []string{"5cf4f52e6d8a"}},
		{"Fixes: 5CF4F52E6D8A5CF4 (\"io_uring: free ...\")", []string{"5cf4f52e6d8a"}},
		{"The issue was bisected to:\n\ncommit 0091bfc817416ca7e7b1fc9e5a4e1a7ea9a7f6b1\nAuthor:", []string{"0091bfc81741"}},
		{"index da8fd460977b..3a3e4fca1545 100644", nil}, // blob ids are no commits
		{"plain text", nil},
	} {
		if diff := cmp.Diff(c.want, MentionTerms(c.text)); diff != "" {
			t.Errorf("MentionTerms(%q) (-want +got):\n%s", c.text, diff)
		}
	}
}

// TestFillMentions: a store written before the mentions table fills it
// from its raw messages when next opened for writing, quoted lines left
// out.
func TestFillMentions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(body string) []byte { return s.Compress([]byte("Subject: x\n\n" + body)) }
	m1 := msg("a", []string{"1@x"})
	m1.Raw = raw("Re: CVE-2024-41001 is fixed by commit 0123456789abcdef\n")
	m2 := msg("b", []string{"2@x"})
	m2.Raw = raw("> CVE-2024-41001 quoted only\nthanks\n")
	add(t, s, "a", m1, m2)
	if _, err := s.db.ExecContext(ctx, `DROP TABLE mentions`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for term, want := range map[string][]string{"cve-2024-41001": {"1@x"}, "0123456789abcdef00": {"1@x"}, "0123456789ab": {"1@x"}, "CVE-2024-1": nil} {
		ms, err := s.MessagesMentioning(ctx, term)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.MessageID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("MessagesMentioning(%q) (-want +got):\n%s", term, diff)
		}
	}
}

// commitMentionRE is the regular expression commitMentions reads words
// for: the oracle of TestCommitMentionsAsRegexp.
var commitMentionRE = regexp.MustCompile(`(?i)\b(?:commit|patch)\s+([0-9a-f]{12,40})\b|\b([0-9a-f]{12,40})\s+\(["“]`)

func regexpMentions(text string) []string {
	var out []string
	for _, m := range commitMentionRE.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

func scannedMentions(text string) []string {
	var out []string
	commitMentions(text, func(id string) { out = append(out, id) })
	return out
}

var mentionSeeds = []string{
	"commit 0123456789ab",
	"Commit\n\t0123456789abcdef0123456789abcdef01234567 upstream",
	"commit 0123456789abcdef0123456789abcdef012345678 (41 digits)",
	"commit 0123456789a (11)",
	"xcommit 0123456789ab",
	"commit0123456789ab",
	"commit 0123456789abg",
	"commit _0123456789ab",
	"patch commit 0123456789ab",
	"PATCH  0123456789AB: x",
	"Fixes: 0123456789ab (\"foo: bar\")",
	"Fixes: 0123456789ab  (“foo”)",
	"0123456789ab(\"no space\")",
	"0123456789ab ( \"space\")",
	"commit 0123456789ab (\"both\") 0123456789cd (\"next\")",
	"0x0123456789abcdef (\"hex literal\")",
	"é0123456789ab (\"after a non-ASCII letter\")",
	"commit\u00a00123456789ab",
	"commit 0123456789ab\u00e9",
	"commit \v0123456789ab",
	"",
}

// The word scanner finds what the regular expression found, in order.
func TestCommitMentionsAsRegexp(t *testing.T) {
	for _, s := range mentionSeeds {
		if diff := cmp.Diff(regexpMentions(s), scannedMentions(s)); diff != "" {
			t.Errorf("commitMentions(%q) (-regexp +scanner):\n%s", s, diff)
		}
	}
}

func FuzzCommitMentions(f *testing.F) {
	for _, s := range mentionSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if diff := cmp.Diff(regexpMentions(s), scannedMentions(s)); diff != "" {
			t.Errorf("commitMentions(%q) (-regexp +scanner):\n%s", s, diff)
		}
	})
}

func TestHasCVE(t *testing.T) {
	for s, want := range map[string]bool{"CVE-2024-1": true, "a cve-": true, "cVe-x": true, "CVE": false, "-cve": false, "": false, "xx-cv-e-": false, "--CVE--": true} {
		if got := hasCVE(s); got != want {
			t.Errorf("hasCVE(%q) = %v, want %v", s, got, want)
		}
	}
}
