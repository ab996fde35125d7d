package api

import (
	"html/template"
	"strings"
)

// The rows of the search page's results table, written in Go.
//
// html/template escapes every value of a row through reflective calls of
// its escapers (three for a link: filter, normaliser, attribute), ten and
// more per row: at 433k messages the table of a page of 50 took as much
// CPU as the search that found it. rowsHTML writes the same markup,
// escaped as html/template escapes it (TestRowsHTMLAsTemplate compares
// the two on hostile values), and the template shows it as one value.

// htmlText escapes s as html/template escapes text and quoted attribute
// values (its htmlReplacementTable: '+' as well, NUL to U+FFFD).
var htmlText = strings.NewReplacer(
	"\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;",
)

// writeURL writes u as html/template writes a URL in a quoted attribute
// (its urlFilter, urlNormalizer and attrEscaper): with filter (the URL is
// the whole value), a scheme other than http, https or mailto makes it
// "#ZgotmplZ"; bytes that may not appear in a URL are percent-encoded,
// a valid %XX kept; then the escaping of htmlText.
func writeURL(b *strings.Builder, u string, filter bool) {
	if i := strings.IndexByte(u, ':'); filter && i >= 0 && !strings.Contains(u[:i], "/") {
		switch strings.ToLower(u[:i]) {
		case "http", "https", "mailto":
		default:
			b.WriteString("#ZgotmplZ")
			return
		}
	}
	isHex := func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
	var n strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0,
			c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]):
			n.WriteByte(c)
		default:
			const hex = "0123456789abcdef"
			n.WriteByte('%')
			n.WriteByte(hex[c>>4])
			n.WriteByte(hex[c&15])
		}
	}
	htmlText.WriteString(b, n.String())
}

// rowsHTML is the results table's rows (searchRows) as HTML; all adds
// the column of each row's list.
func rowsHTML(rows []searchRow, all bool) template.HTML {
	if len(rows) == 0 {
		return "<tr><td>[No results found]</td></tr>\n"
	}
	var b strings.Builder
	text := func(s string) { htmlText.WriteString(&b, s) }
	for _, r := range rows {
		if r.Commit {
			b.WriteString(`<tr class="commit"><td class="meta">`)
			text(r.Date)
			b.WriteString(`</td><td>commit <a href="`)
			writeURL(&b, r.Href, true)
			b.WriteString(`"><code>`)
			text(r.SHA12)
			b.WriteString(`</code></a> `)
			text(r.Subject)
			if len(r.Postings) > 0 {
				b.WriteString(`<br><span class="meta">posted as `)
				for i, p := range r.Postings {
					if i > 0 {
						b.WriteString(", ")
					}
					b.WriteString(`<a href="`)
					writeURL(&b, messageURL(allLists, p.MessageID), true)
					b.WriteString(`">`)
					text(p.Role)
					b.WriteString(" ")
					text(p.Grade)
					b.WriteString("</a>")
				}
				b.WriteString("</span>")
			} else {
				b.WriteString(`<br><span class="meta">not posted (off-list)</span>`)
			}
		} else {
			b.WriteString(`<tr><td class="meta">`)
			text(r.Date)
			b.WriteString(`</td><td><a href="`)
			writeURL(&b, r.Href, true)
			b.WriteString(`">`)
			text(r.Subject)
			b.WriteString("</a>")
			if len(r.Commits) > 0 {
				b.WriteString(`<br><span class="meta">became `)
				for i, c := range r.Commits {
					if i > 0 {
						b.WriteString(", ")
					}
					b.WriteString(`<a href="/_/commit/`)
					writeURL(&b, c.SHA, false)
					b.WriteString(`"><code>`)
					text(firstRunes(c.SHA, 12))
					b.WriteString("</code></a> (")
					text(c.Repo)
					b.WriteString(", ")
					text(c.Role)
					b.WriteString(" ")
					text(c.Grade)
					b.WriteString(")")
				}
				b.WriteString("</span>")
			}
		}
		b.WriteString(`</td><td class="meta">`)
		text(r.From)
		b.WriteString("</td>")
		if all {
			b.WriteString(`<td class="meta">`)
			text(r.Where)
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String())
}

// firstRunes is the first n runes of s (printf's %.12s).
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
