package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Node is a node of a parsed query. String gives a compact Lisp-like form
// used by tests and debugging: (AND s:foo (NOT bar)).
type Node interface {
	String() string
	node()
}

// And matches documents that match every positive child and none of the
// Not children. The parser guarantees at least one positive child.
type And struct{ Nodes []Node }

// Or matches documents that match any child. Children are never Not.
type Or struct{ Nodes []Node }

// Not excludes its child; it only appears inside And.
type Not struct{ Node Node }

// Term is one unquoted word or word group. Field is the query prefix
// without ':' ("" = the default fields, "a" also stands for "tcf").
// Text is as typed (with <> stripped from Message-IDs and blob ids
// lowercased); it may analyse to several words (fs/io_uring.c), which then
// match as a phrase.
type Term struct{ Field, Text string }

// Phrase is a quoted string; its words must appear in order.
type Phrase struct{ Field, Text string }

// Wildcard matches words starting with Text (typed as Text*).
type Wildcard struct{ Field, Text string }

// Range is a d:, dt:, rt: (unix seconds) or z: (bytes) range with
// inclusive bounds; a missing bound is open.
type Range struct {
	Field          string
	Min, Max       int64
	HasMin, HasMax bool
}

func (*And) node()      {}
func (*Or) node()       {}
func (*Not) node()      {}
func (*Term) node()     {}
func (*Phrase) node()   {}
func (*Wildcard) node() {}
func (*Range) node()    {}

func joinNodes(op string, nodes []Node) string {
	var b strings.Builder
	b.WriteString("(" + op)
	for _, n := range nodes {
		b.WriteString(" " + n.String())
	}
	b.WriteString(")")
	return b.String()
}

func fieldPrefix(f string) string {
	if f == "" {
		return ""
	}
	return f + ":"
}

func (n *And) String() string      { return joinNodes("AND", n.Nodes) }
func (n *Or) String() string       { return joinNodes("OR", n.Nodes) }
func (n *Not) String() string      { return "(NOT " + n.Node.String() + ")" }
func (n *Term) String() string     { return fieldPrefix(n.Field) + n.Text }
func (n *Phrase) String() string   { return fieldPrefix(n.Field) + strconv.Quote(n.Text) }
func (n *Wildcard) String() string { return fieldPrefix(n.Field) + n.Text + "*" }

func (n *Range) String() string {
	f := func(v int64) string {
		if n.Field == "z" {
			return strconv.FormatInt(v, 10)
		}
		return time.Unix(v, 0).UTC().Format(time.RFC3339)
	}
	var lo, hi string
	if n.HasMin {
		lo = f(n.Min)
	}
	if n.HasMax {
		hi = f(n.Max)
	}
	return fmt.Sprintf("%s:[%s..%s]", n.Field, lo, hi)
}
