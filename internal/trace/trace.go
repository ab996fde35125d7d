// Package trace tells the whole story of a fix, from a CVE, a commit or
// a message: the CVE, the fix commits, the final posting with its thread
// and series, earlier versions, the people and where they spoke, the
// reviews between versions, the Fixes: targets with their postings, the
// stable backports and a timeline with the gaps between its events. It
// also reads the commit views (commit.go). Its types carry no wire form;
// api converts them.
package trace

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/cve"
	"patchtrail/internal/exposure"
	"patchtrail/internal/gap"
	"patchtrail/internal/link"
	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/series"
	"patchtrail/internal/store"
	"patchtrail/internal/thread"
)

// Posting is a posted version of the fix (or of another commit).
type Posting struct {
	MessageID string
	Subject   string
	From      message.Address
	Date      time.Time
	Version   int
	SeriesID  int64
	ThreadID  int64
	Found     string // "link" (a commit link), "subject" (by subject, no commit), "message" (the query)
	Grade     string
	Score     float64
	Evidence  []store.Evidence
}

// Fixes is a commit the fix repairs (a Fixes: trailer or the CVE's
// introducing commit) with its own posting.
type Fixes struct {
	Target  string
	Title   string
	Commit  CommitRef
	Posting *Posting
}

// Backport is the fix on a stable branch.
type Backport struct {
	Version string // stable version that got it ("6.1.69")
	SHA     string
	Commit  *CommitRef // when a registered repository holds it
	Posting *Posting
	Source  string // "cve" (.dyad), "commit" (upstream line of a commit), "posting" (a stable posting)
}

// Trace is the whole story of a fix.
type Trace struct {
	Query      string
	CVE        *store.CVERow // nil: no CVE names the fix
	FixCommits []CommitRef
	Posting    *Posting     // the final posting, nil when none was found
	Thread     *thread.View // of the final posting
	Series     *Series      // of the final posting
	Earlier    []Posting
	People     []Person
	Reviews    []Review
	Fixes      []Fixes
	Backports  []Backport
	Timeline   []Event
	// Branches is the CVE on each line of development (one per .dyad
	// line): introduced in, fixed in (version and commit), or still
	// vulnerable. Empty without a CVE.
	Branches []cve.BranchState
	// Gap is the patch gap of the CVE (internal/gap, as `patchtrail gap`
	// measures it) from the postings this trace found: first posting,
	// last version, applied, mainline fix, each stable fix, publication,
	// with the days from each to the publication. Nil without a CVE or
	// a posting.
	Gap *gap.CVE
	// Discussion is the list discussion of the CVE itself: threads with
	// a message naming its id ("Re: CVE-2024-41001").
	Discussion []Mention
	// BugReports are reports against the Fixes: targets: "[bug report]"
	// mails titled after a target, and messages (no patches) naming the
	// target commit, outside the fix's own thread.
	BugReports []Mention
	Notes      []string // what could not be found, and how things were found
}

var cveIDRE = regexp.MustCompile(`(?i)^CVE-\d{4}-\d+$`)
var shaRE = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// trace is the state of one Load.
type trace struct {
	st  *store.Store
	t   *Trace
	fix []*store.CommitRow // fix commits a registered repository holds
	pid map[string]bool    // message ids of postings already listed
	// The final posting and the earlier versions as stored, for the gap.
	final   *store.PatchCandidate
	earlier []*store.PatchCandidate
	found   string
}

// Load assembles the trace of q: a CVE id, a commit id (full or
// abbreviated) or a Message-ID.
func Load(ctx context.Context, st *store.Store, q string) (*Trace, error) {
	q = strings.TrimSpace(q)
	tr := &trace{st: st, pid: map[string]bool{}, t: &Trace{Query: q, FixCommits: []CommitRef{}, Earlier: []Posting{}, People: []Person{},
		Reviews: []Review{}, Fixes: []Fixes{}, Backports: []Backport{}, Timeline: []Event{}, Branches: []cve.BranchState{}, Discussion: []Mention{}, BugReports: []Mention{}, Notes: []string{}}}
	var rec *store.CVERow
	var fixSHAs []string
	var posting *store.PatchCandidate // a posting named by the query
	switch {
	case cveIDRE.MatchString(q):
		var err error
		if rec, err = st.CVE(ctx, strings.ToUpper(q)); err != nil {
			return nil, err
		}
		fixSHAs = rec.FixSHAs
	case shaRE.MatchString(q):
		c, err := st.Commit(ctx, q)
		sha := strings.ToLower(q)
		switch {
		case err == nil:
			sha = c.SHA
		case !errors.Is(err, store.ErrNotFound) || len(q) < 40:
			return nil, err
		}
		fixSHAs = []string{sha}
		// A stable backport tells the story of its mainline commit.
		if c != nil && c.Upstream != "" {
			tr.note("%.12s is a backport of %.12s", sha, c.Upstream)
			fixSHAs = []string{c.Upstream}
		} else if ids, err := st.CVEsOfCommit(ctx, sha); err != nil {
			return nil, err
		} else if id := firstOfKind(ids, "backport"); id != "" {
			if rec, err = st.CVE(ctx, id); err != nil {
				return nil, err
			}
			tr.note("%.12s is a stable backport of the fix of %s", sha, id)
			fixSHAs = rec.FixSHAs
		}
	default:
		id, err := st.Resolve(ctx, q)
		if err != nil {
			return nil, err
		}
		if posting, err = patchOfThread(ctx, st, id); err != nil {
			return nil, err
		}
		ls, err := st.MessageLinks(ctx, posting.Message)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			fixSHAs = append(fixSHAs, l.SHA)
		}
	}
	if err := tr.fixCommits(ctx, fixSHAs, &rec); err != nil {
		return nil, err
	}
	if rec != nil {
		tr.t.CVE = rec
	}
	if err := tr.postings(ctx, rec, posting); err != nil {
		return nil, err
	}
	if rec == nil && tr.t.Posting != nil {
		// No commit named a CVE: the CVE title is the fix's subject.
		ids, err := st.CVEsByTitle(ctx, link.SubjectKey(tr.t.Posting.Subject))
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			if rec, err = st.CVE(ctx, ids[0]); err != nil {
				return nil, err
			}
			tr.t.CVE = rec
			tr.note("%s found by its title", rec.ID)
			if err := tr.fixCommits(ctx, rec.FixSHAs, &rec); err != nil {
				return nil, err
			}
		}
	}
	if err := tr.story(ctx); err != nil {
		return nil, err
	}
	if err := tr.fixesTargets(ctx, rec); err != nil {
		return nil, err
	}
	if err := tr.backports(ctx, rec); err != nil {
		return nil, err
	}
	if err := tr.timeline(ctx, rec); err != nil {
		return nil, err
	}
	if err := tr.gap(ctx, rec); err != nil {
		return nil, err
	}
	if err := tr.mentions(ctx, rec); err != nil {
		return nil, err
	}
	return tr.t, nil
}

// patchOfThread returns the patch of message id, or of the nearest
// message it replies to that is a patch.
func patchOfThread(ctx context.Context, st *store.Store, id int64) (*store.PatchCandidate, error) {
	pid, err := series.NearestPatch(ctx, st, id)
	if err != nil {
		if errors.Is(err, series.ErrNoSeries) {
			return nil, fmt.Errorf("%w: the message is not part of a patch posting", series.ErrNoSeries)
		}
		return nil, err
	}
	return st.PatchOf(ctx, pid)
}

// fixCommits fills FixCommits and, when the trace did not start from a
// CVE, finds the CVE that names a fix commit.
func (tr *trace) fixCommits(ctx context.Context, shas []string, rec **store.CVERow) error {
	seen := map[string]bool{}
	for _, sha := range shas {
		if seen[sha] {
			continue
		}
		seen[sha] = true
		ref, c, err := refOf(ctx, tr.st, sha)
		if err != nil {
			return err
		}
		tr.t.FixCommits = append(tr.t.FixCommits, ref)
		if c != nil {
			tr.fix = append(tr.fix, c)
		} else {
			tr.note("fix commit %.12s is in no registered repository", sha)
		}
		if *rec == nil {
			ids, err := tr.st.CVEsOfCommit(ctx, ref.SHA)
			if err != nil {
				return err
			}
			if id := firstOfKind(ids, "fix"); id != "" {
				if *rec, err = tr.st.CVE(ctx, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// firstOfKind is the least CVE id (in the order CVE ids sort) that ids
// gives kind: the same answer whatever order the map iterates in.
func firstOfKind(ids map[string]string, kind string) string {
	var out []string
	for id, k := range ids {
		if k == kind {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return ""
	}
	sort.Slice(out, func(i, j int) bool { return cveLess(out[i], out[j]) })
	return out[0]
}

// cveLess orders CVE ids by year, then number (CVE-2024-9999 before
// CVE-2024-10000).
func cveLess(a, b string) bool {
	if len(a) != len(b) && strings.EqualFold(a[:min(len(a), 9)], b[:min(len(b), 9)]) {
		return len(a) < len(b)
	}
	return a < b
}

func (tr *trace) note(format string, args ...any) {
	tr.t.Notes = append(tr.t.Notes, fmt.Sprintf(format, args...))
}

// postings finds the final posting and the earlier versions: from the
// links of a registered fix commit, else by subject (the CVE title or
// the queried posting's subject).
func (tr *trace) postings(ctx context.Context, rec *store.CVERow, queried *store.PatchCandidate) error {
	for _, c := range tr.fix {
		ls, err := tr.st.CommitLinks(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, l := range ls {
			p, err := tr.st.PatchOf(ctx, l.Message)
			if errors.Is(err, store.ErrNotFound) || err == nil && p.Cover {
				continue
			}
			if err != nil {
				return err
			}
			tp := tracePosting(p, "link")
			tp.Grade, tp.Score, tp.Evidence = l.Grade, l.Score, (l.Evidence)
			if l.Role == store.RoleApplied && tr.t.Posting == nil {
				tr.setFinal(tp, p)
			} else if l.Role == store.RoleEarlier {
				tr.addEarlier(tp, p)
			}
		}
		if tr.t.Posting != nil {
			return nil
		}
	}
	q := &link.PostingQuery{}
	switch {
	case rec != nil && rec.Title != "":
		q.Subject, q.Files = rec.Title, rec.Files
	case len(tr.fix) > 0:
		q.Subject, q.Files = tr.fix[0].Subject, tr.fix[0].Files
	case queried != nil:
		m, err := tr.st.Message(ctx, queried.Message)
		if err != nil {
			return err
		}
		q.Subject, q.Files = m.Subject, queried.Files
	default:
		tr.note("nothing to search postings by")
		return nil
	}
	var err error
	if q.Before, err = tr.bound(ctx, rec); err != nil {
		return err
	}
	found, err := link.FindPostings(ctx, tr.st, q)
	if err != nil {
		return err
	}
	// A re-sent copy under a generated Message-ID is not the posting
	// when its original is in the archive.
	link.PreferOriginal(found)
	// The queried posting's own version chain wins over another posting
	// of the same subject.
	if queried != nil && (found.Final == nil || queried.Chain == 0 || found.Final.Chain != queried.Chain) {
		found.Final, found.Earlier = &link.Posting{PatchCandidate: queried}, nil
	}
	if found.Final == nil {
		tr.note("no posting with the subject %q", q.Subject)
		return nil
	}
	tr.note("posting found by subject %q (no linked commit)", q.Subject)
	fp := tracePosting(found.Final.PatchCandidate, "subject")
	fp.Score, fp.Evidence = found.Final.Score, (found.Final.Evidence)
	tr.setFinal(fp, found.Final.PatchCandidate)
	for _, e := range found.Earlier {
		ep := tracePosting(e.PatchCandidate, "subject")
		ep.Score, ep.Evidence = e.Score, (e.Evidence)
		tr.addEarlier(ep, e.PatchCandidate)
	}
	return nil
}

// bound is the latest date the fix can have been posted: the earliest
// date of a registered fix or backport commit, or the CVE's publication.
func (tr *trace) bound(ctx context.Context, rec *store.CVERow) (time.Time, error) {
	var b time.Time
	min := func(t time.Time) {
		if !t.IsZero() && (b.IsZero() || t.Before(b)) {
			b = t
		}
	}
	for _, c := range tr.fix {
		min(c.CommitDate)
	}
	if rec != nil {
		min(rec.Published)
		for _, bp := range rec.Backports {
			if bp.FixedSHA == "" {
				continue
			}
			c, err := tr.st.Commit(ctx, bp.FixedSHA)
			if err == nil {
				min(c.CommitDate)
			} else if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrAmbiguous) {
				return time.Time{}, err
			}
		}
	}
	return b, nil
}

func tracePosting(p *store.PatchCandidate, found string) Posting {
	return Posting{MessageID: p.MessageID, Subject: p.Subject, From: message.Address{Name: p.FromName, Email: p.Author}, Date: p.Date,
		Version: p.Version, SeriesID: p.Series, ThreadID: p.Thread, Found: found}
}

func (tr *trace) setFinal(p Posting, c *store.PatchCandidate) {
	tr.t.Posting = &p
	tr.pid[p.MessageID] = true
	tr.final, tr.found = c, p.Found
}

func (tr *trace) addEarlier(p Posting, c *store.PatchCandidate) {
	if tr.pid[p.MessageID] {
		return
	}
	tr.pid[p.MessageID] = true
	tr.earlier = append(tr.earlier, c)
	tr.t.Earlier = append(tr.t.Earlier, p)
	sort.SliceStable(tr.t.Earlier, func(i, j int) bool { return tr.t.Earlier[i].Date.Before(tr.t.Earlier[j].Date) })
}

// fixesTargets lists the commits the fix repairs: the Fixes: trailers of
// the fix commits, else of the final posting, and the CVE's introducing
// commits; each with its posting (by link, else by its title).
func (tr *trace) fixesTargets(ctx context.Context, rec *store.CVERow) error {
	type target struct{ sha, title string }
	var targets []target
	for _, c := range tr.fix {
		for _, f := range c.Fixes {
			sha := f.TargetSHA
			if sha == "" {
				sha = f.Target
			}
			targets = append(targets, target{sha, f.Title})
		}
	}
	if len(targets) == 0 && tr.t.Posting != nil {
		trs, err := tr.st.Trailers(ctx, []string{tr.t.Posting.MessageID})
		if err != nil {
			return err
		}
		for _, t := range trs {
			if strings.EqualFold(t.Key, "fixes") && t.Kind == "patch" {
				pt := patch.NewTrailer(t.Key, t.Value)
				if pt.SHA != "" {
					targets = append(targets, target{pt.SHA, pt.Title})
				}
			}
		}
	}
	if rec != nil {
		for _, sha := range rec.IntroducedSHAs {
			dup := false
			for i, t := range targets {
				if strings.HasPrefix(sha, t.sha) {
					targets[i].sha, dup = sha, true
				}
			}
			if !dup {
				targets = append(targets, target{sha: sha})
			}
		}
	}
	before := time.Time{}
	if tr.t.Posting != nil {
		before = tr.t.Posting.Date
	}
	for _, t := range targets {
		ref, c, err := refOf(ctx, tr.st, t.sha)
		if err != nil && !errors.Is(err, store.ErrAmbiguous) {
			return err
		}
		tf := Fixes{Target: t.sha, Title: t.title, Commit: ref}
		if tf.Commit.SHA == "" {
			tf.Commit.SHA = t.sha
		}
		if c != nil {
			if tf.Title == "" {
				tf.Title = c.Subject
			}
			ls, err := tr.st.CommitLinks(ctx, c.ID)
			if err != nil {
				return err
			}
			if len(ls) > 0 && ls[0].Role == store.RoleApplied {
				p, err := tr.st.PatchOf(ctx, ls[0].Message)
				if err == nil {
					tp := tracePosting(p, "link")
					tp.Grade, tp.Score = ls[0].Grade, ls[0].Score
					tf.Posting = &tp
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		if tf.Posting == nil && tf.Title != "" {
			found, err := link.FindPostings(ctx, tr.st, &link.PostingQuery{Subject: tf.Title, Before: before})
			if err != nil {
				return err
			}
			if found.Final != nil {
				tp := tracePosting(found.Final.PatchCandidate, "subject")
				tp.Score, tp.Evidence = found.Final.Score, (found.Final.Evidence)
				tf.Posting = &tp
			}
		}
		tr.t.Fixes = append(tr.t.Fixes, tf)
	}
	return nil
}

// gap fills the per-branch states of the CVE and its patch gap, measured
// by internal/gap from the postings this trace found.
func (tr *trace) gap(ctx context.Context, rec *store.CVERow) error {
	if rec == nil {
		return nil
	}
	tr.t.Branches = cve.Branches(exposure.Backports(rec))
	if tr.final == nil {
		return nil
	}
	earlier := append([]*store.PatchCandidate(nil), tr.earlier...)
	sort.SliceStable(earlier, func(i, j int) bool { return earlier[i].Date.Before(earlier[j].Date) })
	m, err := tr.st.MessageRowByID(ctx, tr.final.MessageID)
	if err != nil {
		return err
	}
	g, err := gap.Of(ctx, tr.st, rec, &link.CVEPosting{Final: tr.final, Earlier: earlier, Found: tr.found, Fix: tr.fix}, m.Lists)
	if err != nil {
		return err
	}
	tr.t.Gap = g
	return nil
}
