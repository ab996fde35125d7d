package mbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// The writers below produce each mbox variant the way its usual writer
// does; the tests read the result back.

var escapeRD = regexp.MustCompile(`(?m)^(>*From )`)
var escapeO = regexp.MustCompile(`(?m)^(From )`)

const postmark = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"

// ensureNL returns msg ending in a newline, as mbox writers make it.
func ensureNL(msg string) string {
	if !strings.HasSuffix(msg, "\n") {
		return msg + "\n"
	}
	return msg
}

func writeRD(msgs []string) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString(postmark)
		b.WriteString(escapeRD.ReplaceAllString(ensureNL(m), ">$1"))
		b.WriteString("\n")
	}
	return b.Bytes()
}

func writeO(msgs []string) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString(postmark)
		b.WriteString(escapeO.ReplaceAllString(ensureNL(m), ">$1"))
		b.WriteString("\n")
	}
	return b.Bytes()
}

// writeCL writes mboxcl (escaped like mboxo) or mboxcl2 (not escaped):
// a Content-Length header counting the body as written.
func writeCL(msgs []string, escape bool) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		head, body, _ := strings.Cut(m, "\n\n")
		if escape {
			body = escapeO.ReplaceAllString(body, ">$1")
		}
		fmt.Fprintf(&b, "From sender@example.org Sat Jan  3 01:05:34 1996\n%s\nContent-Length: %d\n\n%s\n", head, len(body), body)
	}
	return b.Bytes()
}

// clMessage returns what the reader yields for m written by writeCL.
func clMessage(m string, escape bool) string {
	head, body, _ := strings.Cut(m, "\n\n")
	n := len(body)
	if escape {
		n = len(escapeO.ReplaceAllString(body, ">$1"))
	}
	return fmt.Sprintf("%s\nContent-Length: %d\n\n%s", head, n, body)
}

// readAll reads every item of the mbox stream data.
func readAll(t testing.TB, data []byte, o *Options) []*Message {
	t.Helper()
	r, err := newMboxReader(context.Background(), "test.mbox", bytes.NewReader(data), nil, withDefaults(o))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ms []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return ms
		}
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
}

// datas returns the Data of the items, "ERR" for an item with Err.
func datas(ms []*Message) []string {
	var out []string
	for _, m := range ms {
		if m.Err != nil {
			out = append(out, "ERR")
			continue
		}
		out = append(out, string(m.Data))
	}
	return out
}

const (
	msgPlain = "From: a@example.org\nSubject: plain\n\nHello.\n"
	msgFrom  = "From: b@example.org\nSubject: from lines\n\nFrom the start\n\nFrom here on\n>From quoted\n>>From twice\nend\n"
	msgNoNL  = "From: c@example.org\nSubject: no final newline\n\nlast line"
	msgBlank = "From: d@example.org\nSubject: trailing blank lines\n\nbody\n\n\n"
	msgOnlyF = "From: e@example.org\nSubject: only plain From lines\n\nFrom the start\n\nFrom mboxrd@z Thu Jan  1 00:00:00 1970\nend\n"
)

func TestMboxVariants(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"mboxrd", writeRD([]string{msgPlain, msgFrom, msgNoNL, msgBlank}),
			[]string{msgPlain, msgFrom, ensureNL(msgNoNL), msgBlank}},
		// mboxo cannot represent ">From" lines, so its messages have none.
		{"mboxo", writeO([]string{msgPlain, msgOnlyF, msgBlank}),
			[]string{msgPlain, msgOnlyF, msgBlank}},
		{"mboxcl", writeCL([]string{msgPlain, msgOnlyF, msgBlank}, true),
			[]string{clMessage(msgPlain, true), clMessage(msgOnlyF, true), clMessage(msgBlank, true)}},
		{"mboxcl2", writeCL([]string{msgPlain, msgFrom, msgOnlyF, msgBlank}, false),
			[]string{clMessage(msgPlain, false), clMessage(msgFrom, false), clMessage(msgOnlyF, false), clMessage(msgBlank, false)}},
		{"empty", nil, nil},
		{"only blank lines", []byte("\n\n\r\n"), nil},
		{"leading blank lines", append([]byte("\n\n"), writeRD([]string{msgPlain})...), []string{msgPlain}},
		{"CRLF", []byte("From x Thu Jan  1 00:00:00 1970\r\nSubject: a\r\n\r\n>From b\r\n\r\nFrom y Thu Jan  1 00:00:00 1970\r\nSubject: c\r\n\r\nd\r\n\r\n"),
			[]string{"Subject: a\r\n\r\nFrom b\r\n", "Subject: c\r\n\r\nd\r\n"}},
		{"NUL bytes", writeRD([]string{"Subject: nul\n\na\x00b\n\x00\n"}), []string{"Subject: nul\n\na\x00b\n\x00\n"}},
		{"truncated in body", []byte(postmark + "Subject: a\n\nb\n\n" + postmark + "Subject: cut\n\nhalf a li"),
			[]string{"Subject: a\n\nb\n", "Subject: cut\n\nhalf a li"}},
		{"truncated in header", []byte(postmark + "Subject: a\n\nb\n\n" + postmark + "Subject: cu"),
			[]string{"Subject: a\n\nb\n", "Subject: cu"}},
		{"garbage before the first From", append([]byte("this is\nno mbox\n"), writeRD([]string{msgPlain})...),
			[]string{"ERR", msgPlain}},
		{"only garbage", []byte("no mbox at all"), []string{"ERR"}},
		{"separator without blank line", []byte(postmark + "Subject: a\n\nb\n" + postmark + "Subject: c\n\nd\n"),
			[]string{"Subject: a\n\nb\n", "Subject: c\n\nd\n"}},
		{"From line without blank line is body", []byte(postmark + "Subject: a\n\nb\nFrom me to you\n"),
			[]string{"Subject: a\n\nb\nFrom me to you\n"}},
		{"empty message", []byte(postmark + postmark + "Subject: a\n\nb\n"), []string{"ERR", "Subject: a\n\nb\n"}},
		{"wrong Content-Length", []byte(postmark + "Content-Length: 3\n\nlonger body\n\n" + postmark + "Subject: b\n\nc\n"),
			[]string{"Content-Length: 3\n\nlonger body\n", "Subject: b\n\nc\n"}},
		{"Content-Length running past the next message", []byte(postmark + "Content-Length: 30\n\nbody\n\n" + postmark + "Subject: b\n\nc\n"),
			[]string{"Content-Length: 30\n\nbody\n", "Subject: b\n\nc\n"}},
		{"Content-Length beyond the end", []byte(postmark + "Content-Length: 300\n\nbody\n\n" + postmark + "Subject: b\n\nc\n"),
			[]string{"Content-Length: 300\n\nbody\n", "Subject: b\n\nc\n"}},
		{"Content-Length 0", []byte(postmark + "Content-Length: 0\n\n\n" + postmark + "Subject: b\n\nc\n"),
			[]string{"Content-Length: 0\n\n", "Subject: b\n\nc\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := datas(readAll(t, tt.data, nil))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages differ (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMboxItems checks the fields other than Data, and that every
// checkpoint offset is where the next "From " line or the end is.
func TestMboxItems(t *testing.T) {
	data := append([]byte("junk\n"), writeRD([]string{msgPlain, msgFrom, msgBlank})...)
	ms := readAll(t, data, nil)
	if len(ms) != 4 {
		t.Fatalf("got %d items, want 4", len(ms))
	}
	junk := ms[0]
	if junk.Data != nil || junk.Err == nil || !strings.Contains(junk.Err.Error(), "test.mbox: offset 0") || junk.Where != "test.mbox:offset 0" {
		t.Errorf("junk item = %+v, want Err naming test.mbox and offset 0, no Data", junk)
	}
	for i, m := range ms {
		if m.Key != "" || !m.Received.IsZero() || m.Deleted {
			t.Errorf("item %d = %+v, want no Key, Received or Deleted", i, m)
		}
		off := checkpointOffset(t, m.Checkpoint)
		if off != int64(len(data)) && !bytes.HasPrefix(data[off:], []byte("From ")) {
			t.Errorf("item %d: checkpoint %s does not point at a From line: %q", i, m.Checkpoint, data[off:min(off+20, int64(len(data)))])
		}
		if i > 0 {
			where := "test.mbox:offset " + strconv.FormatInt(checkpointOffset(t, ms[i-1].Checkpoint), 10)
			if m.Where != where {
				t.Errorf("item %d: Where = %q, want %q", i, m.Where, where)
			}
		}
	}
}

func checkpointOffset(t testing.TB, ck string) int64 {
	t.Helper()
	off, _, err := parseCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

// TestMboxVariantDecision checks the file-wide decisions.
func TestMboxVariantDecision(t *testing.T) {
	// An unescaped From line in a Content-Length body makes the file
	// mboxcl2: a later ">From " line is kept.
	cl2 := writeCL([]string{msgOnlyF, "Subject: x\n\n>From kept\n"}, false)
	got := datas(readAll(t, cl2, nil))
	want := []string{clMessage(msgOnlyF, false), clMessage("Subject: x\n\n>From kept\n", false)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mboxcl2 (-want +got):\n%s", diff)
	}
	// A fitting Content-Length hides From lines in the body...
	fits := postmark + "Content-Length: %d\n\nFrom the start\n\nFrom me Thu Jan  1 00:00:00 1970\n12345\n\n"
	fits = fmt.Sprintf(fits, len("From the start\n\nFrom me Thu Jan  1 00:00:00 1970\n12345\n"))
	got = datas(readAll(t, []byte(fits), nil))
	if diff := cmp.Diff([]string{"Content-Length: 55\n\nFrom the start\n\nFrom me Thu Jan  1 00:00:00 1970\n12345\n"}, got); diff != "" {
		t.Errorf("fitting Content-Length (-want +got):\n%s", diff)
	}
	// ... but no longer after three that did not fit.
	wrong := postmark + "Content-Length: 1\n\nwrong\n\n"
	got = datas(readAll(t, []byte(strings.Repeat(wrong, 3)+fits), nil))
	want = []string{"Content-Length: 1\n\nwrong\n", "Content-Length: 1\n\nwrong\n", "Content-Length: 1\n\nwrong\n",
		"Content-Length: 55\n\nFrom the start\n", "12345\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("distrusted Content-Length (-want +got):\n%s", diff)
	}
}

func TestMboxLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*readBuffer+17)
	msgs := []string{
		"Subject: long\n\n" + long + "\nFrom " + long + "\n>From " + long + "\n",
		"Subject: " + long + "\n\nshort\n",
	}
	data := writeRD(msgs)
	// A separator line longer than the buffer too.
	data = append(data, []byte("From "+long+" Thu Jan  1 00:00:00 1970\nSubject: c\n\nd\n")...)
	got := datas(readAll(t, data, nil))
	want := append(msgs, "Subject: c\n\nd\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages differ (-want +got):\n%.2000s", diff)
	}
}

func TestMboxLargeMessage(t *testing.T) {
	line := strings.Repeat("0123456789", 7) + "\n"
	msg := "Subject: big\n\n" + strings.Repeat(line, 20<<20/len(line)+1)
	// Written directly: the body needs no escaping.
	data := writeRD([]string{msgPlain})
	data = append(data, postmark+msg+"\n"...)
	data = append(data, writeRD([]string{msgFrom})...)
	got := readAll(t, data, nil)
	if len(got) != 3 || string(got[1].Data) != msg || string(got[2].Data) != msgFrom {
		t.Fatalf("20 MB message not read back (%d items)", len(got))
	}
}

func TestMboxTooLarge(t *testing.T) {
	data := writeRD([]string{msgPlain, "Subject: big\n\n" + strings.Repeat("y\n", 5000), msgFrom})
	r, err := newMboxReader(context.Background(), "big.mbox", bytes.NewReader(data), nil, withDefaults(nil))
	if err != nil {
		t.Fatal(err)
	}
	r.maxMessage = 4096
	var got []string
	var cks []string
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		cks = append(cks, m.Checkpoint)
		if m.Err != nil {
			got = append(got, "ERR")
			continue
		}
		got = append(got, string(m.Data))
	}
	if diff := cmp.Diff([]string{msgPlain, "ERR", msgFrom}, got); diff != "" {
		t.Errorf("messages differ (-want +got):\n%s", diff)
	}
	// The checkpoints of a skipped message are the same as when kept.
	if diff := cmp.Diff(checkpoints(readAll(t, data, nil)), cks); diff != "" {
		t.Errorf("checkpoints differ (-kept +skipped):\n%s", diff)
	}
}

func checkpoints(ms []*Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Checkpoint)
	}
	return out
}

// compressors write data in each supported container.
var compressors = map[string]func(t testing.TB, data []byte) []byte{
	"plain": func(t testing.TB, data []byte) []byte { return data },
	"gzip": func(t testing.TB, data []byte) []byte {
		var b bytes.Buffer
		// Two members, as concatenated .gz files have.
		for _, part := range [][]byte{data[:len(data)/2], data[len(data)/2:]} {
			w := gzip.NewWriter(&b)
			w.Write(part)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	},
	"xz": func(t testing.TB, data []byte) []byte {
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	},
	"zstd": func(t testing.TB, data []byte) []byte {
		w, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		return w.EncodeAll(data, nil)
	},
}

// testMessages returns n distinct messages, some with From lines.
func testMessages(n int) []string {
	var msgs []string
	for i := range n {
		m := fmt.Sprintf("Message-ID: <%d@example.org>\nSubject: message %d\n\n", i, i)
		m += strings.Repeat(fmt.Sprintf("line %d of a body that fills some room\n", i), i%7*50)
		if i%3 == 0 {
			m += "\nFrom the start of it\n>From quoted\n"
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// openAll opens path and reads every item.
func openAll(t testing.TB, path string, o *Options) ([]*Message, error) {
	t.Helper()
	r, err := Open(context.Background(), path, o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var ms []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return ms, r.Close()
		}
		if err != nil {
			return ms, err
		}
		ms = append(ms, m)
	}
}

func resumeAt(key, ck string) *Options {
	return &Options{Checkpoint: func(k string) (string, bool) { return ck, k == key }}
}

func TestMboxFileResume(t *testing.T) {
	msgs := testMessages(40)
	raw := writeRD(msgs)
	for name, compress := range compressors {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "archive") // no telling extension
			writeFile(t, path, compress(t, raw))
			all, err := openAll(t, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(msgs, datas(all)); diff != "" {
				t.Fatalf("messages differ (-want +got):\n%.3000s", diff)
			}
			for _, k := range []int{0, 1, 17, len(msgs) - 2, len(msgs) - 1} {
				rest, err := openAll(t, path, resumeAt("", all[k].Checkpoint))
				if err != nil {
					t.Fatalf("resume after message %d: %v", k, err)
				}
				if diff := cmp.Diff(msgs[k+1:], datas(rest), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("resume after message %d (-want +got):\n%.3000s", k, diff)
				}
			}
		})
	}
}

func TestMboxFileAppendedResume(t *testing.T) {
	msgs := testMessages(10)
	path := filepath.Join(t.TempDir(), "a.mbox")
	writeFile(t, path, writeRD(msgs[:6]))
	first, err := openAll(t, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, writeRD(msgs))
	rest, err := openAll(t, path, resumeAt("", first[len(first)-1].Checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(msgs[6:], datas(rest)); diff != "" {
		t.Errorf("after append (-want +got):\n%s", diff)
	}
}

func TestMboxFileRewritten(t *testing.T) {
	msgs := testMessages(10)
	raw := writeRD(msgs)
	changed := bytes.Replace(raw, []byte("message 7"), []byte("massage 7"), 1)
	for name, compress := range compressors {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.mbox")
			writeFile(t, path, compress(t, raw))
			all, err := openAll(t, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			ck := all[8].Checkpoint
			for _, tc := range []struct {
				name string
				data []byte
			}{
				{"shrunk", raw[:len(raw)/2]},
				{"changed", changed},
				{"earlier message removed", writeRD(append(append([]string{}, msgs[:3]...), msgs[4:]...))},
			} {
				writeFile(t, path, compress(t, tc.data))
				_, err := openAll(t, path, resumeAt("", ck))
				if !errors.Is(err, ErrRewritten) || !strings.Contains(err.Error(), path) {
					t.Errorf("%s: error %v, want ErrRewritten naming %s", tc.name, err, path)
				}
			}
			writeFile(t, path, compress(t, raw))
			if _, err := openAll(t, path, resumeAt("", "12:nohex")); err == nil || errors.Is(err, ErrRewritten) {
				t.Errorf("malformed checkpoint: error %v, want a plain error", err)
			}
		})
	}
}

// TestMboxTruncatedCompressed reads cut compressed files: every byte the
// command-line decompressor recovers is yielded, the last message cut
// short, then an item with Err saying the stream is truncated and what
// was kept; no error.
func TestMboxTruncatedCompressed(t *testing.T) {
	msgs := testMessages(40)
	for _, kind := range []string{"gzip", "xz", "zstd"} {
		t.Run(kind, func(t *testing.T) {
			full := compressors[kind](t, writeRD(msgs))
			cut := full[:len(full)*3/4]
			path := filepath.Join(t.TempDir(), "cut.mbox."+kind)
			writeFile(t, path, cut)
			got, err := openAll(t, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < 3 || len(got) > 41 {
				t.Fatalf("got %d items, want some of 40 messages and a problem", len(got))
			}
			problem := got[len(got)-1]
			got = got[:len(got)-1]
			n := len(got) - 1
			if diff := cmp.Diff(msgs[:n], datas(got[:n])); diff != "" {
				t.Errorf("messages differ (-want +got):\n%.2000s", diff)
			}
			if last := string(got[n].Data); !strings.HasPrefix(msgs[n], last) {
				t.Errorf("last message %.200q is no prefix of %.200q", last, msgs[n])
			}
			want := fmt.Sprintf("compressed stream is truncated; kept the %d messages before it", n+1)
			if problem.Err == nil || !strings.Contains(problem.Err.Error(), want) || !strings.Contains(problem.Err.Error(), path) {
				t.Errorf("last item %+v, want Err naming %s and saying %q", problem, path, want)
			}
			// Every byte the decompressor recovers was used.
			cmd := exec.Command(kind, "-dc")
			cmd.Stdin = bytes.NewReader(cut)
			plain, err := cmd.Output()
			if errors.Is(err, exec.ErrNotFound) {
				t.Skipf("%s is not installed: %v", kind, err)
			}
			if err == nil {
				t.Fatalf("%s -dc of the cut file: no error", kind)
			}
			for _, m := range []*Message{got[n], problem} {
				if off := checkpointOffset(t, m.Checkpoint); off != int64(len(plain)) {
					t.Errorf("checkpoint %s at offset %d, want the %d bytes %s -dc recovers", m.Where, off, len(plain), kind)
				}
			}
		})
	}
}

func TestMboxContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := newMboxReader(ctx, "c.mbox", bytes.NewReader(writeRD(testMessages(5))), nil, withDefaults(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %v, want context.Canceled", err)
	}
	if _, err := r.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("error not sticky: %v", err)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		in    string
		rd, o string
	}{
		{">From a\n>>From b\nFrom c\n>x\n", "From a\n>From b\nFrom c\n>x\n", "From a\n>>From b\nFrom c\n>x\n"},
		{">From no newline", "From no newline", "From no newline"},
		{"a\n>From b\r\n", "a\nFrom b\r\n", "a\nFrom b\r\n"},
		{">Fromage\n", ">Fromage\n", ">Fromage\n"},
	}
	for _, tt := range tests {
		if got := string(unescape([]byte(tt.in), true)); got != tt.rd {
			t.Errorf("unescape(%q, rd) = %q, want %q", tt.in, got, tt.rd)
		}
		if got := string(unescape([]byte(tt.in), false)); got != tt.o {
			t.Errorf("unescape(%q, o) = %q, want %q", tt.in, got, tt.o)
		}
	}
}

func TestLooksLikePostmark(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n", true},
		{"From 1234abcd Mon Sep 17 00:00:00 2001\n", true},
		{"From a@b Sat, 3 Jan 1996 01:05:34 +0000\r\n", true},
		{"From the start of it\n", false},
		{"From me at 10:30 in the morning\n", false},
		{"From 2011\n", false},
	}
	for _, tt := range tests {
		if got := looksLikePostmark([]byte(tt.line)); got != tt.want {
			t.Errorf("looksLikePostmark(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

// TestMboxExternalCompressors reads files written by the usual tools,
// where installed (bzip2 has no Go writer; xz -9 declares a 64 MiB
// dictionary; zstd --long a 128 MiB window).
func TestMboxExternalCompressors(t *testing.T) {
	msgs := testMessages(30)
	raw := writeRD(msgs)
	for _, tool := range [][]string{{"gzip", "-9"}, {"bzip2"}, {"xz", "-9"}, {"zstd", "-q", "--long=27"}} {
		t.Run(tool[0], func(t *testing.T) {
			if _, err := exec.LookPath(tool[0]); err != nil {
				t.Skipf("%s not installed", tool[0])
			}
			cmd := exec.Command(tool[0], append(tool[1:], "-c")...)
			cmd.Stdin = bytes.NewReader(raw)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "archive.mbox")
			writeFile(t, path, out)
			got, err := openAll(t, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(msgs, datas(got)); diff != "" {
				t.Errorf("messages differ (-want +got):\n%.2000s", diff)
			}
		})
	}
}

// BenchmarkMboxReader reads an mboxrd stream of 2,000 messages (~13 MB).
func BenchmarkMboxReader(b *testing.B) {
	data := writeRD(testMessages(2000))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := newMboxReader(context.Background(), "bench", bytes.NewReader(data), nil, withDefaults(nil))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
	}
}
