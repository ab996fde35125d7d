package link

import (
	"fmt"
	"strings"
	"time"

	"patchtrail/internal/store"
)

// Weights of the fuzzy score; they sum to 1.
const (
	wSubject  = 0.25
	wAuthor   = 0.10
	wFiles    = 0.15
	wDiff     = 0.30
	wSameDate = 0.20
)

// sameDateSlack is how far a commit's author date may be from the mail's
// Date for `git am` to have taken it from the mail.
const sameDateSlack = 2 * time.Minute

// commitSlack tolerates clocks: a posting may be dated this much after
// the commit made from it.
const commitSlack = 24 * time.Hour

// features are the facts comparing a commit with a posted patch.
type features struct {
	patchID  bool
	subject  float64 // 1 for equal normalised subjects, else word overlap
	author   float64 // 1 same address, 0.8 same name, 0 otherwise
	files    float64 // Jaccard index of the touched paths
	diff     float64 // Similarity of the changed lines
	sameDate bool    // author date equals the mail's Date
	before   bool    // posted before the commit (with commitSlack)
	age      time.Duration
	// dateDelta is how far the author date is from the mail's Date.
	dateDelta time.Duration
}

// compare computes the features of candidate p for commit c; sk is the
// candidate's sketch (nil when not needed), samePID whether its patch-id
// equals the commit's.
func compare(c *store.CommitRow, p *store.PatchCandidate, sk Sketch, samePID bool) features {
	f := features{
		patchID: samePID,
		subject: subjectSimilarity(c.NormSubject, p.NormSubject),
		files:   jaccard(c.Files, p.Files),
		diff:    Similarity(c.Sketch, sk),
	}
	switch {
	case strings.EqualFold(c.AuthorEmail, p.Author):
		f.author = 1
	case c.AuthorName != "" && strings.EqualFold(strings.TrimSpace(c.AuthorName), senderName(p.FromName)):
		f.author = 0.8
	}
	if !p.Date.IsZero() {
		d := c.AuthorDate.Sub(p.Date)
		f.sameDate = d > -sameDateSlack && d < sameDateSlack
		f.dateDelta = d.Abs()
		f.age = c.CommitDate.Sub(p.Date)
		f.before = f.age > -commitSlack
	}
	return f
}

// senderName is the name of a mail's sender without the " via <list>"
// that mailing lists append when they rewrite the From: of mails whose
// domain publishes a strict DMARC policy ("Ann Dev via Linux-erofs
// <linux-erofs@lists.ozlabs.org>").
func senderName(from string) string {
	from = strings.TrimSpace(from)
	if i := strings.LastIndex(from, " via "); i > 0 {
		from = strings.TrimSpace(from[:i])
	}
	return from
}

// fuzzy is the weighted score in [0, 1].
func (f features) fuzzy() float64 {
	s := wSubject*f.subject + wAuthor*f.author + wFiles*f.files + wDiff*f.diff
	if f.sameDate {
		s += wSameDate
	}
	return s
}

// score grades a candidate: strong when the patch-ids agree, fuzzy
// otherwise. A strong link scores 0.9 to 1, a fuzzy one up to 0.9.
func (f features) score() (grade string, score float64) {
	if f.patchID {
		return store.GradeStrong, 0.9 + 0.1*f.fuzzy()
	}
	return store.GradeFuzzy, 0.9 * f.fuzzy()
}

// evidence describes the features for the stored link.
func (f features) evidence() []store.Evidence {
	var ev []store.Evidence
	if f.patchID {
		ev = append(ev, store.Evidence{Kind: "patch-id", Detail: "patch-id equals the commit's", Weight: 0.9})
	}
	subj := "subject equals the commit's"
	if f.subject < 1 {
		subj = fmt.Sprintf("subject words overlap %.2f", f.subject)
	}
	ev = append(ev, store.Evidence{Kind: "subject", Detail: subj, Weight: wSubject * f.subject})
	switch f.author {
	case 1:
		ev = append(ev, store.Evidence{Kind: "author", Detail: "sender address equals the commit author's", Weight: wAuthor})
	case 0.8:
		ev = append(ev, store.Evidence{Kind: "author", Detail: "sender name equals the commit author's", Weight: wAuthor * 0.8})
	}
	if f.files > 0 {
		ev = append(ev, store.Evidence{Kind: "files", Detail: fmt.Sprintf("files overlap %.2f", f.files), Weight: wFiles * f.files})
	}
	if f.diff > 0 {
		ev = append(ev, store.Evidence{Kind: "diff", Detail: fmt.Sprintf("changed lines similarity %.2f", f.diff), Weight: wDiff * f.diff})
	}
	if f.sameDate {
		ev = append(ev, store.Evidence{Kind: "date", Detail: "author date equals the mail's Date (git am)", Weight: wSameDate})
	} else if f.age != 0 {
		ev = append(ev, store.Evidence{Kind: "date", Detail: "posted " + humanDuration(f.age) + " before the commit", Weight: 0})
	}
	return ev
}

// subjectSimilarity is 1 for equal subjects, else the Jaccard index of
// their words (split at anything but letters, digits and '_').
func subjectSimilarity(a, b string) float64 {
	if a == b {
		return 1
	}
	wa, wb := words(a), words(b)
	return jaccard(wa, wb)
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

// jaccard is the Jaccard index of two string sets (0 when either is
// empty).
func jaccard(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	sa := make(map[string]bool, len(a))
	for _, x := range a {
		sa[x] = true
	}
	sb := make(map[string]bool, len(b))
	both := 0
	for _, x := range b {
		if !sb[x] {
			sb[x] = true
			if sa[x] {
				both++
			}
		}
	}
	return float64(both) / float64(len(sa)+len(sb)-both)
}

// humanDuration renders a duration in days, hours or minutes.
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + humanDuration(-d)
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
}
