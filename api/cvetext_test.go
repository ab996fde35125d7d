package api

import (
	"html"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDescBlocks(t *testing.T) {
	tests := []struct {
		text string
		want []string // "p:" or "pre:" and the first line of each block
	}{
		{"In the Linux kernel, the following vulnerability has been resolved:\n\nnet: fix x\n\nBefore blamed commit, pskb_may_pull() was used instead\nof skb_header_pointer().\n\n" +
			"kernel BUG at include/linux/skbuff.h:2655 !\ninvalid opcode: 0000 [#1] SMP KASAN\nCPU: 0 PID: 1441 Comm: syz-executor199\nRIP: 0010:__skb_pull include/linux/skbuff.h:2655 [inline]\n" +
			"RSP: 0018:ffffc90001bd7520 EFLAGS: 00010286\nCall Trace:\n<TASK>\n[<ffffffff847018dd>] __skb_gso_segment+0x32d/0x4c0 net/core/dev.c:3419\n\n" +
			"[<ffffffff85600087>] entry_SYSCALL_64_after_hwframe+0x63/0xcd\n\nFixes the bug.",
			[]string{"p:In the Linux kernel, the following vulnerability has been resolved:", "p:net: fix x", "p:Before blamed commit, pskb_may_pull() was used instead",
				"pre:kernel BUG at include/linux/skbuff.h:2655 !", "p:Fixes the bug."}},
		{"jfs: fix\n\n[Syz report]\nUBSAN: array-index-out-of-bounds in fs/jfs/jfs_imap.c:2360:2\nCall Trace:\n <TASK>\n dump_stack_lvl+0x1e7/0x2d0 lib/dump_stack.c:106\n\n[Analysis]\nWhen the agstart is too large.",
			[]string{"p:jfs: fix", "pre:[Syz report]", "p:[Analysis]"}},
		{"The fix:\n\n\tif (!req)\n\t\treturn -EINVAL;\n\nA paragraph\nwrapped on two lines.\r\n", []string{"p:The fix:", "pre:        if (!req)", "p:A paragraph"}},
		{"BUG: in a sentence, not a report, but long\nenough to span two lines of prose.", []string{"p:BUG: in a sentence, not a report, but long"}},
		{"", nil},
	}
	for i, tc := range tests {
		var got []string
		lines := 0
		for _, b := range descBlocks(tc.text) {
			k := "p:"
			if b.Code {
				k = "pre:"
			}
			first, _, _ := strings.Cut(b.Text, "\n")
			got = append(got, k+first)
			lines += strings.Count(b.Text, "\n") + 1
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("case %d: descBlocks (-want +got):\n%s", i, d)
		}
		// Every non-blank line is kept.
		want := 0
		for _, l := range strings.Split(tc.text, "\n") {
			if strings.TrimSpace(l) != "" {
				want++
			}
		}
		if nonBlank := lines - blankLines(descBlocks(tc.text)); nonBlank != want {
			t.Errorf("case %d: kept %d lines, want %d", i, nonBlank, want)
		}
	}
}

func blankLines(bs []descBlock) int {
	n := 0
	for _, b := range bs {
		n += strings.Count(b.Text, "\n\n")
	}
	return n
}

// TestTraceDescription: the trace page shows a report quoted in the CVE
// text as preformatted text.
func TestTraceDescription(t *testing.T) {
	bs := descBlocks("x\n\nCall Trace:\n <TASK>\n f+0x1/0x2 <a>&\n")
	if len(bs) != 2 || !bs[1].Code {
		t.Fatalf("blocks = %+v", bs)
	}
	var b strings.Builder
	d := traceData{T: &Trace{Query: "CVE-1", CVE: &TraceCVE{ID: "CVE-1", Description: "x\n\nCall Trace:\n <TASK>\n f+0x1/0x2 <a>&\n"}}}
	d.Site = "s"
	if err := loadPages().t["trace"].ExecuteTemplate(&b, "layout", d); err != nil {
		t.Fatal(err)
	}
	want := "<pre class=\"report\">Call Trace:\n <TASK>\n f+0x1/0x2 <a>&</pre>"
	if !strings.Contains(html.UnescapeString(b.String()), want) || !strings.Contains(b.String(), "&lt;a&gt;&amp;</pre>") {
		t.Errorf("trace page lacks %q, escaped:\n%s", want, b.String())
	}
}
