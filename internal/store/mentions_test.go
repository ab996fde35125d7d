package store

import (
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
