package main

import (
	"crypto/sha1"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// tree is a source tree: path → file content. Patches are computed
// against a tree and applied to it, so a series builds on itself.
type tree map[string]string

func (t tree) clone() tree { return maps.Clone(t) }

// edit replaces the unique occurrence of old with new in path; an empty
// old creates the file (or replaces it whole).
type edit struct{ path, old, new string }

// change is one commit of a series: the format-patch pieces we need.
type change struct {
	subject string // without [PATCH ...]
	msg     string // commit message body and trailers
	diff    string // "diff --git ..." through the last hunk
	stat    string // diffstat block, as after "---"
	files   []fileStat
}

type fileStat struct {
	path     string
	add, rem int
}

const ctxLines = 3

// lines splits s into lines that keep their "\n".
func lines(s string) []string {
	l := strings.SplitAfter(s, "\n")
	return l[:len(l)-1+b2i(l[len(l)-1] != "")]
}

// blobID is the abbreviated git blob hash of content, as in "index a..b".
func blobID(content string) string {
	if content == "" {
		return "0000000"
	}
	h := sha1.Sum(fmt.Appendf(nil, "blob %d\x00%s", len(content), content))
	return fmt.Sprintf("%x", h)[:7]
}

// patch applies edits to t and returns the change with its git-style diff.
func (t tree) patch(subject, msg string, edits ...edit) change {
	byPath := map[string][]edit{}
	for _, e := range edits {
		byPath[e.path] = append(byPath[e.path], e)
	}
	var diff strings.Builder
	var stats []fileStat
	paths := slices.Sorted(maps.Keys(byPath))
	for _, p := range paths {
		before := t[p]
		after, hunks, add, rem := applyEdits(before, byPath[p])
		fmt.Fprintf(&diff, "diff --git a/%s b/%s\n", p, p)
		from := "a/" + p
		if before == "" {
			fmt.Fprintf(&diff, "new file mode 100644\nindex %s..%s\n", blobID(before), blobID(after))
			from = "/dev/null"
		} else {
			fmt.Fprintf(&diff, "index %s..%s 100644\n", blobID(before), blobID(after))
		}
		fmt.Fprintf(&diff, "--- %s\n+++ b/%s\n%s", from, p, hunks)
		t[p] = after
		stats = append(stats, fileStat{p, add, rem})
	}
	return change{subject: subject, msg: msg, diff: diff.String(), stat: diffstat(stats), files: stats}
}

// diffstat renders git's --stat block (graphs are short enough not to scale).
func diffstat(fs []fileStat) string {
	var b strings.Builder
	var ins, del, width, cw int
	for _, f := range fs {
		width = max(width, len(f.path))
		cw = max(cw, len(fmt.Sprint(f.add+f.rem)))
	}
	for _, f := range fs {
		fmt.Fprintf(&b, " %-*s | %*d %s%s\n", width, f.path, cw, f.add+f.rem,
			strings.Repeat("+", f.add), strings.Repeat("-", f.rem))
		ins, del = ins+f.add, del+f.rem
	}
	return b.String() + summary(len(fs), ins, del)
}

func summary(files, ins, del int) string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	s := " " + plural(files, "file changed", "files changed")
	if ins > 0 {
		s += ", " + plural(ins, "insertion(+)", "insertions(+)")
	}
	if del > 0 {
		s += ", " + plural(del, "deletion(-)", "deletions(-)")
	}
	return s + "\n"
}

// applyEdits applies each edit (old must occur exactly once) and returns
// the new content, the unified-diff hunks and the added/removed counts.
func applyEdits(before string, edits []edit) (after, hunks string, add, rem int) {
	after = before
	for _, e := range edits {
		if n := strings.Count(after, e.old); e.old != "" && n != 1 {
			panic(fmt.Sprintf("gen: %s: %q occurs %d times, want 1", e.path, e.old, n))
		}
		if e.old == "" {
			after = e.new
		} else {
			after = strings.Replace(after, e.old, e.new, 1)
		}
	}
	ops := diffOps(lines(before), lines(after))
	var h strings.Builder
	for _, g := range groups(ops) {
		lo, hi := max(g[0]-ctxLines, 0), min(g[1]+ctxLines, len(ops))
		oldAt, newAt := 1, 1
		for _, o := range ops[:lo] {
			oldAt, newAt = oldAt+b2i(o.op != '+'), newAt+b2i(o.op != '-')
		}
		var oldN, newN int
		for _, o := range ops[lo:hi] {
			oldN, newN = oldN+b2i(o.op != '+'), newN+b2i(o.op != '-')
		}
		if oldN == 0 {
			oldAt--
		}
		if newN == 0 {
			newAt--
		}
		fmt.Fprintf(&h, "@@ -%d%s +%d%s @@%s\n", oldAt, count(oldN), newAt, count(newN), funcname(lines(before), oldAt-1))
		for _, o := range ops[lo:hi] {
			h.WriteString(string(o.op) + o.line)
			add, rem = add+b2i(o.op == '+'), rem+b2i(o.op == '-')
		}
	}
	return after, h.String(), add, rem
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type op struct {
	op   byte // ' ', '-', '+'
	line string
}

// diffOps is an LCS line diff; within each changed run, deletions come
// first, as git prints them.
func diffOps(a, b []string) []op {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out, dels, adds []op
	flush := func() { out, dels, adds = append(append(out, dels...), adds...), nil, nil }
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			flush()
			out = append(out, op{' ', a[i]})
			i, j = i+1, j+1
		case j == len(b) || i < len(a) && lcs[i+1][j] >= lcs[i][j+1]:
			dels = append(dels, op{'-', a[i]})
			i++
		default:
			adds = append(adds, op{'+', b[j]})
			j++
		}
	}
	flush()
	return out
}

// groups returns [start, end) op ranges of changes, merging runs whose
// contexts would touch, as git does.
func groups(ops []op) [][2]int {
	var gs [][2]int
	for i := 0; i < len(ops); i++ {
		if ops[i].op == ' ' {
			continue
		}
		j := i
		for j < len(ops) && ops[j].op != ' ' {
			j++
		}
		if n := len(gs); n > 0 && i-gs[n-1][1] <= 2*ctxLines {
			gs[n-1][1] = j
		} else {
			gs = append(gs, [2]int{i, j})
		}
		i = j
	}
	return gs
}

// count formats a hunk range length; git omits ",1".
func count(n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(",%d", n)
}

// funcname mimics git's default hunk header: the nearest line above the
// hunk that starts with a letter, '_' or '$'.
func funcname(src []string, lo int) string {
	for i := min(lo, len(src)) - 1; i >= 0; i-- {
		if src[i] == "" {
			continue
		}
		if c := src[i][0]; c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return " " + strings.TrimRight(src[i], " \t\n")
		}
	}
	return ""
}
