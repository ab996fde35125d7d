package message

import (
	"bytes"
	"html"
	"strings"
)

// splitQuotes splits text into the non-quoted lines and the quoted lines
// (those starting with '>'). The attribution line before a quote block
// ("On Mon, 1 Jan 2024, A wrote:", possibly wrapped onto two lines, with
// up to two blank lines between it and the quote) belongs to neither.
func splitQuotes(text string) (nonQuoted, quoted string) {
	if !strings.HasPrefix(text, ">") && !strings.Contains(text, "\n>") {
		return text, ""
	}
	lines := strings.Split(text, "\n")
	isQuote := make([]bool, len(lines))
	drop := make([]bool, len(lines))
	qlen := 0
	for i, l := range lines {
		if isQuote[i] = strings.HasPrefix(l, ">"); isQuote[i] {
			qlen += len(l) + 1
		}
	}
	for i := range lines {
		if !isQuote[i] || i > 0 && isQuote[i-1] {
			continue
		}
		j := i - 1
		for k := 0; k < 2 && j >= 0 && strings.TrimSpace(lines[j]) == ""; k++ {
			j--
		}
		if j < 0 || isQuote[j] || !isAttribution(lines[j]) {
			continue
		}
		drop[j] = true
		first := strings.TrimSpace(lines[j])
		if j > 0 && !hasOnPrefix(first) && hasOnPrefix(strings.TrimSpace(lines[j-1])) && !isQuote[j-1] {
			drop[j-1] = true
		}
	}
	var nq, q strings.Builder
	nq.Grow(len(text) - qlen + 1)
	q.Grow(qlen)
	first := true
	for i, l := range lines {
		switch {
		case drop[i]:
		case isQuote[i]:
			q.WriteString(l)
			q.WriteByte('\n')
		default:
			if !first {
				nq.WriteByte('\n')
			}
			first = false
			nq.WriteString(l)
		}
	}
	return nq.String(), q.String()
}

func hasOnPrefix(s string) bool {
	return strings.HasPrefix(s, "On ") || strings.HasPrefix(s, "Am ") || strings.HasPrefix(s, "Le ") || strings.HasPrefix(s, "El ")
}

// attributionSuffixes end the "X wrote:" lines of common mail clients.
var attributionSuffixes = [...]string{"wrote:", "writes:", "wrote :", "said:", "schrieb:", "écrit :", "écrit:", "escribió:"}

func isAttribution(line string) bool {
	t := strings.TrimSpace(line)
	if len(t) > 400 {
		return false
	}
	for _, s := range attributionSuffixes {
		if strings.HasSuffix(t, s) {
			return true
		}
	}
	return false
}

// htmlToText renders HTML as plain text for search: tags dropped, script,
// style and head content dropped, block elements and <br> as line breaks,
// whitespace collapsed outside <pre>, entities decoded.
func htmlToText(h string) string {
	var sb strings.Builder
	sb.Grow(len(h) / 2)
	pre := 0
	for i := 0; i < len(h); {
		if h[i] != '<' {
			j := strings.IndexByte(h[i:], '<')
			if j < 0 {
				j = len(h) - i
			}
			run := h[i : i+j]
			i += j
			if pre > 0 {
				sb.WriteString(run)
				continue
			}
			for k, f := range strings.Fields(run) {
				if (k > 0 || isSpaceByte(run[0])) && sb.Len() > 0 && !strings.HasSuffix(sb.String(), "\n") {
					sb.WriteByte(' ')
				}
				sb.WriteString(f)
			}
			if len(run) > 0 && isSpaceByte(run[len(run)-1]) && strings.TrimSpace(run) != "" {
				sb.WriteByte(' ')
			}
			continue
		}
		if strings.HasPrefix(h[i:], "<!--") {
			end := strings.Index(h[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := strings.IndexByte(h[i:], '>')
		if end < 0 {
			break
		}
		name := tagName(h[i+1 : i+end])
		i += end + 1
		switch name {
		case "script", "style", "head", "title":
			closeAt := indexFold(h[i:], "</"+name)
			if closeAt < 0 {
				i = len(h)
			} else {
				i += closeAt
			}
		case "pre":
			pre++
			sb.WriteByte('\n')
		case "/pre":
			if pre > 0 {
				pre--
			}
			sb.WriteByte('\n')
		case "br", "p", "/p", "div", "/div", "tr", "/tr", "li", "blockquote", "/blockquote",
			"h1", "h2", "h3", "h4", "h5", "h6", "/h1", "/h2", "/h3", "/h4", "/h5", "/h6",
			"table", "/table", "ul", "/ul", "ol", "/ol", "hr":
			sb.WriteByte('\n')
		case "td", "th":
			sb.WriteByte(' ')
		}
	}
	out := html.UnescapeString(sb.String())
	out = strings.ReplaceAll(out, "\u00a0", " ")
	// Trim the lines and keep at most one blank line in a row.
	var res strings.Builder
	res.Grow(len(out))
	blank := 0
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			blank++
			if blank > 1 || res.Len() == 0 {
				continue
			}
		} else {
			blank = 0
		}
		res.WriteString(l)
		res.WriteByte('\n')
	}
	return strings.TrimRight(res.String(), "\n") + "\n"
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// tagName returns the lowercased name of a tag body ("/p", "br", "div").
func tagName(tag string) string {
	end := 0
	for end < len(tag) {
		c := tag[end]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || (c == '/' && end > 0) {
			break
		}
		end++
	}
	return strings.ToLower(tag[:end])
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// normalizedLen and writeNormalized produce the hash form of a text: lines
// with trailing whitespace removed, LF line ends, trailing blank lines
// dropped ("a \r\n\nb\n\n" → "a\n\nb").
func normalizedLen[T string | []byte](s T) int {
	n := 0
	walkNormalized(s, func(piece T) { n += len(piece) }, func(k int) { n += k })
	return n
}

func writeNormalized[T string | []byte](w *hashWriter, s T) {
	walkNormalized(s, func(piece T) {
		switch v := any(piece).(type) {
		case string:
			w.write(v)
		case []byte:
			w.writeBytes(v)
		}
	}, w.newlines)
}

// walkNormalized calls piece for each trimmed non-empty line and nl for the
// line ends before it.
func walkNormalized[T string | []byte](s T, piece func(T), nl func(int)) {
	pending := 0
	first := true
	for len(s) > 0 || first {
		line := s
		if i := indexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = s[len(s):]
		}
		if !first {
			pending++
		}
		first = false
		end := len(line)
		for end > 0 {
			switch line[end-1] {
			case ' ', '\t', '\r', '\v', '\f':
				end--
				continue
			}
			break
		}
		if end == 0 {
			if len(s) == 0 {
				break
			}
			continue
		}
		if pending > 0 {
			nl(pending)
			pending = 0
		}
		piece(line[:end])
	}
}

func indexByte[T string | []byte](s T, c byte) int {
	switch v := any(s).(type) {
	case string:
		return strings.IndexByte(v, c)
	case []byte:
		return bytes.IndexByte(v, c)
	}
	panic("unreachable")
}
