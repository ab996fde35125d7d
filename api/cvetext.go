package api

import (
	"regexp"
	"strings"
)

// The text of a CVE record (its description: the fix commit's message)
// as paragraphs and preformatted blocks: a crash report quoted in it —
// KASAN, UBSAN, a BUG with its registers and call trace — or code keeps
// its lines and columns instead of collapsing into one paragraph.

// descBlock is one paragraph (Code false, its line breaks kept) or one
// preformatted block of a CVE description.
type descBlock struct {
	Code bool
	Text string
}

var (
	// stackFrame is a call trace line: "func+0x68f/0x6a0".
	stackFrame = regexp.MustCompile(`\+0x[0-9a-f]+/0x[0-9a-f]+`)
	// reportLine starts a line of a kernel crash report.
	reportLine = regexp.MustCompile(`^(=====|-----|BUG:|WARNING:|kernel BUG|general protection fault|Oops|KASAN:|UBSAN:|Call Trace:|<TASK>|</TASK>|<IRQ>|RIP:|RSP:|Code:|R[A-Z0-9]{1,3}:|[A-Z]S:|CR2:|DR[0-9]:|CPU:|Hardware name:|Modules linked in:|Read of size|Write of size|Allocated by|Freed by|The buggy address|Memory state|\[<[0-9a-f]+>\]|\[ *[0-9]+\.[0-9]+\])`)
)

// descBlocks splits a description at blank lines; a block is code when a
// line of it is indented, has a stack frame, or when most of its lines
// look like a crash report.
func descBlocks(text string) []descBlock {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\t", "        ")
	var out []descBlock
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		report := 0
		code := false
		for _, l := range para {
			if strings.HasPrefix(l, " ") || stackFrame.MatchString(l) {
				code = true
			}
			if reportLine.MatchString(strings.TrimSpace(l)) {
				report++
			}
		}
		code = code || 2*report > len(para)
		// Consecutive code blocks are one report split by blank lines.
		if n := len(out); code && n > 0 && out[n-1].Code {
			out[n-1].Text += "\n\n" + strings.Join(para, "\n")
		} else {
			out = append(out, descBlock{Code: code, Text: strings.Join(para, "\n")})
		}
		para = nil
	}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, " ")
		if l == "" {
			flush()
			continue
		}
		para = append(para, l)
	}
	flush()
	return out
}
