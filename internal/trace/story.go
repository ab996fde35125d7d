package trace

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/link"
	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/series"
	"patchtrail/internal/store"
	"patchtrail/internal/thread"
)

// Person is someone who took part in a fix, with the message where
// they did.
type Person struct {
	Role      string // reported, suggested, reviewed, acked, tested, co-developed, nacked
	Name      string
	Email     string
	MessageID string
	Date      time.Time // of the message it was given in
	Kind      string    // "patch": in the posting; "reply": a follow-up; "cover": on the cover letter
	Version   int       // version of the posting it was given for
}

// Review is a reply to a version of the fix, sent before the next
// version (or, for the final version, before it was applied).
type Review struct {
	MessageID  string
	Subject    string
	From       message.Address
	Date       time.Time
	Version    int    // the version it replies to
	NextPosted string // Message-ID of the version that followed, "" after the final one
}

// Event is one dated step of a fix.
type Event struct {
	Event     string     // first_posted, version_posted, last_version_posted, applied, committed, backport, cve_published
	Date      *time.Time // nil when unknown
	Detail    string
	MessageID string
	SHA       string
	// DaysSincePrevious is the gap to the previous dated event.
	DaysSincePrevious *float64
	// DaysSinceFix is the gap from the fix landing (committed, else
	// applied, else last posted) to a backport or the CVE: the patch gap.
	DaysSinceFix *float64
}

// personRoles are the trailer words a trace lists people for.
var personRoles = map[string]bool{"reported": true, "suggested": true, "reviewed": true, "acked": true, "tested": true,
	"co-developed": true, "nacked": true}

// SameSubjectLimit caps the same-subject messages outside a thread
// loaded with it.
const SameSubjectLimit = 200

// story fills the thread, series, people and reviews of the postings.
func (tr *trace) story(ctx context.Context) error {
	final := tr.t.Posting
	if final == nil {
		return nil
	}
	var err error
	m, err := tr.st.MessageRowByID(ctx, final.MessageID)
	if err != nil {
		return err
	}
	if tr.t.Thread, err = thread.Load(ctx, tr.st, m, SameSubjectLimit); err != nil {
		return err
	}
	if tr.t.Series, err = LoadSeries(ctx, tr.st, final.MessageID); err != nil && !errors.Is(err, series.ErrNoSeries) {
		return err
	}
	versions := append(append([]Posting(nil), tr.t.Earlier...), *final)
	seen := map[string]bool{}
	for i, v := range versions {
		ids, err := tr.st.Resolve(ctx, v.MessageID)
		if err != nil {
			return err
		}
		m, err := tr.st.Message(ctx, ids)
		if err != nil {
			return err
		}
		targets := append([]string(nil), m.IDs...)
		cover := ""
		if s, err := series.Load(ctx, tr.st, v.MessageID); err == nil {
			for _, p := range s.Parts {
				if p.Cover {
					cover = p.MessageID
					targets = append(targets, p.MessageID)
				}
			}
		} else if !errors.Is(err, series.ErrNoSeries) {
			return err
		}
		trs, err := tr.st.Trailers(ctx, targets)
		if err != nil {
			return err
		}
		for _, t := range trs {
			kind := t.Kind
			if t.Target == cover && kind == "reply" {
				kind = "cover"
			} else if t.Target == cover {
				continue // the cover letter's own trailers
			}
			given, err := tr.st.Message(ctx, t.Message)
			if err != nil {
				return err
			}
			for _, role := range rolesOf(t.Key) {
				k := role + "\x00" + strings.ToLower(t.Email) + "\x00" + given.MessageID
				if seen[k] {
					continue
				}
				seen[k] = true
				tr.t.People = append(tr.t.People, Person{Role: role, Name: t.Name, Email: t.Email, MessageID: given.MessageID,
					Date: given.Date, Kind: kind, Version: v.Version})
			}
		}
		next := ""
		var until time.Time
		if i+1 < len(versions) {
			next, until = versions[i+1].MessageID, versions[i+1].Date
		} else if len(tr.fix) > 0 {
			until = tr.fix[0].CommitDate
		}
		if err := tr.reviews(ctx, m, cover, v, next, until); err != nil {
			return err
		}
	}
	sort.SliceStable(tr.t.People, func(i, j int) bool {
		a, b := tr.t.People[i], tr.t.People[j]
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Date.Before(b.Date)
	})
	return nil
}

// rolesOf splits a trailer key into the roles a trace lists:
// "Reported-and-tested-by" gives reported and tested.
func rolesOf(key string) []string {
	base, ok := strings.CutSuffix(strings.ToLower(key), "-by")
	if !ok {
		return nil
	}
	var out []string
	for _, r := range strings.Split(base, "-and-") {
		if personRoles[r] {
			out = append(out, r)
		}
	}
	return out
}

// isReview tells whether reply m to posting v is a review: not from
// the posting's author (their answers and follow-ups), not from a bot
// (IsBot: build reports, patchwork and syzbot notices) and not the
// maintainer's note that the patch was applied (b4's "Applied,
// thanks!"), which is the trace's "applied" step.
func (tr *trace) isReview(ctx context.Context, m *store.Message, v Posting) (bool, error) {
	if strings.EqualFold(m.FromEmail, v.From.Email) || IsBot(m.FromName, m.FromEmail) {
		return false, nil
	}
	applied, err := tr.saysApplied(ctx, m)
	return !applied, err
}

// saysApplied tells whether the text m wrote itself (quotes left out)
// says the patch was applied or queued.
func (tr *trace) saysApplied(ctx context.Context, m *store.Message) (bool, error) {
	text, err := tr.ownText(ctx, m)
	return appliedRE.MatchString(text), err
}

// ownText is the non-quoted text of m ("" for a message that does not
// parse).
func (tr *trace) ownText(ctx context.Context, m *store.Message) (string, error) {
	raw, err := tr.st.Raw(ctx, m.ID)
	if err != nil {
		return "", err
	}
	pm, err := message.Parse(raw, nil)
	if err != nil {
		return "", nil
	}
	return pm.NonQuoted, nil
}

var (
	botNameRE  = regexp.MustCompile(`(?i)\b(robot|bot|syzbot|syzkaller)\b`)
	botLocalRE = regexp.MustCompile(`(?i)^(syzbot|syzkaller)|(^|[-_.])bot($|[-_.+])`)
)

// IsBot tells whether a sender is a robot rather than a reviewer: the
// kernel test robot (lkp@intel.com, or any sender named "... robot"),
// syzbot, patchwork-bot, pr-tracker-bot and other senders whose name or
// address names a bot as a word ("Ian Abbott" is no bot).
func IsBot(name, email string) bool {
	local, domain, _ := strings.Cut(strings.ToLower(email), "@")
	if local == "lkp" && strings.HasSuffix(domain, "intel.com") {
		return true
	}
	return botLocalRE.MatchString(local) || botNameRE.MatchString(name)
}

// reviews lists the replies to posting m (and direct replies to its
// cover letter) sent before until (zero: no bound).
func (tr *trace) reviews(ctx context.Context, m *store.Message, cover string, v Posting, next string, until time.Time) error {
	tv, err := thread.Load(ctx, tr.st, m, 0)
	if err != nil {
		return err
	}
	var add func(n *thread.Node, direct bool) error
	add = func(n *thread.Node, direct bool) error {
		for _, c := range n.Children {
			if sm, ok := c.Value.(*store.Message); ok && (until.IsZero() || sm.Date.Before(until)) {
				p, err := tr.st.PatchOf(ctx, sm.ID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if err != nil || p.Cover {
					ok, err := tr.isReview(ctx, sm, v)
					if err != nil {
						return err
					}
					if ok {
						tr.t.Reviews = append(tr.t.Reviews, Review{MessageID: sm.MessageID, Subject: sm.Subject,
							From: message.Address{Name: sm.FromName, Email: sm.FromEmail}, Date: sm.Date, Version: v.Version, NextPosted: next})
					}
				}
			}
			if !direct {
				if err := add(c, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var werr error
	thread.Walk(tv.Roots, func(n *thread.Node, depth int) {
		if werr != nil {
			return
		}
		switch n.MessageID {
		case m.MessageID:
			werr = add(n, false)
		case cover:
			werr = add(n, true)
		}
	})
	if werr != nil {
		return werr
	}
	sort.SliceStable(tr.t.Reviews, func(i, j int) bool { return tr.t.Reviews[i].Date.Before(tr.t.Reviews[j].Date) })
	return nil
}

// backports lists the fix on stable branches: the CVE's .dyad lines,
// commits whose body names a fix commit as upstream, and stable postings
// (by subject tags, or saying "commit <sha> upstream.").
func (tr *trace) backports(ctx context.Context, rec *store.CVERow) error {
	mainline := map[string]bool{}
	var fixes []string // the fix commits in the trace's order
	for _, c := range tr.t.FixCommits {
		if !mainline[c.SHA] {
			fixes = append(fixes, c.SHA)
		}
		mainline[c.SHA] = true
	}
	seen := map[string]bool{}
	if rec != nil {
		for _, b := range rec.Backports {
			if b.FixedSHA == "" || mainline[b.FixedSHA] || seen[b.FixedSHA] {
				continue
			}
			seen[b.FixedSHA] = true
			tb := Backport{Version: b.FixedVersion, SHA: b.FixedSHA, Source: "cve"}
			if ref, c, err := refOf(ctx, tr.st, b.FixedSHA); err != nil {
				return err
			} else if c != nil {
				tb.Commit = &ref
			}
			tr.t.Backports = append(tr.t.Backports, tb)
		}
	}
	for _, sha := range fixes {
		cs, err := tr.st.CommitsWhere(ctx, "upstream", sha)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if seen[c.SHA] {
				continue
			}
			seen[c.SHA] = true
			ref := commitRef(c)
			tr.t.Backports = append(tr.t.Backports, Backport{SHA: c.SHA, Commit: &ref, Source: "commit"})
		}
	}
	// Stable postings: by subject, and those naming a fix commit.
	var posts []*store.PatchCandidate
	if tr.t.Posting != nil {
		found, err := link.FindPostings(ctx, tr.st, &link.PostingQuery{Subject: tr.t.Posting.Subject})
		if err != nil {
			return err
		}
		for _, p := range found.Backports {
			posts = append(posts, p.PatchCandidate)
		}
	}
	for _, sha := range fixes {
		ids, err := tr.st.MessageBackports(ctx, sha)
		if err != nil {
			return err
		}
		for _, id := range ids {
			p, err := tr.st.PatchOf(ctx, id)
			if err != nil {
				return err
			}
			posts = append(posts, p)
		}
	}
	for _, p := range posts {
		if tr.pid[p.MessageID] {
			continue
		}
		tr.pid[p.MessageID] = true
		tp := tracePosting(p, "subject")
		if i := tr.backportFor(p.Subject); i >= 0 {
			tr.t.Backports[i].Posting = &tp
			continue
		}
		tr.t.Backports = append(tr.t.Backports, Backport{Version: stableVersion(p.Subject), Posting: &tp, Source: "posting"})
	}
	return nil
}

var versionRE = regexp.MustCompile(`^v?(\d+\.\d+)`)

// stableVersion is the first kernel version among a subject's tags.
func stableVersion(subject string) string {
	s := patch.ParseSubject(subject)
	for _, w := range append(append([]string(nil), s.Subsystems...), s.Prefixes...) {
		for _, f := range strings.Fields(w) {
			if m := versionRE.FindStringSubmatch(f); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// backportFor finds the .dyad backport without a posting whose stable
// version is the one a posting's subject names.
func (tr *trace) backportFor(subject string) int {
	v := stableVersion(subject)
	if v == "" {
		return -1
	}
	for i, b := range tr.t.Backports {
		if b.Posting == nil && b.Source == "cve" && (b.Version == v || strings.HasPrefix(b.Version, v+".")) {
			return i
		}
	}
	return -1
}

// appliedRE finds a maintainer's note that a patch was taken: "Applied,
// thanks!" (b4 ty), "I've queued it up", "Queued up for 6.2".
var appliedRE = regexp.MustCompile(`(?im)^\s*(thanks,?\s+)?(applied|queued|i'?ve (applied|queued|picked)|picked up)\b`)

// maxAppliedScan bounds the replies read to find the "applied" note.
const maxAppliedScan = 200

// applied finds the reply in the final posting's thread, not from its
// author, saying it was applied; one naming a fix commit wins.
func (tr *trace) applied(ctx context.Context) (*store.Message, error) {
	final := tr.t.Posting
	if final == nil || tr.t.Thread == nil {
		return nil, nil
	}
	msgs, err := tr.st.ThreadMessages(ctx, tr.t.Thread.ID)
	if err != nil {
		return nil, err
	}
	var best *store.Message
	for i, m := range msgs {
		if i >= maxAppliedScan {
			break
		}
		if m.Parent == "" || strings.EqualFold(m.FromEmail, final.From.Email) || m.Date.Before(final.Date) {
			continue
		}
		text, err := tr.ownText(ctx, m)
		if err != nil {
			return nil, err
		}
		if !appliedRE.MatchString(text) {
			continue
		}
		for _, c := range tr.t.FixCommits {
			if len(c.SHA) >= 12 && strings.Contains(text, c.SHA[:12]) {
				return m, nil
			}
		}
		if best == nil {
			best = m
		}
	}
	return best, nil
}

// timeline orders the dated steps of the fix and the gaps between them.
func (tr *trace) timeline(ctx context.Context, rec *store.CVERow) error {
	var ev []Event
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	versions := append([]Posting(nil), tr.t.Earlier...)
	if tr.t.Posting != nil {
		versions = append(versions, *tr.t.Posting)
	}
	for i, v := range versions {
		var names []string
		if i == 0 {
			names = append(names, "first_posted")
		}
		if i == len(versions)-1 {
			names = append(names, "last_version_posted")
		}
		if len(names) == 0 {
			names = append(names, "version_posted")
		}
		for _, name := range names {
			ev = append(ev, Event{Event: name, Date: at(v.Date), Detail: fmt.Sprintf("v%d %s", v.Version, v.Subject), MessageID: v.MessageID})
		}
	}
	landed := time.Time{}
	if len(versions) > 0 {
		landed = versions[len(versions)-1].Date
	}
	m, err := tr.applied(ctx)
	if err != nil {
		return err
	}
	if m != nil {
		ev = append(ev, Event{Event: "applied", Date: at(m.Date), Detail: "applied, says " + m.FromName, MessageID: m.MessageID})
		landed = m.Date
	}
	for _, c := range tr.fix {
		ev = append(ev, Event{Event: "committed", Date: at(c.CommitDate), Detail: c.Subject, SHA: c.SHA})
		landed = c.CommitDate
	}
	for _, b := range tr.t.Backports {
		e := Event{Event: "backport", Detail: strings.TrimSpace("stable " + b.Version), SHA: b.SHA}
		switch {
		case b.Commit != nil:
			e.Date = at(b.Commit.CommitDate)
		case b.Posting != nil:
			e.Date, e.MessageID, e.Detail = at(b.Posting.Date), b.Posting.MessageID, e.Detail+" (posted)"
		}
		ev = append(ev, e)
	}
	if rec != nil {
		ev = append(ev, Event{Event: "cve_published", Date: at(rec.Published), Detail: rec.ID})
	}
	sort.SliceStable(ev, func(i, j int) bool {
		a, b := ev[i].Date, ev[j].Date
		if a == nil || b == nil {
			return a != nil
		}
		return a.Before(*b)
	})
	var prev *time.Time
	for i := range ev {
		e := &ev[i]
		if e.Date == nil {
			continue
		}
		if prev != nil {
			e.DaysSincePrevious = days(e.Date.Sub(*prev))
		}
		prev = e.Date
		if (e.Event == "backport" || e.Event == "cve_published") && !landed.IsZero() {
			e.DaysSinceFix = days(e.Date.Sub(landed))
		}
	}
	tr.t.Timeline = ev
	return nil
}

// days is d in days rounded to a tenth, half away from zero (a gap of
// -1.26 days is -1.3, not -1.2).
func days(d time.Duration) *float64 {
	v := math.Round(d.Hours()/24*10) / 10
	return &v
}
