package patch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseBodyTrailersKeys(t *testing.T) {
	body := `io_uring: fix the thing

The thing was broken.

Fixes: 0123456789ab ("io_uring: add the thing")
Reported-by: syzbot+abc123@syzkaller.appspotmail.com
Closes: https://lore.kernel.org/io-uring/0000000000001234abcd@google.com/T/#u
Suggested-by: "Last, First" <first.last@example.com>
Co-developed-by: Dev Eloper <dev@example.com>
Signed-off-by: Dev Eloper <dev@example.com>
Cc: stable@vger.kernel.org # 5.10+
Cc: <stable@vger.kernel.org> # v6.1: 1234abcd: prep
Link: https://lore.kernel.org/r/20240101123456.1234-1-dev@example.com
Link: https://patch.msgid.link/20240102.abc%2Bdef@example.com
Link: https://lore.kernel.org/io-uring/20240103-topic-v2-1-abc@kernel.dk/
Link: https://lkml.kernel.org/r/<20240104.1@x.org>
Message-ID: <20240105.42@example.org>
Reviewed-by: Re Viewer <rev@example.com>
Acked-by: Ack Er <ack@example.com>
Tested-by: Test Er <test@example.com> # on arm64
Nacked-by: Nack Er <nack@example.com>
Signed-off-by: Jens Axboe <axboe@kernel.dk>
---
 io_uring/x.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/io_uring/x.c b/io_uring/x.c
--- a/io_uring/x.c
+++ b/io_uring/x.c
@@ -1 +1 @@
-a
+b

base-commit: 0123456789abcdef0123456789abcdef01234567
change-id: 20240101-topic-abcdef
prerequisite-change-id: 20231201-prep-123456:v2

Best regards,
-- 
Dev Eloper <dev@example.com>
`
	want := []Trailer{
		{Key: "Fixes", Value: `0123456789ab ("io_uring: add the thing")`, SHA: "0123456789ab", Title: "io_uring: add the thing"},
		{Key: "Reported-by", Value: "syzbot+abc123@syzkaller.appspotmail.com", Email: "syzbot+abc123@syzkaller.appspotmail.com"},
		{Key: "Closes", Value: "https://lore.kernel.org/io-uring/0000000000001234abcd@google.com/T/#u",
			URL: "https://lore.kernel.org/io-uring/0000000000001234abcd@google.com/T/#u", MessageID: "0000000000001234abcd@google.com"},
		{Key: "Suggested-by", Value: `"Last, First" <first.last@example.com>`, Name: "Last, First", Email: "first.last@example.com"},
		{Key: "Co-developed-by", Value: "Dev Eloper <dev@example.com>", Name: "Dev Eloper", Email: "dev@example.com"},
		{Key: "Signed-off-by", Value: "Dev Eloper <dev@example.com>", Name: "Dev Eloper", Email: "dev@example.com"},
		{Key: "Cc", Value: "stable@vger.kernel.org # 5.10+", Email: "stable@vger.kernel.org", Comment: "5.10+"},
		{Key: "Cc", Value: "<stable@vger.kernel.org> # v6.1: 1234abcd: prep", Email: "stable@vger.kernel.org", Comment: "v6.1: 1234abcd: prep"},
		{Key: "Link", Value: "https://lore.kernel.org/r/20240101123456.1234-1-dev@example.com",
			URL: "https://lore.kernel.org/r/20240101123456.1234-1-dev@example.com", MessageID: "20240101123456.1234-1-dev@example.com"},
		{Key: "Link", Value: "https://patch.msgid.link/20240102.abc%2Bdef@example.com",
			URL: "https://patch.msgid.link/20240102.abc%2Bdef@example.com", MessageID: "20240102.abc+def@example.com"},
		{Key: "Link", Value: "https://lore.kernel.org/io-uring/20240103-topic-v2-1-abc@kernel.dk/",
			URL: "https://lore.kernel.org/io-uring/20240103-topic-v2-1-abc@kernel.dk/", MessageID: "20240103-topic-v2-1-abc@kernel.dk"},
		{Key: "Link", Value: "https://lkml.kernel.org/r/<20240104.1@x.org>",
			URL: "https://lkml.kernel.org/r/<20240104.1@x.org>", MessageID: "20240104.1@x.org"},
		{Key: "Message-ID", Value: "<20240105.42@example.org>", MessageID: "20240105.42@example.org"},
		{Key: "Reviewed-by", Value: "Re Viewer <rev@example.com>", Name: "Re Viewer", Email: "rev@example.com"},
		{Key: "Acked-by", Value: "Ack Er <ack@example.com>", Name: "Ack Er", Email: "ack@example.com"},
		{Key: "Tested-by", Value: "Test Er <test@example.com> # on arm64", Name: "Test Er", Email: "test@example.com", Comment: "on arm64"},
		{Key: "Nacked-by", Value: "Nack Er <nack@example.com>", Name: "Nack Er", Email: "nack@example.com"},
		{Key: "Signed-off-by", Value: "Jens Axboe <axboe@kernel.dk>", Name: "Jens Axboe", Email: "axboe@kernel.dk"},
		{Key: "base-commit", Value: "0123456789abcdef0123456789abcdef01234567", SHA: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "change-id", Value: "20240101-topic-abcdef"},
		{Key: "prerequisite-change-id", Value: "20231201-prep-123456:v2"},
	}
	got := ParseBodyTrailers(body)
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ParseBodyTrailers mismatch (-want +got):\n%s", diff)
	}
	// The same with CRLF line ends.
	got = ParseBodyTrailers(strings.ReplaceAll(body, "\n", "\r\n"))
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ParseBodyTrailers (CRLF) mismatch (-want +got):\n%s", diff)
	}
}

// keyValues renders trailers as `git interpret-trailers --parse` does.
func keyValues(ts []Trailer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key+": "+t.Value)
	}
	return out
}

// trailerCases are commit messages exercising git's trailer rules.
var trailerCases = map[string]struct {
	msg  string
	want []string
}{
	"all trailers":          {"title\n\nbody\n\nA-b: x\nC: y\n", []string{"A-b: x", "C: y"}},
	"only last paragraph":   {"title\n\nFoo: not\n\nbody\n\nBar: yes\n", []string{"Bar: yes"}},
	"title is not trailers": {"Subject: looks like one\n", nil},
	"title then trailers":   {"Subject: x\n\nSigned-off-by: A <a@b>\n", []string{"Signed-off-by: A <a@b>"}},
	"25 percent with sob":   {"t\n\nsome text\nmore text\nthird line\nSigned-off-by: A <a@b>\n", []string{"Signed-off-by: A <a@b>"}},
	"below 25 percent":      {"t\n\none\ntwo\nthree\nfour\nSigned-off-by: A <a@b>\n", nil},
	"non-trailer needs sob": {"t\n\nsome text\nReviewed-by: A <a@b>\n", nil},
	"continuation": {"t\n\nLink: https://example.com/\n  continued here\nSigned-off-by: A <a@b>\n",
		[]string{"Link: https://example.com/ continued here", "Signed-off-by: A <a@b>"}},
	"no divider in commits":      {"t\n\nbody\n\nAcked-by: A <a@b>\n---\nNot-a: trailer\n", nil},
	"divider line in block":      {"t\n\nbody\n\nAcked-by: A <a@b>\n---\nSigned-off-by: B <b@c>\n", []string{"Acked-by: A <a@b>", "Signed-off-by: B <b@c>"}},
	"trailing blank and comment": {"t\n\nbody\n\nAcked-by: A <a@b>\n\n# comment\n\n", []string{"Acked-by: A <a@b>"}},
	"comment in block":           {"t\n\nAcked-by: A <a@b>\n# note\nCc: c@d\n", []string{"Acked-by: A <a@b>", "Cc: c@d"}},
	"spaces before colon":        {"t\n\nFixes : abc (\"x\")\nKey\t: v\n", []string{"Fixes: abc (\"x\")", "Key: v"}},
	"cherry picked":              {"t\n\ntext\n(cherry picked from commit abc)\nSigned-off-by: A <a@b>\n", []string{"Signed-off-by: A <a@b>"}},
	"url line counts":            {"t\n\nhttps://example.com/x\n", []string{"https: //example.com/x"}},
	"no trailers":                {"t\n\njust a body\n", nil},
	"empty":                      {"", nil},
	"blank paragraph only":       {"t\n\n   \n\n", nil},
	"crlf":                       {"t\r\n\r\nAcked-by: A <a@b>\r\n", []string{"Acked-by: A <a@b>"}},
}

func TestParseTrailersRules(t *testing.T) {
	for name, tc := range trailerCases {
		got := keyValues(ParseTrailers(tc.msg))
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: ParseTrailers(%q) mismatch (-want +got):\n%s", name, tc.msg, diff)
		}
	}
}

// TestParseTrailersGit checks the rule cases against git itself (commit
// messages have no "---" divider, as in git log --format=%(trailers)).
func TestParseTrailersGit(t *testing.T) {
	needGit(t)
	dir := t.TempDir()
	for name, tc := range trailerCases {
		if name == "crlf" {
			continue // git keeps the \r in values
		}
		out := runGit(t, dir, tc.msg, "interpret-trailers", "--parse", "--no-divider")
		var want []string
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if l != "" {
				want = append(want, l)
			}
		}
		got := keyValues(ParseTrailers(tc.msg))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: ParseTrailers(%q) differs from git interpret-trailers --parse (-git +ours):\n%s", name, tc.msg, diff)
		}
	}
}

func TestParseBodyTrailersDivider(t *testing.T) {
	got := keyValues(ParseBodyTrailers("body\n\nAcked-by: A <a@b>\n---\nNot-a: trailer\n"))
	if diff := cmp.Diff([]string{"Acked-by: A <a@b>"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	// "----" is not a divider: the last paragraph is then not all trailers.
	got = keyValues(ParseBodyTrailers("body\n\nAcked-by: A <a@b>\n----\nCc: c@d\n"))
	if len(got) != 0 {
		t.Errorf("ParseBodyTrailers with a ---- line = %v, want none", got)
	}
}

func TestParseBodyTrailersNoTitle(t *testing.T) {
	// A mail body whose only paragraph is the trailers (the title is the
	// Subject header).
	got := keyValues(ParseBodyTrailers("Signed-off-by: A <a@b>\n---\n f | 1 +\n"))
	if diff := cmp.Diff([]string{"Signed-off-by: A <a@b>"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	// The same text as a commit message is all title.
	if got := ParseTrailers("Signed-off-by: A <a@b>\n"); len(got) != 0 {
		t.Errorf("ParseTrailers(title only) = %v, want none", got)
	}
}

func TestNewTrailerValues(t *testing.T) {
	tests := []struct {
		key, value string
		want       Trailer
	}{
		{"Fixes", `abcdef123456 ("io_uring: fix "quoted" (nested) title")`,
			Trailer{SHA: "abcdef123456", Title: `io_uring: fix "quoted" (nested) title`}},
		{"Fixes", "commit ABCDEF123456 (io_uring: no quotes)", Trailer{SHA: "abcdef123456", Title: "io_uring: no quotes"}},
		{"Fixes", "abcdef1234567890", Trailer{SHA: "abcdef1234567890"}},
		{"Fixes", "not a sha", Trailer{Title: "not a sha"}},
		{"Reviewed-by", "Name Only", Trailer{Name: "Name Only"}},
		{"Reviewed-by", "plain@example.com", Trailer{Email: "plain@example.com"}},
		{"Acked-by", "Name plain@example.com", Trailer{Name: "Name", Email: "plain@example.com"}},
		{"Tested-by", `"Quoted \"Nick\" Name" <q@example.com> [backport]`, Trailer{Name: `Quoted "Nick" Name`, Email: "q@example.com"}},
		{"Cc", "stable@vger.kernel.org#5.4", Trailer{Email: "stable@vger.kernel.org", Comment: "5.4"}},
		{"Link", "https://lore.kernel.org/all/CAHk-=wg@mail.gmail.com/", Trailer{URL: "https://lore.kernel.org/all/CAHk-=wg@mail.gmail.com/", MessageID: "CAHk-=wg@mail.gmail.com"}},
		{"Link", "https://lore.kernel.org/io-uring/abc%40def/raw", Trailer{URL: "https://lore.kernel.org/io-uring/abc%40def/raw", MessageID: "abc@def"}},
		{"Link", "https://lore.kernel.org/r/no-at-sign.id", Trailer{URL: "https://lore.kernel.org/r/no-at-sign.id", MessageID: "no-at-sign.id"}},
		{"Link", "https://msgid.link/r/x@y", Trailer{URL: "https://msgid.link/r/x@y", MessageID: "x@y"}},
		{"Link", "https://lore.kernel.org/io-uring/", Trailer{URL: "https://lore.kernel.org/io-uring/"}},
		{"Link", "https://github.com/axboe/liburing/issues/1 # bug", Trailer{URL: "https://github.com/axboe/liburing/issues/1", Comment: "bug"}},
		{"Link", "https://bugzilla.kernel.org/show_bug.cgi?id=1@2", Trailer{URL: "https://bugzilla.kernel.org/show_bug.cgi?id=1@2"}},
		{"Closes", "https://syzkaller.appspot.com/bug?extid=1234", Trailer{URL: "https://syzkaller.appspot.com/bug?extid=1234"}},
		{"Message-Id", "20240101.1@x", Trailer{MessageID: "20240101.1@x"}},
		{"base-commit", "auto", Trailer{}},
		{"Link", "<https://lore.kernel.org/r/a@b>", Trailer{URL: "https://lore.kernel.org/r/a@b", MessageID: "a@b"}},
		{"Link", "see the thread", Trailer{}},
	}
	for _, tt := range tests {
		got := NewTrailer(tt.key, tt.value)
		tt.want.Key, tt.want.Value = tt.key, tt.value
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("NewTrailer(%q, %q) mismatch (-want +got):\n%s", tt.key, tt.value, diff)
		}
	}
}

func TestFindReplyTrailers(t *testing.T) {
	text := `On Mon, Jan 1, 2024, Dev wrote:
> Signed-off-by: Dev <dev@example.com>

Looks good to me.

Reviewed-by: Re Viewer <rev@example.com>
  Acked-by:   Ack Er <ack@example.com>
Tested-by: someone who tried it
Reported-and-tested-by: syzbot+1@syzkaller.appspotmail.com
Fixes: abc ("not a review trailer")
Signed-off-by: Other <other@example.com>
Helped-by: H <h@example.com>
-- 
Re Viewer`
	want := []Trailer{
		{Key: "Reviewed-by", Value: "Re Viewer <rev@example.com>", Name: "Re Viewer", Email: "rev@example.com"},
		{Key: "Acked-by", Value: "Ack Er <ack@example.com>", Name: "Ack Er", Email: "ack@example.com"},
		{Key: "Reported-and-tested-by", Value: "syzbot+1@syzkaller.appspotmail.com", Email: "syzbot+1@syzkaller.appspotmail.com"},
		{Key: "Signed-off-by", Value: "Other <other@example.com>", Name: "Other", Email: "other@example.com"},
	}
	if diff := cmp.Diff(want, FindReplyTrailers(text), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("FindReplyTrailers mismatch (-want +got):\n%s", diff)
	}
}

func TestTrailerKeyHelpers(t *testing.T) {
	tr := NewTrailer("Reviewed-By", "A <a@b>")
	if !tr.Is("reviewed-by") || tr.KeyLower() != "reviewed-by" || !tr.IsPerson() {
		t.Errorf("helpers on %+v: Is=%v KeyLower=%q IsPerson=%v", tr, tr.Is("reviewed-by"), tr.KeyLower(), tr.IsPerson())
	}
	if l := NewTrailer("Link", "x"); l.IsPerson() {
		t.Errorf("Link IsPerson = true")
	}
}
