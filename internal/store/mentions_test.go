package store

import (
	"context"
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
