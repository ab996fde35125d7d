package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	list   = "io-uring@example.org"
	listID = "List-Id: <io-uring.example.org>"
)

// People are fake; domains are example.* (RFC 2606).
const (
	alice  = "Alice Example <alice@example.org>"
	bob    = "Bob Reviewer <bob@example.net>"
	carol  = "Carol Tester <carol@example.com>"
	dave   = "Dave Hacker <dave@example.org>"
	erin   = "Erin Maintainer <erin@example.org>"
	frank  = "Frank Reporter <frank@example.com>"
	grace  = "Grace Liburing <grace@example.net>"
	ivan   = "Ivan Netdev <ivan@example.com>"
	judy   = "Judy Newbie <judy@example.com>"
	greg   = "Greg Stable <greg@example.org>"
	tor    = "Tor Valdez <tor@example.org>"
	syzbot = "syzbot <syzbot+5e1c1b2a3d4f6e7a8b9c@syzkaller.example.com>"
	prbot  = "pr-tracker-bot <pr-tracker-bot@example.org>"
)

// archive accumulates the sample list in file order.
type archive struct {
	msgs []*msg
	seq  int
}

// at parses "2006-01-02 15:04:05 -0700".
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05 -0700", s)
	if err != nil {
		panic(err)
	}
	return t
}

func addrOf(person string) string {
	return person[strings.LastIndex(person, "<")+1 : len(person)-1]
}

func nameOf(person string) string { return strings.TrimSpace(person[:strings.LastIndex(person, "<")]) }

// newID makes a git-send-email style Message-ID.
func (a *archive) newID(from string, d time.Time, n int) string {
	a.seq++
	return fmt.Sprintf("%s.%d-%d-%s", d.UTC().Format("20060102150405"), 310000+a.seq*17, n, addrOf(from))
}

// add appends m as posted to the list.
func (a *archive) add(m *msg) *msg {
	if m.to == "" {
		m.to = list
	}
	m.hdr = append(m.hdr, listID)
	a.msgs = append(a.msgs, m)
	return m
}

// post starts a new thread.
func (a *archive) post(from, subject string, d time.Time, body string, hdr ...string) *msg {
	return a.add(&msg{from: from, subject: subject, date: d, id: a.newID(from, d, 1), body: body, hdr: hdr})
}

// replyMsg builds (without adding) a reply to parent with proper threading.
func (a *archive) replyMsg(parent *msg, from string, d time.Time, body string) *msg {
	subj := parent.subject
	if !strings.HasPrefix(subj, "Re: ") {
		subj = "Re: " + subj
	}
	refs := append(append([]string(nil), parent.refs...), parent.id)
	return &msg{from: from, to: parent.from, cc: list, subject: subj, date: d,
		id: a.newID(from, d, 0), irt: parent.id, refs: refs, body: body}
}

func (a *archive) reply(parent *msg, from string, d time.Time, body string) *msg {
	return a.add(a.replyMsg(parent, from, d, body))
}

// review replies to parent quoting the lines of its body from the first
// line containing start through the first following line containing end.
func (a *archive) review(parent *msg, from string, d time.Time, start, end, text string) *msg {
	body := fmt.Sprintf("On %s, %s wrote:\n%s\n%s", parent.date.Format("Mon, Jan 2, 2006 at 15:04"),
		nameOf(parent.from), quote(excerpt(parent.body, start, end)), strings.TrimLeft(text, "\n"))
	return a.reply(parent, from, d, body)
}

func excerpt(body, start, end string) string {
	ls := strings.SplitAfter(body, "\n")
	for i, l := range ls {
		if !strings.Contains(l, start) {
			continue
		}
		for j := i; j < len(ls); j++ {
			if strings.Contains(ls[j], end) {
				return strings.Join(ls[i:j+1], "")
			}
		}
	}
	panic(fmt.Sprintf("gen: excerpt %q..%q not found", start, end))
}

func quote(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if l == "" {
			b.WriteString(">\n")
		} else {
			b.WriteString("> " + l + "\n")
		}
	}
	return b.String()
}

// series posts a patch series: a cover letter (when cover != "") and one
// mail per change, each 1s apart and threaded to the cover. git
// format-patch layout: message, "---", notes, diffstat, diff, signature.
func (a *archive) series(from, prefix, title string, d time.Time, cover string, notes map[int]string, cs ...change) (*msg, []*msg) {
	n := len(cs)
	var root *msg
	if cover != "" {
		var shortlog strings.Builder
		fmt.Fprintf(&shortlog, "%s (%d):\n", nameOf(from), n)
		for _, c := range cs {
			shortlog.WriteString("  " + c.subject + "\n")
		}
		body := fmt.Sprintf("%s%s\n%s-- \n2.43.0\n", cover, shortlog.String(), seriesStat(cs))
		root = a.add(&msg{from: from, subject: fmt.Sprintf("[%s 0/%d] %s", prefix, n, title),
			date: d, id: a.newID(from, d, 0), body: body})
	}
	var patches []*msg
	for i, c := range cs {
		pd := d.Add(time.Duration(i+1) * time.Second)
		subj := fmt.Sprintf("[%s %d/%d] %s", prefix, i+1, n, c.subject)
		if n == 1 && cover == "" {
			subj = fmt.Sprintf("[%s] %s", prefix, c.subject)
		}
		m := &msg{from: from, subject: subj, date: pd, id: a.newID(from, pd, i+1), body: formatPatch(c, notes[i+1])}
		if root != nil {
			m.irt, m.refs = root.id, []string{root.id}
		}
		patches = append(patches, a.add(m))
	}
	return root, patches
}

// formatPatch is the body git format-patch writes for c.
func formatPatch(c change, notes string) string {
	if notes != "" {
		notes += "\n"
	}
	return fmt.Sprintf("%s---\n%s%s\n%s-- \n2.43.0\n", c.msg, notes, c.stat, c.diff)
}

// seriesStat sums the per-file stats of cs into one diffstat block.
func seriesStat(cs []change) string {
	var fs []fileStat
	idx := map[string]int{}
	for _, c := range cs {
		for _, f := range c.files {
			i, ok := idx[f.path]
			if !ok {
				i, idx[f.path] = len(fs), len(fs)
				fs = append(fs, fileStat{path: f.path})
			}
			fs[i].add += f.add
			fs[i].rem += f.rem
		}
	}
	slices.SortFunc(fs, func(a, b fileStat) int { return strings.Compare(a.path, b.path) })
	return diffstat(fs)
}
