package radar

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"patchtrail/internal/message"
	"patchtrail/internal/testcorpus"
)

// occurrencesOf are the start offsets of every occurrence of a in s,
// overlapping ones included.
func occurrencesOf(s, a string) []int32 {
	var out []int32
	for i := 0; i+len(a) <= len(s); i++ {
		if s[i:i+len(a)] == a {
			out = append(out, int32(i))
		}
	}
	return out
}

// checkScan compares the automaton's occurrences of every anchor in s
// with a search for each anchor alone.
func checkScan(t *testing.T, a *automaton, anchors []string, s string) bool {
	t.Helper()
	o := a.scan(s)
	for id, x := range anchors {
		if got, want := o.of(id), occurrencesOf(s, x); !slices.Equal(got, want) {
			t.Errorf("anchor %q in %.60q: at %v, want %v", x, s, got, want)
			return false
		}
	}
	return true
}

// The automaton finds every occurrence of every anchor, including
// anchors inside others and overlapping ones.
func TestAnchorScan(t *testing.T) {
	anchors := []string{"he", "she", "his", "hers", "leak", "infoleak", "ak", "aaa", "a", "lock", "deadlock", "bug:", " x"}
	a := buildAutomaton(anchors)
	for _, s := range []string{"", "ushers", "a deadlock and an infoleak: bug: x", "aaaaaa", "hishershe", "no anchor here? yes: a"} {
		checkScan(t, a, anchors, s)
	}
	r := rand.New(rand.NewSource(1))
	const alphabet = "aehiklrsx :bug"
	for range 2000 {
		b := make([]byte, r.Intn(40))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		if !checkScan(t, a, anchors, string(b)) {
			break
		}
	}
	if !checkScan(t, theAutomaton(), anchorList, strings.ToLower(fixture)) {
		t.Error("the lexicons' automaton on the fixture")
	}
}

// The lexicons' automaton finds every anchor on the mail of the io-uring
// epoch (a message in twenty), and the baseline's count read from it is
// BaselineWords'.
func TestAnchorScanCorpus(t *testing.T) {
	lex := theAutomaton()
	n := 0
	testcorpus.Messages(t, func(i int, _ string, raw []byte) {
		if i%20 != 0 || t.Failed() {
			return
		}
		if pm, err := message.Parse(raw, nil); err == nil {
			checkScan(t, lex, anchorList, strings.ToLower(pm.Text))
			if tx := newText(pm.Text); len(tx.s) == len(pm.Text) {
				if got, want := baselineWords(tx), BaselineWords(pm.Text); got != want {
					t.Errorf("message %d: baselineWords = %d, BaselineWords %d", i, got, want)
				}
			}
			n++
		}
	})
	t.Logf("%d messages", n)
}

// hasComparison is what cmpRE matches.
func TestHasComparison(t *testing.T) {
	for _, l := range []string{"", "if (a < b)", "a >= b", "x != y", "x == y", "x = y", "!x", "=>", "->", "a = !b", "<<", "x=!=y", "x ==", "="} {
		if got, want := hasComparison(l), cmpRE.MatchString(l); got != want {
			t.Errorf("hasComparison(%q) = %v, cmpRE %v", l, got, want)
		}
	}
}
