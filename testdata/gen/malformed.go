package main

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
)

// fixture is one generated file and how to self-check it.
type fixture struct {
	name  string
	data  []byte
	check func([]byte) error // nil: no structural check
}

// malformedFixtures builds testdata/malformed/*.
func malformedFixtures() []fixture {
	d := at("2024-01-10 10:00:00 +0000")
	m := func(id, subject, body string, hdr ...string) *msg {
		return &msg{from: alice, to: list, subject: subject, date: d, id: id, body: body, hdr: hdr}
	}

	rng := rand.New(rand.NewChaCha8([32]byte{'p', 'a', 't', 'c', 'h', 't', 'r', 'a', 'i', 'l'}))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	garbage = bytes.ReplaceAll(garbage, []byte("From "), []byte("Frxm "))

	cyc := []*msg{
		{from: alice, subject: "cycle A", date: d, id: "cycle-a@example.org", irt: "cycle-b@example.org", refs: []string{"cycle-b@example.org"}, body: "A replies to B.\n"},
		{from: bob, subject: "Re: cycle A", date: d, id: "cycle-b@example.org", irt: "cycle-a@example.org", refs: []string{"cycle-a@example.org"}, body: "B replies to A.\n"},
		{from: carol, subject: "self", date: d, id: "self-ref@example.org", irt: "self-ref@example.org", refs: []string{"self-ref@example.org"}, body: "I reference myself.\n"},
		{from: dave, subject: "ring 1", date: d, id: "ring-1@example.org", irt: "ring-3@example.org", refs: []string{"ring-2@example.org", "ring-3@example.org"}, body: "1 -> 3 (and 2)\n"},
		{from: dave, subject: "ring 2", date: d, id: "ring-2@example.org", irt: "ring-1@example.org", body: "2 -> 1\n"},
		{from: dave, subject: "ring 3", date: d, id: "ring-3@example.org", irt: "ring-2@example.org", body: "3 -> 2\n"},
	}

	utf8Hdr := []string{"MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"}
	bad := []*msg{
		m("bad-utf8-raw@example.org", "raw \xff\xfe bytes in subject", "overlong \xc0\xaf, surrogate \xed\xa0\x80, lone \x80, cut \xe2\x82\n", utf8Hdr...),
		m("bad-utf8-2047@example.org", "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("enc \xff\xfe word"))+"?=", "encoded-word decodes to invalid UTF-8\n", utf8Hdr...),
		m("bad-utf8-b64@example.org", "base64 body with invalid UTF-8", base64.StdEncoding.EncodeToString([]byte("valid \xf0\x9f\x90\xa7 then \xf8\x88\x80\x80\x80 invalid\n"))+"\n",
			"MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"),
	}
	bad[0].from = "Al\xefce \xff <alice@example.org>"

	var dates []*msg
	for i, v := range []string{"Thu, 32 Foo 2021 25:61:00 +9999", "yesterday", emptyDate, "Mon, 1 Jan 24 10:00:00 +0000",
		"Mon 15 Jan 2024 10:00:00 +0000", "Tue, 16 Jan 2024 10:00:00 GMT+0100", "2024-01-17T10:00:00Z",
		"Thu, 18 Jan 2024 10:00 +0000", "18 Jan 2024 10:00:00 EST", omitDate} {
		dm := m("", "bogus date "+string(rune('a'+i)), "Date header: "+v+"\n",
			"Received: from mail.example.org by mx.example.org; Fri, 19 Jan 2024 12:00:00 +0000")
		dm.id, dm.rawDate = "bogus-date-"+string(rune('a'+i))+"@example.org", v
		dates = append(dates, dm)
	}

	nul := []*msg{
		m("crlf-1@example.org", "CRLF line ends with a NUL\x00 in the subject", "body line\nNUL here:\x00<- and a From line:\nFrom the start\n"),
		m("crlf-2@example.org", "second CRLF message", "short\n"),
	}
	crlf := bytes.ReplaceAll(writeMbox(mboxrd, nul), []byte("\n"), []byte("\r\n"))

	trunc := []*msg{m("trunc-1@example.org", "complete one", "fine\n"), m("trunc-2@example.org", "complete two", "fine too\n"),
		m("trunc-3@example.org-this-one-is-cut", "cut off", "never seen\n")}
	truncated := writeMbox(mboxrd, trunc)
	truncated = truncated[:bytes.Index(truncated, []byte("org-this-one"))]

	// Bodies that the mbox variants escape differently; the last one
	// carries a line that looks exactly like a separator.
	variants := []*msg{
		m("variant-1@example.org", "plain", "Nothing special here.\n"),
		m("variant-2@example.org", "from lines", "From the top.\n>From a quote.\n>>From deeper.\n"),
		m("variant-3@example.org", "separator lookalike", "Before.\n\nFrom nobody Mon Jan  1 00:00:00 2024\nAfter: not a new message.\n"),
	}

	return []fixture{
		{"garbage.bin", garbage, nil},
		{"header-only.eml", []byte("From: " + alice + "\nTo: " + list + "\nSubject: headers and nothing else\nDate: Wed, 10 Jan 2024 10:00:00 +0000\nMessage-ID: <header-only@example.org>\n"), nil},
		{"cyclic-refs.mbox", writeMbox(mboxrd, cyc), wantSeparators(len(cyc))},
		{"invalid-utf8.mbox", writeMbox(mboxrd, bad), wantSeparators(len(bad))},
		{"bogus-dates.mbox", writeMbox(mboxrd, dates), wantSeparators(len(dates))},
		{"crlf-nul.mbox", crlf, wantSeparators(len(nul))},
		{"truncated.mbox", truncated, wantSeparators(len(trunc))},
		{"mboxo.mbox", writeMbox(mboxo, variants), wantSeparators(len(variants))},
		{"mboxcl.mbox", writeMbox(mboxcl, variants), wantCL(len(variants), false)},
		{"mboxcl2.mbox", writeMbox(mboxcl2, variants), wantCL(len(variants), true)},
	}
}

// rawDate sentinels: drop the Date header, or write it with no value.
const (
	omitDate  = "(no Date header)"
	emptyDate = "(empty Date header)"
)
