package message

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // sets gomessage.CharsetReader
)

// errUnknownCharset marks a charset the charset package cannot decode.
var errUnknownCharset = errors.New("unknown charset")

// charsetReader converts from the named charset to UTF-8 with go-message's
// charset table.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	if gomessage.CharsetReader == nil {
		return nil, fmt.Errorf("%w %q", errUnknownCharset, charset)
	}
	cr, err := gomessage.CharsetReader(strings.ToLower(charset), r)
	if err != nil || cr == nil {
		return nil, fmt.Errorf("%w %q: %v", errUnknownCharset, charset, err)
	}
	return cr, nil
}

// wordDecoder decodes RFC 2047 encoded words with the full charset table.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeWords decodes the RFC 2047 encoded words in a header value. Unlike
// mime.WordDecoder.DecodeHeader it never gives up on the whole value: an
// encoded word that cannot be decoded (unknown charset, bad encoding) is
// kept as written and reported through badCharset/badWord, the others are
// decoded. Whitespace between two adjacent encoded words is dropped (RFC
// 2047 section 6.2).
func decodeWords(s string) (out string, badCharsets []string, badWord bool) {
	i := strings.Index(s, "=?")
	if i < 0 {
		return s, nil, false
	}
	var sb strings.Builder
	sb.Grow(len(s))
	prevEncoded := false
	for {
		i = strings.Index(s, "=?")
		if i < 0 {
			break
		}
		word, charset, ok := nextWord(s[i:])
		if !ok {
			sb.WriteString(s[:i+2])
			s = s[i+2:]
			prevEncoded = false
			continue
		}
		between := s[:i]
		w := word
		if j := strings.IndexByte(charset, '*'); j >= 0 {
			// RFC 2231 section 5 language suffix: =?utf-8*en?q?...?=
			w = "=?" + charset[:j] + word[2+len(charset):]
		}
		dec, err := wordDecoder.Decode(w)
		if err != nil {
			if errors.Is(err, errUnknownCharset) || strings.Contains(err.Error(), "charset") {
				badCharsets = append(badCharsets, charset)
			} else {
				badWord = true
			}
			sb.WriteString(between)
			sb.WriteString(word)
			prevEncoded = false
		} else {
			if !(prevEncoded && strings.TrimLeft(between, " \t") == "") {
				sb.WriteString(between)
			}
			sb.WriteString(dec)
			prevEncoded = true
		}
		s = s[i+len(word):]
	}
	sb.WriteString(s)
	return sb.String(), badCharsets, badWord
}

// nextWord returns the encoded word "=?charset?X?text?=" at the start of s.
func nextWord(s string) (word, charset string, ok bool) {
	rest := s[2:]
	q := strings.IndexByte(rest, '?')
	if q <= 0 || len(rest) < q+3 || rest[q+2] != '?' {
		return "", "", false
	}
	switch rest[q+1] {
	case 'q', 'Q', 'b', 'B':
	default:
		return "", "", false
	}
	end := strings.Index(rest[q+3:], "?=")
	if end < 0 {
		return "", "", false
	}
	n := 2 + q + 3 + end + 2
	return s[:n], rest[:q], true
}

// decodeText decodes a free-text header value (Subject, display names) and
// records problems; the result is valid UTF-8.
func (p *parser) decodeText(field, v string) string {
	out, bad, badWord := decodeWords(v)
	for _, cs := range bad {
		p.problem("unknown charset: %s in %s", quote(cs), field)
	}
	if badWord {
		p.problem("bad encoded word: in %s", field)
	}
	if !utf8.ValidString(out) {
		p.problem("invalid UTF-8: in %s", field)
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return out
}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

func (p *parser) parseAddresses() {
	h := p.m.Header
	p.m.From = p.addressList(h, "From")
	p.m.Sender = p.addressList(h, "Sender")
	p.m.To = p.addressList(h, "To")
	p.m.Cc = p.addressList(h, "Cc")
	if len(p.m.From) == 0 && !h.Has("From") {
		p.problem("no From")
	}
}

// addressList parses all fields named key as one address list; a list
// net/mail rejects is salvaged by fallbackAddresses.
func (p *parser) addressList(h Header, key string) []Address {
	var out []Address
	for i := range h.fields {
		f := &h.fields[i]
		if !strings.EqualFold(f.Key, key) || strings.TrimSpace(f.Value) == "" {
			continue
		}
		list, err := addressParser.ParseList(f.Value)
		if err != nil {
			p.problem("unparseable address list: %s %s", key, quote(f.Value))
			out = append(out, p.fallbackAddresses(key, f.Value)...)
			continue
		}
		for _, a := range list {
			name := a.Name
			if !utf8.ValidString(name) {
				name = strings.ToValidUTF8(name, "\uFFFD")
			}
			out = append(out, Address{Name: name, Email: a.Address})
		}
	}
	return out
}

var (
	reAngleAddr = regexp.MustCompile(`<\s*([^<>\s]+@[^<>\s]+?)\s*>`)
	reBareAddr  = regexp.MustCompile(`[^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+`)
)

// fallbackAddresses salvages what it can from an address list net/mail
// rejects: split on commas outside quotes, take the <addr> (or the bare
// addr@domain) of each piece, and the rest as the name.
func (p *parser) fallbackAddresses(key, v string) []Address {
	var out []Address
	for _, piece := range splitOutsideQuotes(v, ',') {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		var a Address
		if loc := reAngleAddr.FindStringSubmatchIndex(piece); loc != nil {
			a.Email = piece[loc[2]:loc[3]]
			a.Name = piece[:loc[0]]
		} else if loc := reBareAddr.FindStringIndex(piece); loc != nil {
			a.Email = piece[loc[0]:loc[1]]
			a.Name = piece[:loc[0]] + piece[loc[1]:]
			if i, j := strings.IndexByte(a.Name, '('), strings.LastIndexByte(a.Name, ')'); i >= 0 && j > i {
				a.Name = a.Name[i+1 : j]
			}
		} else {
			continue
		}
		a.Name = strings.Trim(strings.TrimSpace(a.Name), `"' <>`)
		a.Name = strings.ReplaceAll(a.Name, `\"`, `"`)
		a.Name = p.decodeText(key, a.Name)
		if !utf8.ValidString(a.Email) {
			a.Email = strings.ToValidUTF8(a.Email, "\uFFFD")
		}
		out = append(out, a)
	}
	return out
}

// splitOutsideQuotes splits s at sep where sep is not inside "..." (with
// backslash escapes), (...) or <...>.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	inQuote, depth, angle, start := false, 0, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == sep && depth == 0 && !angle:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if inQuote || depth > 0 {
		return strings.Split(s, string(sep)) // unbalanced: split naively
	}
	return append(parts, s[start:])
}

func (p *parser) parseSubject() {
	vs := p.m.Header.Values("Subject")
	if len(vs) == 0 {
		return
	}
	if len(vs) > 1 {
		p.problem("several Subject fields: %d", len(vs))
	}
	p.m.Subject = p.decodeText("Subject", vs[0])
}
