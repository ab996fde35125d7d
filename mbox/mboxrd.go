package mbox

import (
	"bytes"
	"io"
	"regexp"
)

// mboxrdFrom is the separator line public-inbox writes before each
// message (followed by the message's own line ending).
const mboxrdFrom = "From mboxrd@z Thu Jan  1 00:00:00 1970"

// headerSizeLimit is public-inbox's cap on a header block (postfix's
// header_size_limit); longer headers are cut at the last line end before it.
const headerSizeLimit = 102400

// droppedHeaders are removed from the header block, with their
// continuation lines, by PublicInbox::Mbox::msg_hdr.
var droppedHeaders = []string{"Lines", "Bytes", "Content-Length", "Status"}

var (
	headerStart = regexp.MustCompile(`(?im)^[a-z0-9-]+[ \t]*:`)
	trailingEOL = regexp.MustCompile(`(\r?\n)\z`)
	firstEOL    = regexp.MustCompile(`\r?\n`)
)

// The mboxrd writer: mbox owns the format both ways (the readers are in
// mboxfile.go and lines.go).

// WriteMboxrd writes raw as one mboxrd message byte for byte as
// public-inbox 1.9 does (PublicInbox::Mbox msg_hdr and msg_body over
// PublicInbox::Eml): the "From mboxrd@z" line, the header block without
// Lines/Bytes/Content-Length/Status (and without a leading From_ line),
// a blank line, the body with every line matching ^>*From  given one
// more '>', and one "\n". Line endings are kept: a CRLF message gets CRLF
// after the From line and the header block, but the final newline is
// always "\n". A message without a body gets just "\n" after the blank line.
func WriteMboxrd(w io.Writer, raw []byte) error {
	hdr, body, crlf, hasBody := splitMessage(raw)
	var b bytes.Buffer
	b.Grow(len(raw) + len(mboxrdFrom) + 64)
	b.WriteString(mboxrdFrom)
	b.WriteString(crlf)
	b.Write(cutLeadingFrom(dropHeaders(hdr)))
	b.WriteString(crlf)
	if hasBody {
		escapeFrom(&b, body)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// dropHeaders removes the droppedHeaders as PublicInbox::Eml's
// header_set does with its re_memo pattern
// ^NAME:[ \t]*[^\n]*\r?\n(?:[^:\n]*?[ \t]+[^\n]*\r?\n)* (/im): the
// header line and every following line that has a space or tab before its
// first ':' (a looser idea of a continuation line than RFC 5322's, kept on
// purpose). Lines without a final newline are never removed.
func dropHeaders(hdr []byte) []byte {
	var out []byte // nil until something is dropped
	at := 0        // start of the current line
	kept := 0      // hdr[kept:at] is pending, to be copied into out
	for at < len(hdr) {
		end := bytes.IndexByte(hdr[at:], '\n')
		if end < 0 {
			break
		}
		end += at + 1
		if !isDroppedHeader(hdr[at:end]) {
			at = end
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(hdr))
		}
		out = append(out, hdr[kept:at]...)
		at = end
		for at < len(hdr) {
			e := bytes.IndexByte(hdr[at:], '\n')
			if e < 0 || !isContinuation(hdr[at:at+e]) {
				break
			}
			at += e + 1
		}
		kept = at
	}
	if out == nil {
		return hdr
	}
	return append(out, hdr[kept:]...)
}

// isDroppedHeader reports whether line starts with one of
// droppedHeaders and a colon, in any case.
func isDroppedHeader(line []byte) bool {
	for _, name := range droppedHeaders {
		if len(line) > len(name) && line[len(name)] == ':' && asciiEqualFold(line[:len(name)], name) {
			return true
		}
	}
	return false
}

func asciiEqualFold(b []byte, s string) bool {
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isContinuation reports whether line (without its newline) has a space
// or tab before its first ':'.
func isContinuation(line []byte) bool {
	for _, c := range line {
		switch c {
		case ':':
			return false
		case ' ', '\t':
			return true
		}
	}
	return false
}

// cutLeadingFrom removes a From_ line at the very start of the header
// block (after any CR/LF), as msg_hdr's s/\A[\r\n]*From [^\r\n]*\r?\n//
// does.
func cutLeadingFrom(hdr []byte) []byte {
	i := 0
	for i < len(hdr) && (hdr[i] == '\r' || hdr[i] == '\n') {
		i++
	}
	if !bytes.HasPrefix(hdr[i:], []byte("From ")) {
		return hdr
	}
	j := i + len("From ")
	for j < len(hdr) && hdr[j] != '\r' && hdr[j] != '\n' {
		j++
	}
	switch {
	case j < len(hdr) && hdr[j] == '\n':
		return hdr[j+1:]
	case j+1 < len(hdr) && hdr[j] == '\r' && hdr[j+1] == '\n':
		return hdr[j+2:]
	}
	return hdr
}

// escapeFrom writes body with one more '>' before every line matching
// ^>*From  (mboxrd quoting).
func escapeFrom(b *bytes.Buffer, body []byte) {
	for len(body) > 0 {
		if quotedFrom(body) {
			b.WriteByte('>')
		}
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			b.Write(body)
			return
		}
		b.Write(body[:i+1])
		body = body[i+1:]
	}
}

// quotedFrom reports whether s starts with >*"From ".
func quotedFrom(s []byte) bool {
	i := 0
	for i < len(s) && s[i] == '>' {
		i++
	}
	return bytes.HasPrefix(s[i:], []byte("From "))
}

// splitMessage splits raw into header block and body as
// PublicInbox::Eml->new does, returning the line ending it detected.
func splitMessage(raw []byte) (hdr, body []byte, crlf string, hasBody bool) {
	if !bytes.Contains(raw, []byte("\r\n")) {
		if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
			return truncateHeader(raw[:i+1]), raw[i+2:], "\n", true
		}
	}
	// The first /\r?\n(\r?\n)/: a line end followed by an empty line.
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		j += i
		switch {
		case j+1 < len(raw) && raw[j+1] == '\n':
			return truncateHeader(raw[:j+1]), raw[j+2:], "\n", true
		case j+2 < len(raw) && raw[j+1] == '\r' && raw[j+2] == '\n':
			return truncateHeader(raw[:j+1]), raw[j+3:], "\r\n", true
		}
		i = j + 1
	}
	if headerStart.Match(raw) {
		if m := trailingEOL.FindSubmatch(raw); m != nil {
			return truncateHeader(raw), nil, string(m[1]), false
		}
	}
	eol := "\n"
	if m := firstEOL.Find(raw); m != nil {
		eol = string(m)
	}
	return nil, raw, eol, true
}

// truncateHeader applies public-inbox's header size limit.
func truncateHeader(h []byte) []byte {
	if len(h) <= headerSizeLimit {
		return h
	}
	h = h[:headerSizeLimit]
	if i := bytes.LastIndexByte(h, '\n'); i >= 0 {
		return h[:i+1]
	}
	return nil
}

// HeaderBlock is the header block of raw as WriteMboxrd splits it (for
// reading a header such as the charset without parsing the message).
func HeaderBlock(raw []byte) []byte {
	hdr, _, _, _ := splitMessage(raw)
	return hdr
}
