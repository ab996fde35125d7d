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
			if errors.Is(err, errUnknownCharset) {
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
	for _, v := range h.Values(key) {
		if strings.TrimSpace(v) == "" {
			continue
		}
		if fast, ok := fastAddressList(out, v); ok {
			out = fast
			continue
		}
		list, err := addressParser.ParseList(v)
		if err != nil {
			p.problem("unparseable address list: %s %s", key, quote(v))
			out = append(out, p.fallbackAddresses(key, v)...)
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

// fastAddressList parses the plain lists that make up most of list mail
// ("Name <a@b>, c@d") without net/mail's allocations, appending to dst. It
// gives up (ok false) on anything else: quotes, comments, encoded words,
// groups, non-ASCII, unusual spacing; net/mail then decides. Its results
// equal net/mail's (TestFastAddressList, FuzzFastAddressList).
func fastAddressList(dst []Address, v string) (_ []Address, ok bool) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '(', ')', '\\', ':', ';', '[', ']', '\t', '\r', '\n':
			return dst, false
		default:
			if c >= 0x80 || c < 0x20 || c == '=' && i+1 < len(v) && v[i+1] == '?' {
				return dst, false
			}
		}
	}
	n := len(dst)
	for len(v) > 0 {
		piece := v
		if i := strings.IndexByte(v, ','); i >= 0 {
			piece, v = v[:i], v[i+1:]
			if strings.TrimLeft(v, " ") == "" {
				return dst[:n], false
			}
		} else {
			v = ""
		}
		piece = strings.Trim(piece, " ")
		var a Address
		if lt := strings.IndexByte(piece, '<'); lt >= 0 {
			if piece[len(piece)-1] != '>' {
				return dst[:n], false
			}
			a.Email = piece[lt+1 : len(piece)-1]
			a.Name = strings.TrimRight(piece[:lt], " ")
			if !isPhrase(a.Name) {
				return dst[:n], false
			}
		} else {
			a.Email = piece
		}
		if !isAddrSpec(a.Email) {
			return dst[:n], false
		}
		dst = append(dst, a)
	}
	return dst, len(dst) > n
}

// isPhrase accepts "" or atext words (dots allowed) separated by one space.
func isPhrase(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '.' && !isAtextByte(c) {
			return false
		}
	}
	return true
}

// isAddrSpec accepts local@domain, both dot-atoms.
func isAddrSpec(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return false
	}
	return isDotAtom(s[:at]) && isDotAtom(s[at+1:])
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isAtextByte(c) {
			return false
		}
	}
	return true
}

// isAtextByte is RFC 5322 atext for ASCII.
func isAtextByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
