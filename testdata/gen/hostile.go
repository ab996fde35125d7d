package main

import (
	"bytes"
	"fmt"
	"strings"
)

// hostileFixtures builds testdata/hostile/*: small inputs that must not
// split a message, hang, or lose data without a word. Large or special
// hostile inputs (a 2 GB sparse file, FIFOs, symlinks to /dev/zero,
// corrupt or truncated packs, a 10 MB Cc line) are made by the tests
// that need them.
func hostileFixtures() ([]fixture, error) {
	d := at("2024-02-01 09:00:00 +0000")
	m := func(id, subject, body string) *msg {
		return &msg{from: alice, to: list, subject: subject, date: d, id: id, body: body}
	}
	bodyFrom := []*msg{
		m("body-from-1@example.org", "blank line, then From", "Hello.\n\nFrom the start it was clear.\n\nFrom what I see, nothing splits here.\n"),
		m("body-from-2@example.org", "the next message", "Short.\n"),
	}
	crOnly := []*msg{
		m("cr-only-1@example.org", "classic Mac OS line ends", "One.\n"),
		m("cr-only-2@example.org", "second", "Two.\n"),
	}
	var cut []*msg
	for i := range 40 {
		cut = append(cut, m(fmt.Sprintf("cut-%d@example.org", i), fmt.Sprintf("message %d of a cut archive", i),
			strings.Repeat(fmt.Sprintf("Line of message %d, long enough to need a few chunks.\n", i), 20+i%9*40)))
	}
	whole := writeMbox(mboxrd, cut)
	gz, err := gzipBytes(whole)
	if err != nil {
		return nil, err
	}
	xzb, err := xzBytes(whole)
	if err != nil {
		return nil, err
	}
	return []fixture{
		{"body-from.mbox", writeMbox(mboxraw, bodyFrom), wantSeparators(len(bodyFrom) + 2)},
		{"cr-only.mbox", bytes.ReplaceAll(writeMbox(mboxrd, crOnly), []byte("\n"), []byte("\r")), nil},
		{"truncated.mbox.gz", gz[:len(gz)*3/4], nil},
		{"truncated.mbox.xz", xzb[:len(xzb)*3/4], nil},
	}, nil
}
