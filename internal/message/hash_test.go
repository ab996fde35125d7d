package message

import (
	"crypto/sha256"
	"strings"
	"testing"
)

func TestContentHash(t *testing.T) {
	base := []string{
		"Received: from x by y; Mon, 1 Jan 2024 10:00:05 +0000",
		"From: Jens Axboe <axboe@kernel.dk>",
		"To: io-uring@vger.kernel.org",
		"Cc: Pavel <asml.silence@gmail.com>",
		"Subject: [PATCH] io_uring: fix",
		"Date: Mon, 1 Jan 2024 10:00:00 +0000",
		"Message-ID: <a@b>",
		"In-Reply-To: <p@q>",
		"References: <r@s> <p@q>",
		"List-Id: <io-uring.vger.kernel.org>",
		"",
		"Body line",
		"",
		"-- ",
		"2.43.0",
	}
	edit := func(f func([]string) []string) []byte {
		return msg(f(append([]string(nil), base...))...)
	}
	replace := func(old, new string) []byte {
		return edit(func(l []string) []string {
			for i := range l {
				if l[i] == old {
					l[i] = new
					return l
				}
			}
			t.Fatalf("no line %q", old)
			return nil
		})
	}
	want := mustParse(t, msg(base...)).ContentHash

	same := map[string][]byte{
		"CRLF":                 toCRLF(msg(base...)),
		"trailing whitespace":  replace("Body line", "Body line \t"),
		"trailing blank lines": msg(append(append([]string(nil), base...), "", "", "")...),
		"List-Id changed":      replace("List-Id: <io-uring.vger.kernel.org>", "List-Id: <other.example.org>"),
		"Received changed":     replace("Received: from x by y; Mon, 1 Jan 2024 10:00:05 +0000", "Received: from z by w; Tue, 2 Jan 2024 10:00:05 +0000"),
		"Received added": edit(func(l []string) []string {
			return append([]string{"Received: from q; Mon, 1 Jan 2024 11:00:00 +0000"}, l...)
		}),
		"Message-ID changed": replace("Message-ID: <a@b>", "Message-ID: <other@b>"),
		"other headers": edit(func(l []string) []string {
			return append([]string{"X-Mailer: git-send-email", "DKIM-Signature: v=1"}, l...)
		}),
		"References folded":        replace("References: <r@s> <p@q>", "References: <r@s>\n <p@q>"),
		"same instant, other zone": replace("Date: Mon, 1 Jan 2024 10:00:00 +0000", "Date: Mon, 1 Jan 2024 11:00:00 +0100"),
		"In-Reply-To also in Refs": replace("References: <r@s> <p@q>", "References: <r@s>"),
		"own id in References":     replace("References: <r@s> <p@q>", "References: <r@s> <a@b> <p@q>"),
		"encoded-word Subject":     replace("Subject: [PATCH] io_uring: fix", "Subject: =?utf-8?q?=5BPATCH=5D_io=5Furing=3A_fix?="),
		"address case":             replace("To: io-uring@vger.kernel.org", "To: IO-URING@vger.kernel.org"),
		"quoted display name":      replace("From: Jens Axboe <axboe@kernel.dk>", `From: "Jens Axboe" <axboe@kernel.dk>`),
		"mbox From line":           edit(func(l []string) []string { return append([]string{"From mboxrd@z Thu Jan  1 00:00:00 1970"}, l...) }),
		"transfer-encoded body (qp)": edit(func(l []string) []string {
			return append(l[:10:10], "Content-Transfer-Encoding: quoted-printable", "", "Body=20line", "", "-- ", "2.43.0")
		}),
	}
	for name, raw := range same {
		if got := mustParse(t, raw).ContentHash; got != want {
			t.Errorf("%s: hash changed", name)
		}
	}

	differ := map[string][]byte{
		"Subject":     replace("Subject: [PATCH] io_uring: fix", "Subject: [PATCH v2] io_uring: fix"),
		"From":        replace("From: Jens Axboe <axboe@kernel.dk>", "From: Jens Axboe <jens@kernel.dk>"),
		"From name":   replace("From: Jens Axboe <axboe@kernel.dk>", "From: J. Axboe <axboe@kernel.dk>"),
		"To":          replace("To: io-uring@vger.kernel.org", "To: linux-block@vger.kernel.org"),
		"Cc":          replace("Cc: Pavel <asml.silence@gmail.com>", "Cc: Pavel <p@gmail.com>"),
		"Date":        replace("Date: Mon, 1 Jan 2024 10:00:00 +0000", "Date: Mon, 1 Jan 2024 10:00:01 +0000"),
		"References":  replace("References: <r@s> <p@q>", "References: <r2@s> <p@q>"),
		"In-Reply-To": replace("In-Reply-To: <p@q>", "In-Reply-To: <p2@q>"),
		"body":        replace("Body line", "Body line."),
		"Sender":      edit(func(l []string) []string { return append([]string{"Sender: list@x.org"}, l...) }),
		"attachment": edit(func(l []string) []string {
			return append(l[:10:10], "Content-Type: multipart/mixed; boundary=b", "", "--b", "", "Body line", "--b",
				"Content-Type: application/octet-stream", "", "data", "--b--")
		}),
	}
	for name, raw := range differ {
		if got := mustParse(t, raw).ContentHash; got == want {
			t.Errorf("%s changed, hash did not", name)
		}
	}

	// Attachments: a different binary content changes the hash.
	att := func(data string) [32]byte {
		return mustParse(t, msg("From: a@b.c", "Content-Type: multipart/mixed; boundary=b", "", "--b", "", "text", "--b",
			"Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", "", data, "--b--")).ContentHash
	}
	if att("AAEC") == att("AAED") {
		t.Error("attachment content change kept the hash")
	}
	if att("AAEC") != att("AA\nEC") {
		t.Error("base64 line breaks changed the hash")
	}
}

func TestNormalized(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"a":                     "a",
		"a \t\r\n":              "a",
		"a\n\n\nb\n\n":          "a\n\n\nb",
		"\n\nlead":              "\n\nlead",
		"x  \ny\t\n \n\t\n":     "x\ny",
		strings.Repeat("z", 20): strings.Repeat("z", 20),
	} {
		var got strings.Builder
		walkNormalized(in, func(s string) { got.WriteString(s) }, func(k int) { got.WriteString(strings.Repeat("\n", k)) })
		if got.String() != want {
			t.Errorf("normalized(%q) = %q, want %q", in, got.String(), want)
		}
		if contentDigest(in) != sha256.Sum256([]byte(want)) || contentDigest([]byte(in)) != sha256.Sum256([]byte(want)) {
			t.Errorf("contentDigest(%q) is not the digest of %q", in, want)
		}
	}
}
