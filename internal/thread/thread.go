// Package thread builds the reply tree of a conversation from Message-ID
// references, in the manner of public-inbox and JWZ's threading
// algorithm: each message's parent is the last of its references (the
// In-Reply-To, when present); the chain of References also places ghosts
// (ids referenced but never received) under their own parents. Links that
// would make a cycle are ignored, so cyclic References still give a tree.
package thread

import (
	"sort"
	"time"
)

// Item is one message of a thread.
type Item struct {
	MessageID string
	Refs      []string // cleaned references, In-Reply-To last
	Date      time.Time
	Value     any // caller's payload, returned in Node.Value
}

// Node is a message (or a ghost, Value == nil and Ghost set) in the tree.
type Node struct {
	MessageID string
	Ghost     bool
	Date      time.Time
	Value     any
	Parent    *Node
	Children  []*Node
}

// Build returns the roots of the tree formed by items, oldest first;
// children are ordered by date.
func Build(items []Item) []*Node {
	nodes := map[string]*Node{}
	get := func(id string) *Node {
		n := nodes[id]
		if n == nil {
			n = &Node{MessageID: id, Ghost: true}
			nodes[id] = n
		}
		return n
	}
	for _, it := range items {
		n := get(it.MessageID)
		n.Ghost, n.Date, n.Value = false, it.Date, it.Value
	}
	// Reference chains first: they give ghosts a place.
	for _, it := range items {
		for i := 1; i < len(it.Refs); i++ {
			child := get(it.Refs[i])
			if child.Parent == nil {
				link(get(it.Refs[i-1]), child)
			}
		}
	}
	// A message's own last reference wins over any chain.
	for _, it := range items {
		if len(it.Refs) == 0 {
			continue
		}
		n := nodes[it.MessageID]
		p := get(it.Refs[len(it.Refs)-1])
		if n.Parent == p {
			continue
		}
		if n.Parent != nil && !ancestor(n, p) {
			unlink(n)
		}
		if n.Parent == nil {
			link(p, n)
		}
	}
	var roots []*Node
	for _, n := range nodes {
		if n.Parent == nil {
			roots = append(roots, n)
		}
	}
	for _, n := range nodes {
		sortNodes(n.Children)
	}
	sortNodes(roots)
	return prune(roots)
}

// link makes child a child of parent unless that would close a cycle.
func link(parent, child *Node) {
	if parent == child || ancestor(child, parent) {
		return
	}
	child.Parent = parent
	parent.Children = append(parent.Children, child)
}

func unlink(n *Node) {
	p := n.Parent
	for i, c := range p.Children {
		if c == n {
			p.Children = append(p.Children[:i], p.Children[i+1:]...)
			break
		}
	}
	n.Parent = nil
}

// ancestor reports whether a is an ancestor of (or equal to) b.
func ancestor(a, b *Node) bool {
	for n := b; n != nil; n = n.Parent {
		if n == a {
			return true
		}
	}
	return false
}

// date of a node for ordering: its own, or its earliest descendant's.
func date(n *Node) time.Time {
	if !n.Ghost || len(n.Children) == 0 {
		return n.Date
	}
	d := date(n.Children[0])
	for _, c := range n.Children[1:] {
		if cd := date(c); cd.Before(d) {
			d = cd
		}
	}
	return d
}

func sortNodes(ns []*Node) {
	sort.SliceStable(ns, func(i, j int) bool {
		di, dj := date(ns[i]), date(ns[j])
		if !di.Equal(dj) {
			return di.Before(dj)
		}
		return ns[i].MessageID < ns[j].MessageID
	})
}

// prune drops ghost leaves, and replaces a ghost root with a single child
// by nothing: a ghost is kept only where it joins real messages.
func prune(ns []*Node) []*Node {
	out := ns[:0]
	for _, n := range ns {
		n.Children = prune(n.Children)
		if n.Ghost && len(n.Children) == 0 {
			continue
		}
		out = append(out, n)
	}
	return out
}

// Walk calls fn for every node depth first, with its depth.
func Walk(roots []*Node, fn func(n *Node, depth int)) {
	var walk func(ns []*Node, d int)
	walk = func(ns []*Node, d int) {
		for _, n := range ns {
			fn(n, d)
			walk(n.Children, d+1)
		}
	}
	walk(roots, 0)
}
