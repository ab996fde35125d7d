package api

import (
	"html/template"
	"strings"
	"testing"
)

// rowsTemplate is the results table's rows as the search page's template
// wrote them before rowsHTML.
const rowsTemplate = `{{range $.Rows}}{{if .Commit}}<tr class="commit"><td class="meta">{{.Date}}</td><td>commit <a href="{{.Href}}"><code>{{.SHA12}}</code></a> {{.Subject}}{{with .Postings}}<br><span class="meta">posted as {{range $i, $p := .}}{{if $i}}, {{end}}<a href="{{msgurl "all" $p.MessageID}}">{{$p.Role}} {{$p.Grade}}</a>{{end}}</span>{{else}}<br><span class="meta">not posted (off-list)</span>{{end}}</td><td class="meta">{{.From}}</td>{{if $.All}}<td class="meta">{{.Where}}</td>{{end}}</tr>
{{else}}<tr><td class="meta">{{.Date}}</td><td><a href="{{.Href}}">{{.Subject}}</a>{{with .Commits}}<br><span class="meta">became {{range $i, $c := .}}{{if $i}}, {{end}}<a href="/_/commit/{{$c.SHA}}"><code>{{printf "%.12s" $c.SHA}}</code></a> ({{$c.Repo}}, {{$c.Role}} {{$c.Grade}}){{end}}</span>{{end}}</td><td class="meta">{{.From}}</td>{{if $.All}}<td class="meta">{{.Where}}</td>{{end}}</tr>{{end}}
{{else}}<tr><td>[No results found]</td></tr>
{{end}}
`

// TestRowsHTMLAsTemplate checks that rowsHTML writes the rows as
// html/template did, escaping included, on hostile values: markup,
// quotes, '+' and NUL in subjects and names, Message-IDs with spaces,
// percent signs and non-ASCII, a javascript: link, commits and postings.
func TestRowsHTMLAsTemplate(t *testing.T) {
	tmpl := template.Must(template.New("rows").Funcs(template.FuncMap{
		"msgurl": func(list, mid string) string { return messageURL(list, mid) },
	}).Parse(rowsTemplate))
	hostile := `<script>alert("x&y")</script> it's a+b` + "\x00 ünï"
	hits := []Hit{
		{MessageID: "plain@example.com", Subject: "[PATCH] io_uring: fix", From: "A <a@b.c>", List: "io-uring"},
		{MessageID: "odd id %41%zz <x>\"'+&?#@é", Subject: hostile, From: hostile, List: hostile,
			Commits: []HitCommit{{SHA: "0123456789abcdef0123456789abcdef01234567", Repo: hostile, Role: "applied", Grade: "exact"},
				{SHA: "ünï<>\"'é0123456789", Repo: "r", Role: hostile, Grade: hostile}}},
	}
	hits[0].Date = hits[0].Date.AddDate(2024, 0, 0)
	rows := searchRows("all", hits)
	rows = append(rows,
		searchRow{Commit: true, Date: "2024-01-02 03:04", Href: "https://git.example.org/c/abc?x=1&y=a b", SHA12: "abc<def>", Subject: hostile, From: hostile, Where: hostile,
			Postings: []HitPosting{{MessageID: "p1@x", Role: "applied", Grade: "exact"}, {MessageID: hostile, Role: hostile, Grade: hostile}}},
		searchRow{Commit: true, Date: "d", Href: "javascript:alert(1)", SHA12: "s", Subject: "off-list"},
		searchRow{Date: "d", Href: "JavaScript:alert(1)", Subject: "s"},
		searchRow{Date: "d", Href: "/all/a%2/", Subject: "s"},
		searchRow{Date: "d", Href: "mailto:a@b.c?subject=a b", Subject: "s"},
	)
	for _, all := range []bool{false, true} {
		for _, rs := range [][]searchRow{rows, nil} {
			var want strings.Builder
			if err := tmpl.Execute(&want, map[string]any{"Rows": rs, "All": all}); err != nil {
				t.Fatal(err)
			}
			w := strings.ReplaceAll(want.String(), "\n", "")
			got := strings.ReplaceAll(string(rowsHTML(rs, all)), "\n", "")
			if got != w {
				t.Errorf("all=%t, %d rows:\n got %s\nwant %s", all, len(rs), got, w)
			}
		}
	}
}
