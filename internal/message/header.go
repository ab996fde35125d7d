package message

import (
	"bytes"
	"fmt"
	"strings"
)

// Field is one header field.
type Field struct {
	Key   string // field name as written, e.g. "Message-ID"
	Value string // unfolded (continuation lines joined by one space, ends trimmed), not decoded; may hold invalid UTF-8
}

// Header is the list of header fields in message order. It keeps the raw
// header block and the position of each field in it; values are unfolded
// when asked for, since most fields (Received chains, DKIM and ARC
// signatures: more than half the bytes of list mail) are never read.
type Header struct {
	raw    []byte
	fields []span
}

// span is one field: its key and its raw value raw[start:end], over
// several lines when folded.
type span struct {
	key        string
	start, end int
	folded     bool
}

func (h Header) value(sp *span) string {
	if sp.folded {
		return unfold(h.raw[sp.start:sp.end])
	}
	return string(bytes.Trim(h.raw[sp.start:sp.end], " \t\r"))
}

// Get returns the value of the first field named key (case-insensitive),
// or "" when there is none.
func (h Header) Get(key string) string {
	for i := range h.fields {
		if len(h.fields[i].key) == len(key) && strings.EqualFold(h.fields[i].key, key) {
			return h.value(&h.fields[i])
		}
	}
	return ""
}

// Values returns the values of all fields named key (case-insensitive), in
// message order.
func (h Header) Values(key string) []string {
	var vs []string
	for i := range h.fields {
		if len(h.fields[i].key) == len(key) && strings.EqualFold(h.fields[i].key, key) {
			vs = append(vs, h.value(&h.fields[i]))
		}
	}
	return vs
}

// Has reports whether a field named key (case-insensitive) is present.
func (h Header) Has(key string) bool {
	for i := range h.fields {
		if len(h.fields[i].key) == len(key) && strings.EqualFold(h.fields[i].key, key) {
			return true
		}
	}
	return false
}

// Fields returns all fields in message order (unfolding each value).
func (h Header) Fields() []Field {
	fs := make([]Field, len(h.fields))
	for i := range h.fields {
		fs[i] = Field{Key: h.fields[i].key, Value: h.value(&h.fields[i])}
	}
	return fs
}

// Len returns the number of fields.
func (h Header) Len() int { return len(h.fields) }

// splitHeader splits the header block at the start of b into fields. It
// returns the end of the header block (before the blank separator line)
// and the offset of the body. Lines that are no header field are tolerated:
// a stray line followed by more header lines (or the blank line) is skipped,
// otherwise the body is taken to start there; both are recorded as problems.
//
// For a message (top) the first line must be a header field, or the bytes
// are not a mail (ErrNotMail). For a MIME part a first line that is no field
// means the part has no header at all.
func splitHeader(b []byte, top bool, p *parser) (h Header, hdrEnd, bodyOff int, err error) {
	spans := make([]span, 0, 32)
	cur := span{start: -1} // the field being collected
	flush := func() {
		if cur.start >= 0 {
			spans = append(spans, cur)
			cur.start = -1
		}
	}
	pos := 0
	for pos < len(b) {
		next := len(b)
		line := b[pos:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], pos+i+1
		}
		line = trimCR(line)
		switch {
		case len(line) == 0:
			flush()
			if top && len(spans) == 0 {
				return Header{}, 0, 0, fmt.Errorf("%w: no header before the first blank line", ErrNotMail)
			}
			return Header{raw: b[:pos], fields: spans}, pos, next, nil
		case line[0] == ' ' || line[0] == '\t':
			if cur.start < 0 {
				if top && len(spans) == 0 {
					return Header{}, 0, 0, fmt.Errorf("%w: first line is a continuation line", ErrNotMail)
				}
				if len(spans) == 0 {
					return Header{}, 0, 0, nil
				}
				// A continuation after a skipped stray line: drop it too.
				p.problem("malformed header line: %s", quote(string(line)))
				pos = next
				continue
			}
			cur.end, cur.folded = pos+len(line), true
			pos = next
			continue
		}
		key, valOff, ok := headerKey(line)
		if ok && top && len(spans) == 0 && cur.start < 0 && !plausibleFirstKey(key) {
			ok = false
		}
		if !ok {
			flush()
			if len(spans) == 0 {
				if top {
					return Header{}, 0, 0, fmt.Errorf("%w: first line is not a header field", ErrNotMail)
				}
				return Header{}, 0, 0, nil
			}
			if nextIsHeaderOrBlank(b[next:]) {
				p.problem("malformed header line: %s", quote(string(line)))
				pos = next
				continue
			}
			p.problem("header not ended by a blank line: %s", quote(string(line)))
			return Header{raw: b[:pos], fields: spans}, pos, pos, nil
		}
		flush()
		cur = span{key: internKey(key), start: pos + valOff, end: pos + len(line)}
		pos = next
	}
	flush()
	if top && len(spans) == 0 {
		return Header{}, 0, 0, fmt.Errorf("%w: no header", ErrNotMail)
	}
	return Header{raw: b, fields: spans}, len(b), len(b), nil
}

// headerKey splits a "Key: value" line: the key (trimmed, as bytes) and the
// offset of the value. ok is false when the line is not a header field.
func headerKey(line []byte) (key []byte, valOff int, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, 0, false
	}
	key = bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return nil, 0, false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return nil, 0, false
		}
	}
	return key, i + 1, true
}

// plausibleFirstKey is the stricter test for the first field of a message,
// which decides between mail and garbage: letters, digits, '-' and '_'.
func plausibleFirstKey(k []byte) bool {
	if len(k) > 76 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func nextIsHeaderOrBlank(b []byte) bool {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = trimCR(b)
	if len(b) == 0 {
		return true
	}
	_, _, ok := headerKey(b)
	return ok
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// unfold turns a raw value spanning lines into one line: each line
// trimmed, joined by single spaces, empty lines dropped.
func unfold(v []byte) string {
	var sb strings.Builder
	sb.Grow(len(v))
	for len(v) > 0 {
		line := v
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			line, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		line = bytes.Trim(trimCR(line), " \t")
		if len(line) == 0 {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.Write(line)
	}
	return sb.String()
}

// internKey returns the key as a string, sharing the common ones instead of
// allocating.
func internKey(k []byte) string {
	switch string(k) {
	case "From":
		return "From"
	case "To":
		return "To"
	case "Cc":
		return "Cc"
	case "Subject":
		return "Subject"
	case "Date":
		return "Date"
	case "Message-ID":
		return "Message-ID"
	case "Message-Id":
		return "Message-Id"
	case "In-Reply-To":
		return "In-Reply-To"
	case "References":
		return "References"
	case "Received":
		return "Received"
	case "List-Id":
		return "List-Id"
	case "MIME-Version":
		return "MIME-Version"
	case "Content-Type":
		return "Content-Type"
	case "Content-Transfer-Encoding":
		return "Content-Transfer-Encoding"
	case "Content-Disposition":
		return "Content-Disposition"
	case "Return-Path":
		return "Return-Path"
	case "X-Mailer":
		return "X-Mailer"
	case "DKIM-Signature":
		return "DKIM-Signature"
	case "Sender":
		return "Sender"
	case "Precedence":
		return "Precedence"
	case "List-Subscribe":
		return "List-Subscribe"
	case "List-Unsubscribe":
		return "List-Unsubscribe"
	case "X-Mailing-List":
		return "X-Mailing-List"
	case "User-Agent":
		return "User-Agent"
	case "ARC-Seal":
		return "ARC-Seal"
	case "ARC-Message-Signature":
		return "ARC-Message-Signature"
	case "ARC-Authentication-Results":
		return "ARC-Authentication-Results"
	case "Authentication-Results":
		return "Authentication-Results"
	case "X-Spam-Status":
		return "X-Spam-Status"
	}
	return string(k)
}
