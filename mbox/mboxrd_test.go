package mbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var mboxrdTests = []struct {
	name, raw, want string
}{
	{"plain",
		"From: a@b\nSubject: x\n\nhello\nFrom here\n>From there\n>>From everywhere\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: a@b\nSubject: x\n\nhello\n>From here\n>>From there\n>>>From everywhere\n\n"},
	{"no final newline",
		"Subject: x\n\nend",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\n\nend\n"},
	{"empty body",
		"Subject: x\n\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\n\n\n"},
	{"header only",
		"Subject: x\nTo: y\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\nTo: y\n\n\n"},
	{"dropped headers with continuations",
		"Subject: x\nLines: 3\nContent-Length: 12\n\tmore\nSTATUS: RO\nBytes: 9\nTo: y\n\nbody\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\nTo: y\n\nbody\n\n"},
	{"leading From_ line",
		"From someone Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\n\nbody\n\n"},
	{"crlf kept, last newline bare",
		"Subject: x\r\nTo: y\r\n\r\nFrom me\r\nbye\r\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\r\nSubject: x\r\nTo: y\r\n\r\n>From me\r\nbye\r\n\n"},
	{"no header at all",
		"just a body\nFrom x\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\n\njust a body\n>From x\n\n"},
	{"From not at line start is untouched",
		"Subject: x\n\n From x\nxFrom y\nFrom\n",
		"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\n\n From x\nxFrom y\nFrom\n\n"},
}

func TestWriteMboxrd(t *testing.T) {
	for _, tc := range mboxrdTests {
		var b bytes.Buffer
		if err := WriteMboxrd(&b, []byte(tc.raw)); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tc.want {
			t.Errorf("%s: WriteMboxrd(%q) =\n%q\nwant\n%q", tc.name, tc.raw, got, tc.want)
		}
	}
}

// piDriver runs PublicInbox::Mbox's msg_hdr and msg_body (public-inbox
// 1.9, Debian package libpublicinbox-perl) over length-prefixed messages.
const piDriver = `
use strict; use PublicInbox::Eml; use PublicInbox::Mbox;
binmode STDIN; binmode STDOUT; $| = 1;
while (defined(my $n = <STDIN>)) {
	chomp $n; read(STDIN, my $raw, $n) == $n or die "short read";
	my $eml = PublicInbox::Eml->new(\$raw);
	my $out = PublicInbox::Mbox::msg_hdr(undef, $eml) . PublicInbox::Mbox::msg_body($eml);
	print length($out), "\n", $out;
}
`

// publicInboxMboxrd returns public-inbox's mboxrd of each message, or
// skips the test when public-inbox's Perl modules are not installed.
func publicInboxMboxrd(t *testing.T, msgs [][]byte) [][]byte {
	t.Helper()
	if err := exec.Command("perl", "-MPublicInbox::Mbox", "-e1").Run(); err != nil {
		t.Skip("public-inbox Perl modules absent (Debian: libpublicinbox-perl): ", err)
	}
	var in bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&in, "%d\n", len(m))
		in.Write(m)
	}
	cmd := exec.Command("perl", "-e", piDriver)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("public-inbox driver: %v", err)
	}
	br := bufio.NewReader(bytes.NewReader(out))
	var res [][]byte
	for range msgs {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("public-inbox driver output: %v", err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line))
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatalf("public-inbox driver output: %v", err)
		}
		res = append(res, b)
	}
	return res
}

// TestMboxrdMatchesPublicInbox compares WriteMboxrd with public-inbox
// itself, byte for byte, on every sample message and the cases above.
func TestMboxrdMatchesPublicInbox(t *testing.T) {
	var msgs [][]byte
	var names []string
	for _, tc := range mboxrdTests {
		msgs, names = append(msgs, []byte(tc.raw)), append(names, tc.name)
	}
	r, err := Open(context.Background(), "../testdata/sample/sample.mbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs, names = append(msgs, m.Data), append(names, m.Where)
	}
	// Quirks: CRLF mixed with LF, a long header, a continuation-like line
	// after a dropped header, header-less CRLF.
	extra := []string{
		"Subject: x\nLines: 2\nX-Weird value: 1\nTo: y\n\r\nbody\r\n",
		"Subject: " + strings.Repeat("y", 110000) + "\nTo: z\n\nbody\n",
		"body only\r\nFrom x\r\n",
		"\n\nFrom x\n",
		"",
	}
	for i, e := range extra {
		msgs, names = append(msgs, []byte(e)), append(names, fmt.Sprintf("extra %d", i))
	}
	want := publicInboxMboxrd(t, msgs)
	for i, m := range msgs {
		var b bytes.Buffer
		WriteMboxrd(&b, m)
		if diff := cmp.Diff(string(want[i]), b.String()); diff != "" {
			t.Errorf("%s: WriteMboxrd differs from public-inbox (-public-inbox +ours):\n%s", names[i], diff)
		}
	}
}

// FuzzWriteMboxrd checks the mboxrd invariants: the output starts with
// the From line, no body line is an unescaped From_ line, and removing
// one '>' from every escaped line gives the body back.
func FuzzWriteMboxrd(f *testing.F) {
	for _, tc := range mboxrdTests {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b bytes.Buffer
		if err := WriteMboxrd(&b, raw); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		if !bytes.HasPrefix(out, []byte(mboxrdFrom)) || !bytes.HasSuffix(out, []byte("\n")) {
			t.Fatalf("WriteMboxrd(%q) = %q: bad framing", raw, out)
		}
		_, body, _, hasBody := splitMessage(raw)
		if !hasBody {
			return
		}
		n := 0
		for _, l := range bytes.SplitAfter(body, []byte("\n")) {
			if isFromLineRef(append([]byte(">"), l...)) {
				n++
			}
		}
		end := len(out) - 1 // the newline WriteMboxrd adds
		if end-len(body)-n < len(mboxrdFrom) {
			t.Fatalf("WriteMboxrd(%q) = %q: too short for the escaped body", raw, out)
		}
		ob := out[end-len(body)-n : end]
		lines := bytes.SplitAfter(ob, []byte("\n"))
		for i, l := range lines {
			if bytes.HasPrefix(l, []byte("From ")) {
				t.Fatalf("WriteMboxrd(%q): unescaped From_ line %q", raw, l)
			}
			if isFromLineRef(l) {
				lines[i] = l[1:]
			}
		}
		if got := bytes.Join(lines, nil); !bytes.Equal(got, body) {
			t.Fatalf("WriteMboxrd(%q): body %q does not unescape to %q", raw, got, body)
		}
	})
}

// isFromLine reports whether line matches ^>+From .
func isFromLineRef(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

// mboxrdReference is PublicInbox::Mbox transcribed with its regular
// expressions, to check the hand-written WriteMboxrd against.
func mboxrdReference(raw []byte) []byte {
	hdr, body, crlf, hasBody := splitMessageReference(raw)
	for _, name := range droppedHeaders {
		re := regexp.MustCompile(`(?im)^` + name + `:[ \t]*[^\n]*\r?\n(?:[^:\n]*?[ \t]+[^\n]*\r?\n)*`)
		hdr = re.ReplaceAllLiteral(hdr, nil)
	}
	hdr = regexp.MustCompile(`\A[\r\n]*From [^\r\n]*\r?\n`).ReplaceAllLiteral(hdr, nil)
	out := append([]byte(mboxrdFrom+crlf), hdr...)
	out = append(out, crlf...)
	if hasBody {
		out = append(out, regexp.MustCompile(`(?m)^(>*From )`).ReplaceAll(body, []byte(">$1"))...)
	}
	return append(out, '\n')
}

func splitMessageReference(raw []byte) (hdr, body []byte, crlf string, hasBody bool) {
	if !bytes.Contains(raw, []byte("\r\n")) {
		if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
			return truncateHeader(raw[:i+1]), raw[i+2:], "\n", true
		}
	}
	if m := regexp.MustCompile(`\r?\n(\r?\n)`).FindSubmatchIndex(raw); m != nil {
		return truncateHeader(raw[:m[2]]), raw[m[1]:], string(raw[m[2]:m[3]]), true
	}
	return splitMessage(raw)
}

func FuzzMboxrdReference(f *testing.F) {
	for _, tc := range mboxrdTests {
		f.Add([]byte(tc.raw))
	}
	f.Add([]byte("Status: x\r\nLines: 1\r\n y\r\nA b: c\r\n\r\nFrom x\r\n"))
	f.Add([]byte("\r\n\r\nFrom a\rb\nFrom c\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b bytes.Buffer
		WriteMboxrd(&b, raw)
		if want := mboxrdReference(raw); !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("WriteMboxrd(%q) =\n%q\nreference\n%q", raw, b.Bytes(), want)
		}
	})
}
