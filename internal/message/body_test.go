package message

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const patchText = `diff --git a/io_uring/rw.c b/io_uring/rw.c
--- a/io_uring/rw.c
+++ b/io_uring/rw.c
@@ -1,3 +1,3 @@
-old
+new
`

func TestMultipart(t *testing.T) {
	head := []string{"From: a@b.c", "Message-ID: <a@b>", "Date: Mon, 1 Jan 2024 10:00:00 +0000", "MIME-Version: 1.0"}
	tests := []struct {
		name     string
		lines    []string
		text     string
		html     bool
		atts     []Attachment
		problems []string
	}{{
		name: "mixed: text, inline patch, binary, rfc822, named patch",
		lines: []string{
			`Content-Type: multipart/mixed; boundary="XX"`,
			"",
			"preamble is ignored",
			"--XX",
			"Content-Type: text/plain; charset=utf-8",
			"",
			"Hello,",
			"see the patch.",
			"--XX",
			"Content-Type: text/x-patch; name=fix.patch",
			"Content-Disposition: inline; filename=fix.patch",
			"",
			strings.TrimSuffix(patchText, "\n"),
			"--XX",
			"Content-Type: application/octet-stream",
			"Content-Disposition: attachment; filename=\"blob.bin\"",
			"Content-Transfer-Encoding: base64",
			"",
			"AAECAwQF",
			"--XX",
			"Content-Type: message/rfc822",
			"",
			"Subject: inner",
			"",
			"inner body",
			"--XX",
			"Content-Type: text/plain; name=\"0001-x.diff\"",
			"Content-Disposition: attachment; filename*=UTF-8''0001-x.diff",
			"Content-Transfer-Encoding: quoted-printable",
			"",
			"-a=3Db",
			"+a=3Dc",
			"--XX--",
			"epilogue is ignored",
		},
		text: "Hello,\nsee the patch.",
		atts: []Attachment{
			{Name: "fix.patch", Type: "text/x-patch", Size: len(patchText) - 1, Data: []byte(strings.TrimSuffix(patchText, "\n"))},
			{Name: "blob.bin", Type: "application/octet-stream", Size: 6},
			{Type: "message/rfc822", Size: len("Subject: inner\n\ninner body")},
			{Name: "0001-x.diff", Type: "text/plain", Size: 9, Data: []byte("-a=b\n+a=c")},
		},
	}, {
		name: "alternative prefers text/plain",
		lines: []string{
			"Content-Type: multipart/alternative; boundary=b1",
			"",
			"--b1",
			"Content-Type: text/plain; charset=iso-8859-1",
			"Content-Transfer-Encoding: quoted-printable",
			"",
			"Gr=FC=DFe, soft=",
			"break",
			"--b1",
			"Content-Type: text/html",
			"",
			"<p>Gr&uuml;&szlig;e</p>",
			"--b1--",
		},
		text: "Grüße, softbreak",
	}, {
		name: "html only",
		lines: []string{
			"Content-Type: multipart/alternative; boundary=b1",
			"",
			"--b1",
			"Content-Type: text/html; charset=utf-8",
			"",
			"<html><head><style>p {color: red}</style></head><body>",
			"<p>Hello &amp; <b>bold</b>",
			"world</p><div>next<br>line</div><script>alert(1)</script>",
			"</body></html>",
			"--b1--",
		},
		text: "Hello & bold world\n\nnext\nline\n",
		html: true,
	}, {
		name: "nested mixed/alternative with base64 text",
		lines: []string{
			"Content-Type: multipart/mixed; boundary=outer",
			"",
			"--outer",
			"Content-Type: multipart/alternative; boundary=inner",
			"",
			"--inner",
			"Content-Type: text/plain; charset=utf-8",
			"Content-Transfer-Encoding: base64",
			"",
			"SGVsbG8gV8O2cmxkCg==",
			"--inner",
			"Content-Type: text/html",
			"",
			"<b>x</b>",
			"--inner--",
			"--outer",
			"Content-Type: image/png; name=a.png",
			"Content-Transfer-Encoding: base64",
			"",
			"iVBORw0KGgo=",
			"--outer--",
		},
		text: "Hello Wörld\n",
		atts: []Attachment{{Name: "a.png", Type: "image/png", Size: 8}},
	}, {
		name: "missing closing boundary",
		lines: []string{
			"Content-Type: multipart/mixed; boundary=b",
			"",
			"--b",
			"",
			"first",
			"--b",
			"Content-Type: text/plain",
			"",
			"second, truncated",
		},
		text:     "first\nsecond, truncated",
		problems: []string{"multipart without closing boundary"},
	}, {
		name: "boundary not found",
		lines: []string{
			"Content-Type: multipart/mixed; boundary=nowhere",
			"",
			"just text",
		},
		text:     "just text",
		problems: []string{"multipart without parts"},
	}, {
		name: "no boundary parameter",
		lines: []string{
			"Content-Type: multipart/mixed",
			"",
			"just text",
		},
		text:     "just text",
		problems: []string{"multipart without boundary"},
	}, {
		name: "unknown charset, latin-1 fallback",
		lines: []string{
			"Content-Type: text/plain; charset=x-unknown",
			"",
			"caf\xe9",
		},
		text:     "café",
		problems: []string{"unknown charset"},
	}, {
		name: "unknown charset, valid UTF-8 kept",
		lines: []string{
			"Content-Type: text/plain; charset=x-mac-unknown",
			"",
			"café",
		},
		text:     "café",
		problems: []string{"unknown charset"},
	}, {
		name: "UTF-7 (Outlook)",
		lines: []string{
			"Content-Type: text/plain; charset=\"utf-7\"",
			"Content-Transfer-Encoding: quoted-printable",
			"",
			"+AD4- From: Jens +ADw-axboe+AEA-kernel.dk+AD4-, 1+-1, Gr+APwA3w-e +2D3eAA-",
		},
		text: "> From: Jens <axboe@kernel.dk>, 1+1, Grüße 😀",
	}, {
		name: "known charset",
		lines: []string{
			"Content-Type: text/plain; charset=\"KOI8-R\"",
			"",
			"\xf0\xd2\xc9\xd7\xc5\xd4",
		},
		text: "Привет",
	}, {
		name: "broken quoted-printable decoded leniently",
		lines: []string{
			"Content-Type: text/plain",
			"Content-Transfer-Encoding: quoted-printable",
			"",
			"form\x0cfeed =3D ok=",
			"next =ZZ line",
		},
		text:     "form\x0cfeed = oknext =ZZ line",
		problems: []string{"bad transfer encoding"},
	}, {
		name: "broken base64 decoded leniently",
		lines: []string{
			"Content-Type: text/plain",
			"Content-Transfer-Encoding: base64",
			"",
			"SGVsbG8g",
			"V8O2cmxk!!",
		},
		text:     "Hello Wörld",
		problems: []string{"bad transfer encoding"},
	}, {
		name: "unknown transfer encoding",
		lines: []string{
			"Content-Transfer-Encoding: x-uuencode",
			"",
			"as is",
		},
		text:     "as is",
		problems: []string{"unknown transfer encoding"},
	}, {
		name: "bad Content-Type parameters",
		lines: []string{
			"Content-Type: text/plain; charset=\"utf-8; format=flowed",
			"",
			"text",
		},
		text:     "text",
		problems: []string{"bad Content-Type"},
	}, {
		name: "text/x-patch as the whole body is text",
		lines: []string{
			"Content-Type: text/x-patch",
			"",
			strings.TrimSuffix(patchText, "\n"),
		},
		text: strings.TrimSuffix(patchText, "\n"),
	}, {
		name: "text attachment: Text, not Data",
		lines: []string{
			"Content-Type: multipart/mixed; boundary=b",
			"",
			"--b",
			"",
			"body",
			"--b",
			"Content-Type: text/plain; name=config.txt",
			"Content-Disposition: attachment; filename=config.txt",
			"",
			"CONFIG_X=y",
			"--b--",
		},
		text: "body",
		atts: []Attachment{{Name: "config.txt", Type: "text/plain", Size: 10, Text: []byte("CONFIG_X=y")}},
	}, {
		name: "RFC 2047 attachment name",
		lines: []string{
			"Content-Type: multipart/mixed; boundary=b",
			"",
			"--b",
			"Content-Type: application/pdf; name=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"",
			"",
			"%PDF",
			"--b--",
		},
		atts: []Attachment{{Name: "résumé.pdf", Type: "application/pdf", Size: 4}},
	}, {
		name: "digest defaults to message/rfc822",
		lines: []string{
			"Content-Type: multipart/digest; boundary=d",
			"",
			"--d",
			"",
			"Subject: one",
			"",
			"1",
			"--d--",
		},
		atts: []Attachment{{Type: "message/rfc822", Size: len("Subject: one\n\n1")}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, crlf := range []bool{false, true} {
				raw := msg(append(append([]string{}, head...), tc.lines...)...)
				if crlf {
					raw = toCRLF(raw)
				}
				m := mustParse(t, raw)
				if m.Text != tc.text || m.HTML != tc.html {
					t.Errorf("crlf=%v: Text %q (HTML %v), want %q (HTML %v)", crlf, m.Text, m.HTML, tc.text, tc.html)
				}
				opts := []cmp.Option{cmpopts.EquateEmpty()}
				if crlf {
					// Content that is not transfer-encoded keeps its CRLFs.
					opts = append(opts, cmpopts.IgnoreFields(Attachment{}, "Size"))
				}
				if diff := cmp.Diff(tc.atts, m.Attachments, opts...); diff != "" {
					t.Errorf("crlf=%v: Attachments (-want +got):\n%s", crlf, diff)
				}
				if diff := cmp.Diff(tc.problems, kinds(m), cmpopts.EquateEmpty(), sortStrings); diff != "" {
					t.Errorf("crlf=%v: problems (-want +got):\n%s\n%q", crlf, diff, m.Problems)
				}
			}
		})
	}
}

func TestSplitQuotes(t *testing.T) {
	tests := []struct {
		text, nonQuoted, quoted string
	}{
		{"no quotes\nat all\n", "no quotes\nat all\n", ""},
		{"On Mon, 1 Jan 2024, Jens Axboe wrote:\n> quoted line\n> more\n\nreply\n",
			"\nreply\n", "> quoted line\n> more\n"},
		{"Hi,\n\nOn 1/1/24 10:00, Pavel wrote:\n\n>> deep\n> shallow\nanswer\n",
			"Hi,\n\n\nanswer\n", ">> deep\n> shallow\n"},
		{"On Mon, Jan 1, 2024 at 10:00 AM Very Long Name\n<long@example.org> wrote:\n> q\nr",
			"r", "> q\n"},
		{"This line ends with a colon:\n> q\n", "This line ends with a colon:\n", "> q\n"},
		{"> only quote", "", "> only quote\n"},
		{"a\n>b\nc\n>d", "a\nc", ">b\n>d\n"},
		{"x wrote:\nno quote follows\n", "x wrote:\nno quote follows\n", ""},
		{"x wrote:\n\n\n\n> too far\n", "x wrote:\n\n\n\n", "> too far\n"},
		{"On a, b\nc wrote:\n> q1\nmid\nOn d, e wrote:\n> q2\n", "mid\n", "> q1\n> q2\n"},
		{"> q\nOn x wrote:\n> q2", "", "> q\n> q2\n"},
	}
	for _, tc := range tests {
		nq, q := splitQuotes(tc.text)
		if nq != tc.nonQuoted || q != tc.quoted {
			t.Errorf("splitQuotes(%q) = %q, %q; want %q, %q", tc.text, nq, q, tc.nonQuoted, tc.quoted)
		}
	}
}

func TestQuotedMessage(t *testing.T) {
	m := mustParse(t, toCRLF(msg("From: a@b.c", "", "On Mon, 1 Jan 2024, X wrote:", "> old", "new")))
	if m.Text != "On Mon, 1 Jan 2024, X wrote:\n> old\nnew" || m.NonQuoted != "new" || m.Quoted != "> old\n" {
		t.Errorf("Text %q NonQuoted %q Quoted %q", m.Text, m.NonQuoted, m.Quoted)
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb\n"},
		{"x<br/>y<BR>z", "x\ny\nz\n"},
		{"<pre>  keep\n    indent</pre>", "  keep\n    indent\n"},
		{"<!-- c --><SCRIPT>x</SCRIPT>t&lt;&gt;&nbsp;u", "t<> u\n"},
		{"unterminated <b", "unterminated\n"},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitMultipart(t *testing.T) {
	body := "pre\n--b\nA\n--bb\n--b \r\nB\r\n--b--junk\nepi"
	parts, closed := splitMultipart([]byte(body), "b")
	var got []string
	for _, p := range parts {
		got = append(got, string(p))
	}
	if want := []string{"A\n--bb", "B"}; !closed || !cmp.Equal(got, want) {
		t.Errorf("splitMultipart = %q, %v; want %q, true", got, closed, want)
	}
}

func TestSearchableText(t *testing.T) {
	for _, tt := range []struct {
		typ, data string
		want      string // "" = nil
	}{
		{"text/plain", "a\r\nb", "a\nb"},
		{"text/x-log", "oops", "oops"},
		{"text/html", "<p>x</p>", ""},
		{"application/octet-stream", "dmesg line\n\tnext", "dmesg line\n\tnext"},
		{"application/octet-stream", "ELF\x00\x01", ""},
		{"image/png", "text", ""},
	} {
		got := searchableText(tt.typ, []byte(tt.data))
		if (got == nil) != (tt.want == "") || string(got) != tt.want {
			t.Errorf("searchableText(%q, %q) = %q, want %q", tt.typ, tt.data, got, tt.want)
		}
	}
}
