package link

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/store"
)

// CVEPosting is where a CVE's fix was posted: the final version, its
// earlier versions, and how it was found.
type CVEPosting struct {
	Final   *store.PatchCandidate
	Earlier []*store.PatchCandidate // oldest first
	Found   string                  // "link" (a registered fix commit's links) or "subject"
	// Fix holds the fix commits found in a registered repository.
	Fix []*store.CommitRow
}

// First is the earliest version posted.
func (p *CVEPosting) First() *store.PatchCandidate {
	if len(p.Earlier) > 0 && p.Earlier[0].Date.Before(p.Final.Date) {
		return p.Earlier[0]
	}
	return p.Final
}

// FindCVEPosting finds the posting of a CVE's fix as a trace does: from
// the links of its fix commits when they are in a registered
// repository, else by the CVE title (FindPostings) among patches posted
// before the fix was committed, backported or published. It returns
// nil when the archive holds no posting.
func FindCVEPosting(ctx context.Context, st *store.Store, rec *store.CVERow) (*CVEPosting, error) {
	out := &CVEPosting{}
	for _, sha := range rec.FixSHAs {
		c, err := st.Commit(ctx, sha)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Fix = append(out.Fix, c)
	}
	for _, c := range out.Fix {
		ls, err := st.CommitLinks(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			p, err := st.PatchOf(ctx, l.Message)
			if errors.Is(err, store.ErrNotFound) || err == nil && p.Cover {
				continue
			}
			if err != nil {
				return nil, err
			}
			switch {
			case l.Role == store.RoleApplied && out.Final == nil:
				out.Final = p
			case l.Role == store.RoleEarlier:
				out.Earlier = append(out.Earlier, p)
			}
		}
		if out.Final != nil {
			out.Found = "link"
			sortByDate(out.Earlier)
			return out, nil
		}
	}
	out.Earlier = nil
	if rec.Title == "" {
		return nil, nil
	}
	q := &PostingQuery{Subject: rec.Title, Files: rec.Files, Before: postingBound(ctx, st, rec, out.Fix)}
	found, err := FindPostings(ctx, st, q)
	if err != nil {
		return nil, err
	}
	if found.Final == nil {
		return nil, nil
	}
	PreferOriginal(found)
	out.Final, out.Found = found.Final.PatchCandidate, "subject"
	for _, e := range found.Earlier {
		out.Earlier = append(out.Earlier, e.PatchCandidate)
	}
	sortByDate(out.Earlier)
	return out, nil
}

// PreferOriginal replaces a final posting stored under a generated
// Message-ID — a re-sent copy whose own id was already taken by the
// original — by the original: the latest posting of the same author and
// version, not after it, under its real id (in its real thread, with its
// reviews and the maintainer's reply). The copy is then set apart, not
// kept as an earlier version.
func PreferOriginal(found *Postings) {
	if found.Final == nil || !store.IsGeneratedID(found.Final.MessageID) {
		return
	}
	copyOf := found.Final
	var best *Posting
	for _, group := range [][]*Posting{found.Earlier, found.Rejected} {
		for _, p := range group {
			if store.IsGeneratedID(p.MessageID) || p.Author != copyOf.Author || p.Version != copyOf.Version || p.Date.After(copyOf.Date) {
				continue
			}
			if best == nil || p.Date.After(best.Date) {
				best = p
			}
		}
	}
	if best == nil {
		return
	}
	found.Final = best
	var earlier, rejected []*Posting
	for _, e := range found.Earlier {
		if e != best && !e.Date.After(best.Date) {
			earlier = append(earlier, e)
		}
	}
	for _, r := range found.Rejected {
		if r != best {
			rejected = append(rejected, r)
		}
	}
	copyOf.Evidence = append(copyOf.Evidence, store.Evidence{Kind: "copy", Detail: "re-sent copy of <" + best.MessageID + "> stored under a generated Message-ID"})
	found.Earlier, found.Rejected = earlier, append(rejected, copyOf)
}

func sortByDate(ps []*store.PatchCandidate) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Date.Before(ps[j-1].Date); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// postingBound is the latest date the fix can have been posted: the
// earliest date of a registered fix or backport commit, or the CVE's
// publication.
func postingBound(ctx context.Context, st *store.Store, rec *store.CVERow, fix []*store.CommitRow) time.Time {
	var b time.Time
	min := func(t time.Time) {
		if !t.IsZero() && (b.IsZero() || t.Before(b)) {
			b = t
		}
	}
	for _, c := range fix {
		min(c.CommitDate)
	}
	min(rec.Published)
	for _, bp := range rec.Backports {
		if bp.FixedSHA == "" {
			continue
		}
		if c, err := st.Commit(ctx, bp.FixedSHA); err == nil {
			min(c.CommitDate)
		}
	}
	return b
}

// appliedRE finds a maintainer's note that a patch was taken: "Applied,
// thanks!" (b4 ty), "I've queued it up", "Queued up for 6.2".
var appliedRE = regexp.MustCompile(`(?im)^\s*(thanks,?\s+)?(applied|queued|i'?ve (applied|queued|picked)|picked up)\b`)

// maxAppliedScan bounds the replies read to find the "applied" note.
const maxAppliedScan = 200

// FindApplied finds the reply in the final posting's thread, not from
// its author and not older than it, saying it was applied; one naming
// one of the fix commits (by a 12-digit prefix) wins. It returns nil
// when there is none.
func FindApplied(ctx context.Context, st *store.Store, final *store.PatchCandidate, fixSHAs []string) (*store.Message, error) {
	if final == nil || final.Thread == 0 {
		return nil, nil
	}
	msgs, err := st.ThreadMessages(ctx, final.Thread)
	if err != nil {
		return nil, err
	}
	var best *store.Message
	for i, m := range msgs {
		if i >= maxAppliedScan {
			break
		}
		if m.Parent == "" || strings.EqualFold(m.FromEmail, final.Author) || m.Date.Before(final.Date) {
			continue
		}
		raw, err := st.Raw(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		pm, err := message.Parse(raw, nil)
		if err != nil || !appliedRE.MatchString(pm.NonQuoted) {
			continue
		}
		for _, sha := range fixSHAs {
			if len(sha) >= 12 && strings.Contains(pm.NonQuoted, sha[:12]) {
				return m, nil
			}
		}
		if best == nil {
			best = m
		}
	}
	return best, nil
}
