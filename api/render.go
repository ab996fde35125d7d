package api

import (
	"html"
	"html/template"
	"regexp"
	"strings"
)

// The pieces a message body is cut into for the HTML pages. The
// templates escape every string; nothing here produces HTML.

// bodyBlock is a run of lines shown together: plain text, a quote
// (folded when long) or a diff.
type bodyBlock struct {
	Kind  string // "text", "quote" or "diff"
	Fold  bool   // a long quote, shown folded
	Lines []bodyLine
}

// bodyLine is one line with a CSS class (diff lines: dh, hunk, add, del, ctx).
type bodyLine struct {
	Class string
	Parts []linePart
}

// linePart is text, or a link when URL is set.
type linePart struct {
	Text, URL string
}

// foldQuotes is the number of quoted lines from which a quote is folded.
const foldQuotes = 4

// maxRenderLines caps the lines of one rendered body; the rest is cut
// with a note pointing at the raw message.
const maxRenderLines = 20000

var urlRE = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}]+[^\s<>"'()\[\]{}.,;:!?]`)

// renderBody cuts a message body into blocks: quotes (lines starting
// with '>'), diffs (from a "diff --git" or "--- "/"+++ " pair to the
// "-- " signature) and plain text. It reports whether lines were cut.
func renderBody(text string) ([]bodyBlock, bool) {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), "\n")
	cut := false
	if len(lines) > maxRenderLines {
		lines, cut = lines[:maxRenderLines], true
	}
	var blocks []bodyBlock
	add := func(kind string, l bodyLine) {
		if n := len(blocks); n > 0 && blocks[n-1].Kind == kind {
			blocks[n-1].Lines = append(blocks[n-1].Lines, l)
			return
		}
		blocks = append(blocks, bodyBlock{Kind: kind, Lines: []bodyLine{l}})
	}
	inDiff := false
	for i, ln := range lines {
		if !inDiff && (strings.HasPrefix(ln, "diff --git ") ||
			(strings.HasPrefix(ln, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ "))) {
			inDiff = true
		}
		if inDiff && (ln == "-- " || ln == "--") {
			inDiff = false
		}
		switch {
		case inDiff:
			add("diff", bodyLine{Class: diffClass(ln), Parts: []linePart{{Text: ln}}})
		case strings.HasPrefix(ln, ">"):
			add("quote", bodyLine{Parts: linkify(ln)})
		default:
			add("text", bodyLine{Parts: linkify(ln)})
		}
	}
	for i := range blocks {
		blocks[i].Fold = blocks[i].Kind == "quote" && len(blocks[i].Lines) >= foldQuotes
	}
	return blocks, cut
}

func diffClass(ln string) string {
	switch {
	case strings.HasPrefix(ln, "diff --git "), strings.HasPrefix(ln, "index "),
		strings.HasPrefix(ln, "--- "), strings.HasPrefix(ln, "+++ "),
		strings.HasPrefix(ln, "new file mode"), strings.HasPrefix(ln, "deleted file mode"),
		strings.HasPrefix(ln, "rename "), strings.HasPrefix(ln, "similarity index"):
		return "dh"
	case strings.HasPrefix(ln, "@@"):
		return "hunk"
	case strings.HasPrefix(ln, "+"):
		return "add"
	case strings.HasPrefix(ln, "-"):
		return "del"
	}
	return "ctx"
}

// linkify splits a line into text and http(s) links.
func linkify(ln string) []linePart {
	idx := urlRE.FindAllStringIndex(ln, -1)
	if idx == nil {
		return []linePart{{Text: ln}}
	}
	var out []linePart
	at := 0
	for _, m := range idx {
		if m[0] > at {
			out = append(out, linePart{Text: ln[at:m[0]]})
		}
		out = append(out, linePart{Text: ln[m[0]:m[1]], URL: ln[m[0]:m[1]]})
		at = m[1]
	}
	if at < len(ln) {
		out = append(out, linePart{Text: ln[at:]})
	}
	return out
}

// HTML renders the lines of the block, escaped, inside a <pre>: the same
// markup the "lines" template wrote, built without a template call per
// line (thread pages show up to 50 bodies).
func (b bodyBlock) HTML() template.HTML {
	var sb strings.Builder
	for _, l := range b.Lines {
		if l.Class != "" {
			sb.WriteString(`<span class="`)
			sb.WriteString(html.EscapeString(l.Class))
			sb.WriteString(`">`)
		}
		for _, p := range l.Parts {
			if p.URL != "" {
				// urlRE admits no quote, space or angle bracket.
				sb.WriteString(`<a href="`)
				sb.WriteString(html.EscapeString(p.URL))
				sb.WriteString(`" rel="nofollow">`)
				sb.WriteString(html.EscapeString(p.Text))
				sb.WriteString(`</a>`)
			} else {
				sb.WriteString(html.EscapeString(p.Text))
			}
		}
		if l.Class != "" {
			sb.WriteString(`</span>`)
		}
		sb.WriteByte('\n')
	}
	return template.HTML(sb.String())
}
