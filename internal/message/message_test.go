package message

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// msg joins lines with LF into a raw message.
func msg(lines ...string) []byte {
	return []byte(strings.Join(lines, "\n"))
}

// toCRLF converts LF line ends to CRLF.
func toCRLF(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// mustParse parses raw or fails the test.
func mustParse(t *testing.T, raw []byte) *Message {
	t.Helper()
	m, err := Parse(raw, &Options{Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if msg := checkInvariants(m); msg != "" {
		t.Fatalf("invariant: %s", msg)
	}
	return m
}

// kinds returns the sorted set of problem kinds.
func kinds(m *Message) []string {
	var out []string
	for _, p := range m.Problems {
		k := ProblemKind(p)
		if !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestIdentity(t *testing.T) {
	long := strings.Repeat("x", 241) + "@ab" // 244 bytes: kept
	tooLong := long + "c"                    // 245 bytes: dropped
	tests := []struct {
		name     string
		header   []string
		ids      []string
		refs     []string
		problems []string
	}{{
		name:   "plain",
		header: []string{"Message-ID: <a@b>", "References: <r1@x> <r2@x>", "In-Reply-To: <r2@x>"},
		ids:    []string{"a@b"},
		refs:   []string{"r1@x", "r2@x"},
	}, {
		name:   "In-Reply-To counts last",
		header: []string{"Message-ID: <a@b>", "In-Reply-To: <r1@x>", "References: <r1@x> <r2@x>"},
		ids:    []string{"a@b"},
		refs:   []string{"r2@x", "r1@x"},
	}, {
		name:     "own ids dropped",
		header:   []string{"Message-ID: <a@b>", "References: <r1@x> <a@b>", "In-Reply-To: <a@b>"},
		ids:      []string{"a@b"},
		refs:     []string{"r1@x"},
		problems: []string{"cyclic References"},
	}, {
		name:     "addresses dropped",
		header:   []string{"Message-ID: <a@b>", "From: Joe <Joe@Example.org>", "Cc: c@d.e", "References: <r1@x> <c@d.e>", "In-Reply-To: <joe@example.org>"},
		ids:      []string{"a@b"},
		refs:     []string{"r1@x"},
		problems: []string{"reference is an address"},
	}, {
		name:     "junk dropped",
		header:   []string{"Message-ID: <a@b>", "References: <r1@x> <n>", "In-Reply-To: <y>"},
		ids:      []string{"a@b"},
		refs:     []string{"r1@x"},
		problems: []string{"junk reference"},
	}, {
		name:     "too long dropped",
		header:   []string{"Message-ID: <" + long + ">", "Message-ID: <" + tooLong + ">", "References: <" + tooLong + "> <r1@x>"},
		ids:      []string{long},
		refs:     []string{"r1@x"},
		problems: []string{"Message-ID too long", "reference too long"},
	}, {
		name:     "only a too long id",
		header:   []string{"Message-ID: <" + tooLong + ">"},
		problems: []string{"Message-ID too long", "no Message-ID"},
	}, {
		name:   "several ids, duplicates",
		header: []string{"Message-ID: <a@b> <c@d>", "Message-Id: <a@b>", "Message-ID: <e@f>"},
		ids:    []string{"a@b", "c@d", "e@f"},
	}, {
		name:     "no brackets",
		header:   []string{"Message-ID: 25fdb2e4-e6d3@x", "In-Reply-To: r9@x"},
		ids:      []string{"25fdb2e4-e6d3@x"},
		refs:     []string{"r9@x"},
		problems: []string{"Message-ID without angle brackets", "In-Reply-To without angle brackets"},
	}, {
		name:     "archive URL as In-Reply-To",
		header:   []string{"Message-ID: <a@b>", "In-Reply-To: https://lore.kernel.org/io-uring/d3460@gmail.com/"},
		ids:      []string{"a@b"},
		refs:     []string{"d3460@gmail.com"},
		problems: []string{"In-Reply-To without angle brackets"},
	}, {
		name:   "folded and commented",
		header: []string{"Message-ID:", " <a@b>", "References: <r1@x>", "\t<r2", " @x>", "In-Reply-To: <r3@x> (Joe's message of \"Mon, 1 Jan\")"},
		ids:    []string{"a@b"},
		refs:   []string{"r1@x", "r2@x", "r3@x"},
	}, {
		name:   "nested bracket",
		header: []string{"Message-ID: <a@b>", "In-Reply-To: <junk <r1@x>"},
		ids:    []string{"a@b"},
		refs:   []string{"r1@x"},
	}, {
		name:     "missing",
		header:   []string{"Subject: x"},
		problems: []string{"no Message-ID"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := append([]string{"From: someone@example.org", "Date: Mon, 1 Jan 2024 10:00:00 +0000"}, tc.header...)
			m := mustParse(t, msg(append(h, "", "body")...))
			if diff := cmp.Diff(tc.ids, m.IDs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.refs, m.References, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("References (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.problems, kinds(m), cmpopts.EquateEmpty(), sortStrings); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%q", diff, m.Problems)
			}
		})
	}
}

func TestListIDs(t *testing.T) {
	m := mustParse(t, msg("From: a@b.c", "List-Id: <io-uring.vger.kernel.org>", "List-Id: Foo list <foo.lists.example.org>", "List-Id: bare.example.org", "", "x"))
	want := []string{"io-uring.vger.kernel.org", "foo.lists.example.org", "bare.example.org"}
	if diff := cmp.Diff(want, m.ListIDs); diff != "" {
		t.Errorf("ListIDs (-want +got):\n%s", diff)
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		raw      string
		want     string
		problems []string
	}{
		{"[PATCH v2 1/3] io_uring: fix", "[PATCH v2 1/3] io_uring: fix", nil},
		{"=?UTF-8?q?Hello_W=C3=B6rld?=", "Hello Wörld", nil},
		{"=?utf-8?B?SGVsbG8=?= =?utf-8?B?IFfDtnJsZA==?=", "Hello Wörld", nil},
		{"Re: =?ISO-8859-1?Q?J=F6rg?= wrote", "Re: Jörg wrote", nil},
		{"=?iso-8859-15?q?=A4uro?=", "€uro", nil},
		{"=?windows-1252?q?=93quoted=94?=", "“quoted”", nil},
		{"=?gb2312?B?1tDOxA==?=", "中文", nil},
		{"=?utf-8*en?q?lang?=", "lang", nil},
		{"=?x-foo?q?abc?= and =?utf-8?q?ok?=", "=?x-foo?q?abc?= and ok", []string{"unknown charset"}},
		{"=?utf-8?B?!!!?=", "=?utf-8?B?!!!?=", []string{"bad encoded word"}},
		{"=?utf-8?q?unterminated", "=?utf-8?q?unterminated", nil},
		{"raw UTF-8: Jörg", "raw UTF-8: Jörg", nil},
		{"raw latin-1: J\xf6rg", "raw latin-1: J\uFFFDrg", []string{"invalid UTF-8"}},
		{"=?utf-8?q?bad=FF?=", "bad\uFFFD", []string{"invalid UTF-8"}},
	}
	for _, tc := range tests {
		m := mustParse(t, msg("From: a@b.c", "Message-ID: <a@b>", "Date: Mon, 1 Jan 2024 10:00:00 +0000", "Subject: "+tc.raw, "", "x"))
		if m.Subject != tc.want {
			t.Errorf("Subject %q = %q, want %q", tc.raw, m.Subject, tc.want)
		}
		if diff := cmp.Diff(tc.problems, kinds(m), cmpopts.EquateEmpty(), sortStrings); diff != "" {
			t.Errorf("Subject %q problems (-want +got):\n%s", tc.raw, diff)
		}
	}
	// Folded subjects are unfolded with one space.
	m := mustParse(t, msg("From: a@b.c", "Subject: [PATCH 1/2] a long", "\tsubject  line", "", "x"))
	if want := "[PATCH 1/2] a long subject  line"; m.Subject != want {
		t.Errorf("folded Subject = %q, want %q", m.Subject, want)
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		raw      string
		want     []Address
		problems []string
	}{
		{"Jens Axboe <axboe@kernel.dk>", []Address{{"Jens Axboe", "axboe@kernel.dk"}}, nil},
		{`"Doe, John" <jd@x.org>, bare@y.org, Pavel <P@Y.org>`, []Address{{"Doe, John", "jd@x.org"}, {"", "bare@y.org"}, {"Pavel", "P@Y.org"}}, nil},
		{"=?utf-8?q?J=C3=B6rg?= <j@x.org>", []Address{{"Jörg", "j@x.org"}}, nil},
		{"j@x.org (Joe Doe)", []Address{{"Joe Doe", "j@x.org"}}, nil},
		{"undisclosed-recipients:;", nil, nil},
		{"Foo Bar <foo@bar.com", []Address{{"Foo Bar", "foo@bar.com"}}, []string{"unparseable address list"}},
		{`"Broken <a@b.org>, c@d.org`, []Address{{"Broken", "a@b.org"}, {"", "c@d.org"}}, []string{"unparseable address list"}},
		{"Foo <a@b.org>, Bar Baz <c@d.org>>", []Address{{"Foo", "a@b.org"}, {"Bar Baz", "c@d.org"}}, []string{"unparseable address list"}},
		{"=?x-unknown?q?Joe?= <j@x.org>", []Address{{"=?x-unknown?q?Joe?=", "j@x.org"}}, []string{"unparseable address list", "unknown charset"}},
		{"J\xf6rg <j@x.org>", []Address{{"J\uFFFDrg", "j@x.org"}}, []string{"unparseable address list", "invalid UTF-8"}},
	}
	for _, tc := range tests {
		m := mustParse(t, msg("From: x@y.org", "To: "+tc.raw, "Message-ID: <a@b>", "Date: Mon, 1 Jan 2024 10:00:00 +0000", "", "x"))
		if diff := cmp.Diff(tc.want, m.To, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("To %q (-want +got):\n%s", tc.raw, diff)
		}
		if diff := cmp.Diff(tc.problems, kinds(m), cmpopts.EquateEmpty(), sortStrings); diff != "" {
			t.Errorf("To %q problems (-want +got):\n%s\n%q", tc.raw, diff, m.Problems)
		}
	}
	if got := (Address{"A", "Foo@Bar.ORG"}).Key(); got != "foo@bar.org" {
		t.Errorf("Key() = %q", got)
	}
}

func TestHeader(t *testing.T) {
	raw := msg(
		"Received: from a by b; Mon, 1 Jan 2024 10:00:05 +0000",
		"Received: from c by d; Mon, 1 Jan 2024 10:00:01 +0000",
		"From: a@b.c",
		"X-Folded: one",
		"  two",
		"\tthree",
		"Subject: s",
		"",
		"body",
	)
	m := mustParse(t, raw)
	if got := m.Get("x-folded"); got != "one two three" {
		t.Errorf("Get(x-folded) = %q", got)
	}
	if got := m.Header.Values("RECEIVED"); len(got) != 2 || !strings.HasSuffix(got[1], "10:00:01 +0000") {
		t.Errorf("Values(RECEIVED) = %q", got)
	}
	if m.Header.Has("Cc") || !m.Header.Has("subject") || m.Header.Len() != 5 {
		t.Errorf("Has/Len wrong: %d fields", m.Header.Len())
	}
	wantRaw := string(raw[:bytes.Index(raw, []byte("\n\n"))+1])
	if string(m.RawHeader) != wantRaw {
		t.Errorf("RawHeader = %q, want %q", m.RawHeader, wantRaw)
	}
	crlf := mustParse(t, toCRLF(raw))
	if string(crlf.RawHeader) != string(toCRLF([]byte(wantRaw))) {
		t.Errorf("CRLF RawHeader = %q", crlf.RawHeader)
	}
	if crlf.Get("X-Folded") != "one two three" || crlf.Text != "body" {
		t.Errorf("CRLF: X-Folded %q, Text %q", crlf.Get("X-Folded"), crlf.Text)
	}
	// The raw message buffer may be reused by the caller.
	for i := range raw {
		raw[i] = 'X'
	}
	if m.Get("Subject") != "s" || m.RawHeader[0] != 'R' {
		t.Error("Message references the raw buffer")
	}
}

func TestMalformedHeader(t *testing.T) {
	tests := []struct {
		name     string
		raw      []byte
		subject  string
		text     string
		problems []string
	}{{
		name:     "stray line between fields",
		raw:      msg("From: a@b.c", "this is no field", "Subject: s", "", "body"),
		subject:  "s",
		text:     "body",
		problems: []string{"malformed header line"},
	}, {
		name:     "no blank line before the body",
		raw:      msg("From: a@b.c", "Subject: s", "body starts here", "more body"),
		subject:  "s",
		text:     "body starts here\nmore body",
		problems: []string{"header not ended by a blank line"},
	}, {
		name:    "mbox From line",
		raw:     msg("From foo@bar Mon Jan  1 00:00:00 2024", "From: a@b.c", "Subject: s", "", "body"),
		subject: "s",
		text:    "body",
	}, {
		name:    "space before colon",
		raw:     msg("From: a@b.c", "Subject : s", "", "body"),
		subject: "s",
		text:    "body",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, tc.raw)
			if m.Subject != tc.subject || m.Text != tc.text {
				t.Errorf("Subject %q Text %q, want %q %q", m.Subject, m.Text, tc.subject, tc.text)
			}
			got := kinds(m)
			for _, k := range []string{"no Message-ID", "no Date"} {
				got = slicesDelete(got, k)
			}
			if diff := cmp.Diff(tc.problems, got, cmpopts.EquateEmpty(), sortStrings); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func slicesDelete(l []string, s string) []string {
	out := l[:0]
	for _, x := range l {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func TestHeaderOnly(t *testing.T) {
	for _, raw := range [][]byte{
		msg("From: a@b.c", "Subject: only a header"),
		msg("From: a@b.c", "Subject: only a header", ""),
		msg("From: a@b.c", "Subject: only a header", "", ""),
		toCRLF(msg("From: a@b.c", "Subject: only a header", "")),
	} {
		m := mustParse(t, raw)
		if m.Subject != "only a header" || m.Text != "" || len(m.From) != 1 {
			t.Errorf("Parse(%q): Subject %q Text %q From %v", raw, m.Subject, m.Text, m.From)
		}
	}
}

func TestNotMail(t *testing.T) {
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + i/3)
	}
	for _, raw := range [][]byte{
		nil,
		[]byte(""),
		[]byte("\n\n"),
		[]byte("\nFrom: a@b.c\n\nbody"),
		[]byte("just some text\nwithout header\n"),
		[]byte("  continuation: first\n"),
		[]byte("\x00\x01\x02\x03: \x04\x05"),
		[]byte("\x7fELF\x02\x01\x01\x00\x00\x00"),
		[]byte("From nobody Mon Jan  1 00:00:00 2024\n"),
		garbage,
	} {
		m, err := Parse(raw, nil)
		if !errors.Is(err, ErrNotMail) || m != nil {
			t.Errorf("Parse(%q) = %v, %v; want ErrNotMail", raw[:min(len(raw), 20)], m, err)
		}
	}
	// Barely a mail is still a mail.
	for _, raw := range [][]byte{
		[]byte("X: y"),
		[]byte("Subject: \x00\x01 binary value\n\n\x00\x00"),
	} {
		if _, err := Parse(raw, nil); err != nil {
			t.Errorf("Parse(%q) = %v, want a message", raw, err)
		}
	}
}

func TestInvalidUTF8Body(t *testing.T) {
	m := mustParse(t, msg("From: a@b.c", "Content-Type: text/plain; charset=utf-8", "", "caf\xe9 \x00 ok", "> quoted \xff"))
	if want := "caf\uFFFD \x00 ok\n> quoted \uFFFD"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	if !contains(kinds(m), "invalid UTF-8") {
		t.Errorf("problems %q lack invalid UTF-8", m.Problems)
	}
}

func TestLargeMessage(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: a@b.c\nSubject: big\nMessage-ID: <big@x>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n")
	line := strings.Repeat("0123456789abcdef", 4) + "\n" // 65 bytes
	for b.Len() < 20<<20 {
		b.WriteString(line)
		if b.Len()%(1<<20) < len(line) {
			b.WriteString("> a quoted line\n")
		}
	}
	m := mustParse(t, b.Bytes())
	if m.Size != b.Len() || len(m.Text) < 20<<20-200 || len(m.NonQuoted)+len(m.Quoted) != len(m.Text) {
		t.Errorf("Size %d Text %d NonQuoted %d Quoted %d", m.Size, len(m.Text), len(m.NonQuoted), len(m.Quoted))
	}
	if strings.Count(m.Quoted, "\n") < 19 {
		t.Errorf("Quoted has %d lines", strings.Count(m.Quoted, "\n"))
	}
}

func TestProblemKind(t *testing.T) {
	for in, want := range map[string]string{
		`unknown charset: "x" in part 2`: "unknown charset",
		"no Message-ID":                  "no Message-ID",
		"":                               "",
	} {
		if got := ProblemKind(in); got != want {
			t.Errorf("ProblemKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProblemsBounded(t *testing.T) {
	var lines []string
	lines = append(lines, "From: a@b.c")
	for i := range 500 {
		lines = append(lines, fmt.Sprintf("In-Reply-To: <%s%d>", strings.Repeat("y", 300), i), "bad line", "X: y")
	}
	m := mustParse(t, msg(append(lines, "", "x")...))
	if len(m.Problems) > maxProblems+1 || m.Problems[len(m.Problems)-1] != "too many problems" {
		t.Errorf("%d problems, last %q", len(m.Problems), m.Problems[len(m.Problems)-1])
	}
}

// fastAddressCases are inputs for the fast address path; each must either
// be refused or give exactly net/mail's result.
var fastAddressCases = []string{
	"Jens Axboe <axboe@kernel.dk>",
	"axboe@kernel.dk",
	"a@b, Pavel Begunkov <asml.silence@gmail.com>,io-uring@vger.kernel.org",
	"John Q. Public <jqp@x.org>",
	"<bare@angle.org>",
	"  spaced@x.org  ,  Name <n@x.org>  ",
	"Two  Spaces <a@b.c>",
	"trailing@comma.org,",
	",leading@comma.org",
	"a..b@x.org",
	".a@x.org",
	"a@x.org.",
	"no-at-sign",
	"Name <a@b.c",
	"Name a@b.c>",
	"Name <a@b.c> trailing",
	"a@b@c",
	"Weird! #$%&'*+-/=?^_`{|}~ <w@x.org>",
	"Name<close@x.org>",
	"=?utf-8?q?x?= <a@b.c>",
	"",
}

func TestFastAddressList(t *testing.T) {
	for _, v := range fastAddressCases {
		checkFastAddress(t, v)
	}
}

func FuzzFastAddressList(f *testing.F) {
	for _, v := range fastAddressCases {
		f.Add(v)
	}
	f.Fuzz(checkFastAddress)
}

func checkFastAddress(t *testing.T, v string) {
	fast, ok := fastAddressList(nil, v)
	if !ok {
		if len(fast) != 0 {
			t.Fatalf("fastAddressList(%q) refused but returned %v", v, fast)
		}
		return
	}
	list, err := addressParser.ParseList(v)
	if err != nil {
		t.Fatalf("fastAddressList(%q) = %v, net/mail fails: %v", v, fast, err)
	}
	var want []Address
	for _, a := range list {
		want = append(want, Address{Name: a.Name, Email: a.Address})
	}
	if diff := cmp.Diff(want, fast); diff != "" {
		t.Fatalf("fastAddressList(%q) (-net/mail +fast):\n%s", v, diff)
	}
}

func TestBareLFs(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int
	}{
		{"Subject: a\n\nbody\n", 3},
		{"Subject: a\r\n\r\nbody\r\n", 0},
		{"Subject: a\r\n\nbody\n", 2},
	} {
		m, err := Parse([]byte(tt.raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.BareLFs != tt.want || m.Size != len(tt.raw) {
			t.Errorf("Parse(%q): BareLFs %d Size %d, want %d %d", tt.raw, m.BareLFs, m.Size, tt.want, len(tt.raw))
		}
	}
}
