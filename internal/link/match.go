package link

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// Threshold is the score a fuzzy candidate needs to be linked.
const Threshold = 0.55

// Limits on the candidates fetched per commit.
const (
	maxByPatchID = 20
	maxBySubject = 50
	maxByAuthor  = 200
	maxByDate    = 20
)

// scored is a candidate posting with its features and score.
type scored struct {
	p     *store.PatchCandidate
	f     features
	grade string
	score float64
}

// better orders candidates: higher score, then the posting whose Date
// became the author date, then the later posting.
func better(a, b *scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.f.sameDate != b.f.sameDate {
		return a.f.sameDate
	}
	return a.p.Date.After(b.p.Date)
}

// plausible says a candidate could be linked on its own.
func plausible(s *scored) bool { return s.grade == store.GradeStrong || s.score >= Threshold }

// versionsOf says candidates a and b are postings of the same change:
// versions in one chain, resends under one subject, the same patch, or
// a diff in a reply and the patch of its thread.
func versionsOf(a, b *scored) bool {
	return otherVersion(a.p, b.p) ||
		a.p.NormSubject == b.p.NormSubject ||
		a.f.patchID && b.f.patchID ||
		(a.p.Reply || b.p.Reply) && a.p.Thread == b.p.Thread
}

// diffTie is how close two changed-lines similarities must be to count
// as equal: the sketches estimate them.
const diffTie = 0.05

// appliedFrom orders two versions of a change by which one the commit
// was applied from. The very content first: the same patch-id (a
// maintainer who applied v2 and then took the content of v3, or of a
// reply, wrote the Link: of the content). Then what `git am` leaves
// behind: the author date is the mail's Date (the closer the better, for
// postings sent seconds apart), and the subject the commit kept. Then
// the closer changed lines, then a patch mail over a reply quoting or
// repeating it. Still tied: the latest posting before the commit (a
// resend sent after the commit was made comes last).
func appliedFrom(a, b *scored) bool {
	if a.f.patchID != b.f.patchID {
		return a.f.patchID
	}
	if a.f.sameDate != b.f.sameDate {
		return a.f.sameDate
	}
	if a.f.sameDate && a.f.dateDelta != b.f.dateDelta {
		return a.f.dateDelta < b.f.dateDelta
	}
	if sa, sb := a.f.subject == 1, b.f.subject == 1; sa != sb {
		return sa
	}
	if d := a.f.diff - b.f.diff; d > diffTie || d < -diffTie {
		return d > 0
	}
	if a.p.Reply != b.p.Reply {
		return !a.p.Reply
	}
	if ba, bb := a.f.age >= 0, b.f.age >= 0; ba != bb {
		return ba
	}
	return a.p.Date.After(b.p.Date)
}

// breakTies moves to the front, among the plausible candidates that are
// versions of the best-scored one, the one the commit was applied from
// (appliedFrom): several versions and resends all fit a commit, and the
// scores of near-identical postings differ by noise.
func breakTies(out []*scored) {
	if len(out) < 2 || !plausible(out[0]) {
		return
	}
	best := 0
	for i := 1; i < len(out); i++ {
		if plausible(out[i]) && versionsOf(out[i], out[0]) && appliedFrom(out[i], out[best]) {
			best = i
		}
	}
	if best > 0 {
		w := out[best]
		copy(out[1:best+1], out[:best])
		out[0] = w
	}
}

// matcher finds and scores the postings of commits. It caches the
// sketches of the messages it has parsed.
type matcher struct {
	st             *store.Store
	window         time.Duration
	ignoreTrailers bool
	sketches       map[int64]Sketch
}

func newMatcher(st *store.Store, window time.Duration, ignoreTrailers bool) *matcher {
	return &matcher{st: st, window: window, ignoreTrailers: ignoreTrailers, sketches: map[int64]Sketch{}}
}

// sketch returns the sketch of the patches in message id.
func (m *matcher) sketch(ctx context.Context, id int64) (Sketch, error) {
	if sk, ok := m.sketches[id]; ok {
		return sk, nil
	}
	raw, err := m.st.Raw(ctx, id)
	if err != nil {
		return nil, err
	}
	sk := Sketch{}
	if pm, err := message.Parse(raw, nil); err == nil {
		ps, _ := patch.ParsePatches(pm.Text)
		for _, a := range pm.Attachments {
			if len(a.Data) > 0 {
				more, _ := patch.ParsePatches(string(a.Data))
				ps = append(ps, more...)
			}
		}
		sk = PatchSketch(ps)
	}
	m.sketches[id] = sk
	return sk, nil
}

// links computes the links of commit c: applied links first, best
// first, then the earlier versions.
func (m *matcher) links(ctx context.Context, c *store.CommitRow) ([]store.LinkRow, error) {
	if c.Merge {
		return nil, nil
	}
	var out []store.LinkRow
	exact := map[int64]int{}          // message → index in out
	exactPatch := map[int64]*scored{} // trailer-named patch mails
	var lastExact *scored
	if !m.ignoreTrailers {
		for _, t := range c.Trailers {
			if t.MessageID == "" || !(strings.EqualFold(t.Key, "link") || strings.EqualFold(t.Key, "message-id")) {
				continue
			}
			id, err := m.st.Resolve(ctx, t.MessageID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if _, dup := exact[id]; dup {
				continue
			}
			score := 0.98 // a report or discussion rather than the patch
			p, err := m.st.PatchOf(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				p, err = m.st.ReplyPatchOf(ctx, id)
			}
			switch {
			case err == nil && !p.Cover:
				score = 1
				lastExact = &scored{p: p, f: compare(c, p, nil, false), grade: store.GradeExact, score: 1}
				exactPatch[id] = lastExact
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
			exact[id] = len(out)
			out = append(out, store.LinkRow{Commit: c.ID, Message: id, Role: store.RoleApplied, Grade: store.GradeExact, Score: score,
				Evidence: []store.Evidence{{Kind: "link-trailer", Detail: t.Key + ": " + t.Value, Weight: 1}}})
		}
	}
	cands, err := m.candidates(ctx, c)
	if err != nil {
		return nil, err
	}
	var best *scored
	if len(cands) > 0 && (cands[0].grade == store.GradeStrong || cands[0].score >= Threshold) {
		best = cands[0]
	}
	// The anchor is the applied posting versions are counted from: among
	// the postings trailers name, the best candidate, else the last named
	// (b4 appends the applied posting's Link: last); without trailers,
	// the best candidate.
	anchor := lastExact
	if best != nil {
		if e, ok := exactPatch[best.p.Message]; ok {
			anchor = e
		} else if anchor == nil {
			anchor = best
		}
	}
	if anchor == nil {
		return out, nil
	}
	for id, e := range exactPatch {
		if e != anchor && earlierOf(e, anchor) {
			out[exact[id]].Role = store.RoleEarlier
		}
	}
	if best != nil {
		if i, ok := exact[best.p.Message]; ok {
			out[i].Evidence = append(out[i].Evidence, best.f.evidence()...)
		} else if best == anchor || !earlierOf(best, anchor) {
			out = append(out, store.LinkRow{Commit: c.ID, Message: best.p.Message, Role: store.RoleApplied, Grade: best.grade,
				Score: round(best.score), Evidence: best.f.evidence()})
		}
	}
	earlier, err := m.earlier(ctx, c, anchor, cands)
	if err != nil {
		return nil, err
	}
	for _, e := range earlier {
		if _, ok := exact[e.p.Message]; ok {
			continue
		}
		out = append(out, store.LinkRow{Commit: c.ID, Message: e.p.Message, Role: store.RoleEarlier, Grade: e.grade,
			Score: round(e.score), Evidence: e.f.evidence()})
	}
	// Applied links first, best first (the order the store reads them in).
	sort.SliceStable(out, func(i, j int) bool {
		if ai, aj := out[i].Role == store.RoleApplied, out[j].Role == store.RoleApplied; ai != aj {
			return ai
		}
		return out[i].Role == store.RoleApplied && out[i].Score > out[j].Score
	})
	return out, nil
}

// candidates gathers and scores the postings that may be the source of
// c: same patch-id, same subject, and (when those find nothing good) the
// author's patches touching the same files within the window. They come
// back best first.
func (m *matcher) candidates(ctx context.Context, c *store.CommitRow) ([]*scored, error) {
	seen := map[int64]*store.PatchCandidate{}
	samePID := map[int64]bool{}
	var order []*store.PatchCandidate
	add := func(ps []*store.PatchCandidate) {
		for _, p := range ps {
			if seen[p.Message] == nil && !p.Cover {
				seen[p.Message] = p
				order = append(order, p)
			}
		}
	}
	if c.PatchID != "" {
		ps, err := m.st.CandidatesByPatchID(ctx, c.PatchID, maxByPatchID)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			samePID[p.Message] = true
		}
		add(ps)
	}
	if c.NormSubject != "" {
		ps, err := m.st.CandidatesBySubject(ctx, c.NormSubject, maxBySubject)
		if err != nil {
			return nil, err
		}
		add(ps)
	}
	if !c.AuthorDate.IsZero() {
		// The postings whose Date became the author date (git am), for
		// commits whose sender, subject and content all changed.
		ps, err := m.st.PatchesByDate(ctx, c.AuthorDate.Add(-sameDateSlack), c.AuthorDate.Add(sameDateSlack), maxByDate)
		if err != nil {
			return nil, err
		}
		add(ps)
	}
	out, err := m.score(ctx, c, order, samePID)
	if err != nil {
		return nil, err
	}
	if (len(out) == 0 || out[0].grade != store.GradeStrong && out[0].score < Threshold) && c.AuthorEmail != "" && len(c.Files) > 0 {
		author, from, to := strings.ToLower(c.AuthorEmail), c.CommitDate.Add(-m.window), c.CommitDate.Add(commitSlack)
		ps, err := m.st.PatchesByAuthor(ctx, author, from, to, c.Files, maxByAuthor)
		if err != nil {
			return nil, err
		}
		rs, err := m.st.RepliesByAuthor(ctx, author, from, to, c.Files, maxByAuthor)
		if err != nil {
			return nil, err
		}
		ps = append(ps, rs...)
		var more []*store.PatchCandidate
		for _, p := range ps {
			if seen[p.Message] == nil && !p.Cover && jaccard(c.Files, p.Files) > 0 {
				seen[p.Message] = p
				more = append(more, p)
			}
		}
		extra, err := m.score(ctx, c, more, samePID)
		if err != nil {
			return nil, err
		}
		out = append(out, extra...)
	}
	sort.SliceStable(out, func(i, j int) bool { return better(out[i], out[j]) })
	breakTies(out)
	return out, nil
}

// score computes the features of the candidates posted before c (within
// the window unless the patch-ids agree). Candidates that cannot reach
// the threshold even with identical changed lines are scored without
// parsing their message.
func (m *matcher) score(ctx context.Context, c *store.CommitRow, ps []*store.PatchCandidate, samePID map[int64]bool) ([]*scored, error) {
	var out []*scored
	for _, p := range ps {
		f := compare(c, p, nil, samePID[p.Message])
		// Outside the window only when the patch-id or the Date (git am)
		// ties the posting to the commit: a branch rebased long after.
		if !f.before || !f.patchID && !f.sameDate && f.age > m.window {
			continue
		}
		if f.patchID || 0.9*(f.fuzzy()+wDiff) >= Threshold {
			sk, err := m.sketch(ctx, p.Message)
			if err != nil {
				return nil, err
			}
			f.diff = Similarity(c.Sketch, sk)
		}
		grade, score := f.score()
		out = append(out, &scored{p: p, f: f, grade: grade, score: score})
	}
	return out, nil
}

// earlierOf reports whether candidate e is an earlier version of the
// applied posting a: posted before it, in its version chain or by the
// same sender under the same subject, or carrying the same patch.
func earlierOf(e, a *scored) bool {
	if e.p.Message == a.p.Message || !e.p.Date.Before(a.p.Date) {
		return false
	}
	return otherVersion(e.p, a.p) && (e.p.NormSubject == a.p.NormSubject || e.p.Counter == a.p.Counter) ||
		e.p.NormSubject == a.p.NormSubject && e.p.Author == a.p.Author ||
		e.f.patchID && a.f.patchID
}

// otherVersion says a and b are in one version chain but not in one
// series: the other parts of a series are no versions of a patch.
func otherVersion(a, b *store.PatchCandidate) bool {
	return a.Chain != 0 && a.Chain == b.Chain && a.Series != b.Series
}

// earlier lists the earlier versions of the applied posting a: scored
// candidates that are earlierOf it, and the parts of earlier series of
// its version chain with its subject.
func (m *matcher) earlier(ctx context.Context, c *store.CommitRow, a *scored, cands []*scored) ([]*scored, error) {
	var out []*scored
	seen := map[int64]bool{a.p.Message: true}
	for _, e := range cands {
		if !seen[e.p.Message] && earlierOf(e, a) {
			seen[e.p.Message] = true
			out = append(out, e)
		}
	}
	if a.p.Chain != 0 {
		chain, err := m.st.Chain(ctx, a.p.Chain)
		if err != nil {
			return nil, err
		}
		for _, s := range chain {
			if s.ID == a.p.Series || !s.FirstDate.Before(a.p.Date) {
				continue
			}
			parts, err := m.st.SeriesParts(ctx, s.ID)
			if err != nil {
				return nil, err
			}
			for _, part := range parts {
				if part.Cover || seen[part.Message] || part.NormSubject != a.p.NormSubject {
					continue
				}
				p, err := m.st.PatchOf(ctx, part.Message)
				if err != nil {
					return nil, err
				}
				seen[p.Message] = true
				f := compare(c, p, nil, hasPID(part.PatchIDs, c.PatchID))
				grade, score := f.score()
				out = append(out, &scored{p: p, f: f, grade: grade, score: score})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].p.Date.Before(out[j].p.Date) })
	return out, nil
}

func hasPID(ids []string, pid string) bool {
	if pid == "" {
		return false
	}
	for _, id := range ids {
		if id == pid {
			return true
		}
	}
	return false
}

func round(f float64) float64 {
	return float64(int(f*1000+0.5)) / 1000
}
