package message

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics and that its results keep the
// invariants (checkInvariants), whatever the bytes. Seeds are in
// testdata/fuzz/FuzzParse and below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"From: a@b.c\nSubject: s\nMessage-ID: <a@b>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nbody\n",
		"From: =?x?q?a?= <a@b>\r\nReferences: <a@b> <y> <c@d>\r\nIn-Reply-To: c@d\r\n\r\nOn x wrote:\r\n> q\r\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-patch\n\n+x\n--b\nContent-Type: multipart/alternative; boundary=c\n\n--c\n\nt\n--c--\n--b--\n",
		"Content-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGI+eDwvYj4=\n",
		"Content-Type: text/plain; charset=x-bad\nContent-Transfer-Encoding: quoted-printable\n\n=E9=\n=ZZ\x00\n",
		"Date: Mon 1 Jan 99 10:00 GMT+0100 (PST)\nReceived: x; 2024-01-01T10:00:00Z\n\n",
		"X: y",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, nil)
		if err != nil {
			if !errors.Is(err, ErrNotMail) || m != nil {
				t.Fatalf("Parse = %v, %v", m, err)
			}
			return
		}
		if msg := checkInvariants(m); msg != "" {
			t.Fatalf("invariant: %s", msg)
		}
		if m.Size != len(raw) {
			t.Fatalf("Size %d, want %d", m.Size, len(raw))
		}
	})
}
