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
// Lines are kept in order; each output joins its lines with LF (Quoted
// ends each line with LF).
func splitQuotes(text string) (nonQuoted, quoted string) {
	if !strings.HasPrefix(text, ">") && !strings.Contains(text, "\n>") {
		return text, ""
	}
	// Pass 1: sizes and the attribution lines to drop, without allocating
	// per line. prev1/prev2 are the last two non-blank non-quoted lines,
	// blanks the blank lines after prev1.
	type line struct{ start, end int }
	var (
		drops        []line
		prev1, prev2 = line{-1, -1}, line{-1, -1}
		blanks, qlen int
		prevQuote    bool
	)
	for pos := 0; pos <= len(text); {
		end := lineEnd(text, pos)
		l := text[pos:end]
		switch {
		case strings.HasPrefix(l, ">"):
			qlen += len(l) + 1
			if !prevQuote && prev1.start >= 0 && blanks <= 2 && isAttribution(text[prev1.start:prev1.end]) {
				a := strings.TrimSpace(text[prev1.start:prev1.end])
				if prev2.start >= 0 && prev2.end+1 == prev1.start && !hasOnPrefix(a) && hasOnPrefix(strings.TrimSpace(text[prev2.start:prev2.end])) {
					drops = append(drops, prev2) // wrapped attribution: its first line
				}
				drops = append(drops, prev1)
			}
			prevQuote = true
			prev1, prev2, blanks = line{-1, -1}, line{-1, -1}, 0
		case strings.TrimSpace(l) == "":
			blanks++
			prevQuote = false
		default:
			prev2, prev1, blanks = prev1, line{pos, end}, 0
			prevQuote = false
		}
		pos = end + 1
	}
	dropped := 0
	for _, d := range drops {
		dropped += d.end - d.start + 1
	}
	// Pass 2: copy the lines.
	var nq, q strings.Builder
	nq.Grow(max(len(text)-qlen-dropped, 0) + 1)
	q.Grow(qlen)
	nqFirst := true
	for pos := 0; pos <= len(text); {
		end := lineEnd(text, pos)
		l := text[pos:end]
		switch {
		case len(drops) > 0 && drops[0].start == pos:
			drops = drops[1:]
		case strings.HasPrefix(l, ">"):
			q.WriteString(l)
			q.WriteByte('\n')
		default:
			if !nqFirst {
				nq.WriteByte('\n')
			}
			nqFirst = false
			nq.WriteString(l)
		}
		pos = end + 1
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

// writeNormalized writes the hash form of a text: lines with trailing
// whitespace removed, LF line ends, trailing blank lines dropped
// ("a \r\n\nb\n\n" → "a\n\nb").
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

// lineEnd is the index of the newline ending the line that starts at pos,
// or len(text) for the last line.
func lineEnd(text string, pos int) int {
	if i := strings.IndexByte(text[pos:], '\n'); i >= 0 {
		return pos + i
	}
	return len(text)
}
