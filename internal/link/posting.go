package link

import (
	"context"
	"fmt"
	"sort"
	"time"

	"patchtrail/internal/store"
)

// PostingQuery describes a commit that is in no registered repository
// (a kernel fix named by a CVE or by a Fixes: trailer), to find where it
// was posted.
type PostingQuery struct {
	Subject string    // the commit's subject (a CVE title is one)
	Files   []string  // files the commit touches, when known
	Before  time.Time // the posting must be older (a commit or backport date); zero: no bound
}

// Posting is a posted patch found for a query, with the reasons.
type Posting struct {
	*store.PatchCandidate
	Score    float64
	Evidence []store.Evidence
}

// Postings is what FindPostings found.
type Postings struct {
	Final     *Posting   // the last version posted; nil when none fits
	Earlier   []*Posting // earlier versions of it, oldest first
	Backports []*Posting // stable backport postings of the same subject
	Rejected  []*Posting // same subject, set apart by files, dates or as another posting
}

// maxSameSubject bounds the postings read for one subject.
const maxSameSubject = 200

// FindPostings finds the posting of a commit by its subject: patch mails
// with the same normalised subject, stable backport postings set apart
// (IsStableSubject, or a body naming the upstream commit), narrowed by the files touched and posted before
// q.Before. When several independent postings remain, the version chain
// sharing the most files wins; its latest version is the final posting
// and the others are its earlier versions.
func FindPostings(ctx context.Context, st *store.Store, q *PostingQuery) (*Postings, error) {
	out := &Postings{}
	key := SubjectKey(q.Subject)
	if key == "" {
		return out, nil
	}
	cands, err := st.PatchesBySubject(ctx, key, maxSameSubject)
	if err != nil {
		return nil, err
	}
	type group struct {
		members []*Posting
		files   float64
	}
	groups := map[int64]*group{}
	var keys []int64
	for _, c := range cands {
		p := &Posting{PatchCandidate: c, Evidence: []store.Evidence{{Kind: "subject", Detail: "subject equals the commit's", Weight: wSubject}}}
		files := jaccard(q.Files, c.Files)
		if files > 0 {
			p.Evidence = append(p.Evidence, store.Evidence{Kind: "files", Detail: fmt.Sprintf("files overlap %.2f", files), Weight: wFiles * files})
		}
		up, err := st.BackportOf(ctx, c.Message)
		if err != nil {
			return nil, err
		}
		switch {
		case IsStableSubject(c.Subject):
			p.Evidence = append(p.Evidence, store.Evidence{Kind: "stable", Detail: "subject tags mark a stable backport posting"})
			out.Backports = append(out.Backports, p)
			continue
		case up != "":
			p.Evidence = append(p.Evidence, store.Evidence{Kind: "stable", Detail: "backport of upstream commit " + up})
			out.Backports = append(out.Backports, p)
			continue
		case len(q.Files) > 0 && len(c.Files) > 0 && files == 0:
			p.Evidence = append(p.Evidence, store.Evidence{Kind: "files", Detail: "touches none of the commit's files"})
			out.Rejected = append(out.Rejected, p)
			continue
		case !q.Before.IsZero() && c.Date.After(q.Before):
			p.Evidence = append(p.Evidence, store.Evidence{Kind: "date", Detail: "posted after " + q.Before.Format("2006-01-02")})
			out.Rejected = append(out.Rejected, p)
			continue
		}
		p.Score = wSubject + wFiles*files
		k := c.Chain
		if k == 0 {
			k = -c.Message
		}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			keys = append(keys, k)
		}
		g.members = append(g.members, p)
		g.files = max(g.files, files)
	}
	if len(keys) == 0 {
		return out, nil
	}
	latest := func(g *group) *Posting {
		best := g.members[0]
		for _, p := range g.members[1:] {
			if p.Version > best.Version || p.Version == best.Version && p.Date.After(best.Date) {
				best = p
			}
		}
		return best
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := groups[keys[i]], groups[keys[j]]
		if a.files != b.files {
			return a.files > b.files
		}
		return latest(a).Date.After(latest(b).Date)
	})
	chosen := groups[keys[0]]
	out.Final = latest(chosen)
	out.Final.Evidence = append(out.Final.Evidence, store.Evidence{Kind: "version", Detail: fmt.Sprintf("latest version (v%d) of its posting", out.Final.Version)})
	for _, k := range keys {
		for _, p := range groups[k].members {
			switch {
			case p == out.Final:
			case groups[k] == chosen || p.Author == out.Final.Author && p.Date.Before(out.Final.Date):
				out.Earlier = append(out.Earlier, p)
			default:
				p.Evidence = append(p.Evidence, store.Evidence{Kind: "other", Detail: "another posting of the same subject"})
				out.Rejected = append(out.Rejected, p)
			}
		}
	}
	sort.Slice(out.Earlier, func(i, j int) bool { return out.Earlier[i].Date.Before(out.Earlier[j].Date) })
	return out, nil
}
