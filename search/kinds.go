package search

import (
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
)

// Document kinds. A message's document id is its primary Message-ID; a
// commit's is CommitDocID(sha), which no Message-ID can equal (stored
// Message-IDs never contain white space).
const (
	KindMessage = "message"
	KindCommit  = "commit"
)

// Link states, the values of is: besides the kinds.
//
//   - applied: a message linked to a commit it became (an applied link of
//     any grade: exact, strong or fuzzy); a commit with such a posting.
//   - unapplied: a patch mail (a mail carrying a patch, not a reply and not
//     a bare cover letter) with no link at all: neither applied nor an
//     earlier version of an applied posting.
//   - offlist: a commit with no link at any grade (never posted, as far as
//     the archive tells).
//   - backport: a stable backport: a commit naming its upstream commit, a
//     posting whose body does.
const (
	StateApplied   = "applied"
	StateUnapplied = "unapplied"
	StateOfflist   = "offlist"
	StateBackport  = "backport"
)

// isValues are the words is: accepts, in help order.
var isValues = []string{KindCommit, KindMessage, StateApplied, StateUnapplied, StateOfflist, StateBackport}

// CommitDocID is the document id of commit sha.
func CommitDocID(sha string) string { return "commit " + strings.ToLower(sha) }

// Commit is what the index knows about one commit of a registered
// repository: NewCommitDoc turns it into a document searched with the
// message prefixes (s:, b:, f:, a:, d:, dfn:, dfa:, dfb:, dfhh:, patchid:)
// and the commit ones (commit:, repo:, cve:, is:).
type Commit struct {
	SHA         string
	Repos       []string
	Subject     string
	Body        string // the message after the subject paragraph
	Author      Address
	AuthorDate  time.Time
	Files       []string // old and new paths
	Diff        string   // + and - lines, each with its sign (gitrepo's compact diff)
	HunkHeaders []string // the text after the second @@ of each hunk
	PatchID     string
	CVEs        []string
	Applied     bool // has an applied link (is:applied)
	Linked      bool // has a link of any role (without one: is:offlist)
	Backport    bool // names its upstream commit (is:backport)
}

// NewCommitDoc makes the search document of a commit.
func NewCommitDoc(c *Commit) *Doc {
	d := &Doc{
		MessageID:       CommitDocID(c.SHA),
		Kind:            KindCommit,
		SHAs:            []string{strings.ToLower(c.SHA)},
		Repos:           c.Repos,
		Subject:         c.Subject,
		From:            []Address{c.Author},
		Date:            c.AuthorDate,
		NonQuoted:       c.Body,
		DiffFileNames:   c.Files,
		DiffHunkHeaders: strings.Join(c.HunkHeaders, "\n"),
		CVEs:            c.CVEs,
	}
	var add, rm strings.Builder
	for line := range strings.Lines(c.Diff) {
		switch {
		case strings.HasPrefix(line, "+"):
			add.WriteString(line[1:])
		case strings.HasPrefix(line, "-"):
			rm.WriteString(line[1:])
		}
	}
	d.DiffAdded, d.DiffRemoved = add.String(), rm.String()
	if c.PatchID != "" {
		d.PatchIDs = []string{c.PatchID}
	}
	if c.Applied {
		d.States = append(d.States, StateApplied)
	}
	if !c.Linked {
		d.States = append(d.States, StateOfflist)
	}
	if c.Backport {
		d.States = append(d.States, StateBackport)
	}
	d.Limit()
	return d
}

// mentionsCommits reports whether a query names the commit side with
// is:commit or is:offlist (anywhere, negated or not): only then does a
// search reach commits. Every other query searches messages only, as
// lore does, so a query typed for lore finds what it finds there.
func mentionsCommits(n Node) bool {
	switch n := n.(type) {
	case *And:
		for _, c := range n.Nodes {
			if mentionsCommits(c) {
				return true
			}
		}
	case *Or:
		for _, c := range n.Nodes {
			if mentionsCommits(c) {
				return true
			}
		}
	case *Not:
		return mentionsCommits(n.Node)
	case *Term:
		return n.Field == "is" && (n.Text == KindCommit || n.Text == StateOfflist)
	}
	return false
}

// kindFilter is the filter prepare adds to q: without MessagesOnly a
// query that names commits (mentionsCommits) is left alone; any other
// excludes the commit documents.
func kindFilter(n Node, bq query.Query, messagesOnly bool) query.Query {
	if !messagesOnly && mentionsCommits(n) {
		return bq
	}
	return query.NewBooleanQuery([]query.Query{bq}, nil, []query.Query{termOn(FieldKind, KindCommit)})
}

// compileIs compiles is:VALUE.
func compileIs(v string) query.Query {
	switch v {
	case KindCommit, KindMessage:
		return termOn(FieldKind, v)
	}
	return termOn(FieldState, v)
}

// parseIs checks the value of is:.
func parseIs(v string) (string, error) {
	v = strings.ToLower(v)
	for _, ok := range isValues {
		if v == ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("is: wants one of %s, not %q", strings.Join(isValues, ", "), short(v))
}

// parseCommitID checks the value of commit: (4 to 40 hex digits, a
// full id or a prefix).
func parseCommitID(v string) (string, error) {
	v = strings.ToLower(strings.TrimSuffix(v, "*"))
	if len(v) < 4 || len(v) > 64 || !isHex(v) {
		return "", fmt.Errorf("commit: wants a commit id or its first 4 or more hex digits, not %q", short(v))
	}
	return v, nil
}

// setKind fills a hit's Kind, SHA and Repos from its stored fields.
func setKind(h *Hit, fields map[string]interface{}) {
	strs := func(f string) []string {
		switch v := fields[f].(type) {
		case string:
			return []string{v}
		case []interface{}:
			out := make([]string, 0, len(v))
			for _, x := range v {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	h.Kind = KindMessage
	if k := strs(FieldKind); len(k) > 0 && k[0] == KindCommit {
		h.Kind = KindCommit
		if s := strs(FieldSHA); len(s) > 0 {
			h.SHA = s[0]
		}
	}
	h.Repos = strs(FieldRepo)
}

// listFilter restricts a search to the list o.List; commits, which are on
// no list, stay in reach of a query that names them.
func listFilter(n Node, o *SearchOptions) query.Query {
	q := termOn(FieldList, o.List)
	if o.MessagesOnly || !mentionsCommits(n) {
		return q
	}
	return query.NewDisjunctionQuery([]query.Query{q, termOn(FieldKind, KindCommit)})
}

// isAllKinds reports whether n is (is:commit OR is:message), in any
// order: a filter that keeps everything, so an And drops it rather than
// intersecting with every document of the index.
func isAllKinds(n Node) bool {
	o, ok := n.(*Or)
	if !ok {
		return false
	}
	seen := map[string]bool{}
	for _, c := range o.Nodes {
		t, ok := c.(*Term)
		if !ok || t.Field != "is" || (t.Text != KindCommit && t.Text != KindMessage) {
			return false
		}
		seen[t.Text] = true
	}
	return seen[KindCommit] && seen[KindMessage]
}

// withoutAllKinds returns nodes without the (is:commit OR is:message)
// filters.
func withoutAllKinds(nodes []Node) []Node {
	var out []Node
	for _, c := range nodes {
		if !isAllKinds(c) {
			out = append(out, c)
		}
	}
	return out
}

// hasPositive reports whether nodes hold a term that is not negated.
func hasPositive(nodes []Node) bool {
	for _, c := range nodes {
		if _, ok := c.(*Not); !ok {
			return true
		}
	}
	return false
}
