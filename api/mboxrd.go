package api

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
// continuation lines, by PublicInbox::Mbox::msg_hdr. The patterns are
// PublicInbox::Eml's re_memo: a continuation line is any line with a
// space or tab before its first ':' (a quirk kept on purpose).
var droppedHeaders = func() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, name := range []string{"Lines", "Bytes", "Content-Length", "Status"} {
		out = append(out, regexp.MustCompile(`(?im)^`+name+`:[ \t]*[^\n]*\r?\n(?:[^:\n]*?[ \t]+[^\n]*\r?\n)*`))
	}
	return out
}()

var (
	leadingFromLine = regexp.MustCompile(`\A[\r\n]*From [^\r\n]*\r?\n`)
	fromLine        = regexp.MustCompile(`(?m)^(>*From )`)
	blankLine       = regexp.MustCompile(`\r?\n(\r?\n)`)
	headerStart     = regexp.MustCompile(`(?im)^[a-z0-9-]+[ \t]*:`)
	trailingEOL     = regexp.MustCompile(`(\r?\n)\z`)
	firstEOL        = regexp.MustCompile(`\r?\n`)
)

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
	for _, re := range droppedHeaders {
		hdr = re.ReplaceAllLiteral(hdr, nil)
	}
	hdr = leadingFromLine.ReplaceAllLiteral(hdr, nil)
	var b bytes.Buffer
	b.Grow(len(raw) + len(mboxrdFrom) + 16)
	b.WriteString(mboxrdFrom)
	b.WriteString(crlf)
	b.Write(hdr)
	b.WriteString(crlf)
	if hasBody {
		b.Write(fromLine.ReplaceAll(body, []byte(">$1")))
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// splitMessage splits raw into header block and body as
// PublicInbox::Eml->new does, returning the line ending it detected.
func splitMessage(raw []byte) (hdr, body []byte, crlf string, hasBody bool) {
	if !bytes.Contains(raw, []byte("\r\n")) {
		if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
			return truncateHeader(raw[:i+1]), raw[i+2:], "\n", true
		}
	}
	if m := blankLine.FindSubmatchIndex(raw); m != nil {
		eol := string(raw[m[2]:m[3]])
		return truncateHeader(raw[:m[2]]), raw[m[1]:], eol, true
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
