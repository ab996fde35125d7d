package trace

import (
	"context"
	"errors"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/series"
	"patchtrail/internal/store"
)

// The views of commits with their links to messages (internal/link).

// CommitRef names a commit; Known is false for a commit that is in no
// registered repository (only its id is known), and then only SHA is set.
type CommitRef struct {
	SHA        string
	Known      bool
	Subject    string
	Author     message.Address
	CommitDate time.Time
	Repos      []string
}

func commitRef(c *store.CommitRow) CommitRef {
	return CommitRef{SHA: c.SHA, Known: true, Subject: c.Subject, Author: message.Address{Name: c.AuthorName, Email: c.AuthorEmail},
		CommitDate: c.CommitDate, Repos: c.Repos}
}

// refOf looks a commit up by id; an unknown one is returned as such.
func refOf(ctx context.Context, st *store.Store, sha string) (CommitRef, *store.CommitRow, error) {
	c, err := st.Commit(ctx, sha)
	if errors.Is(err, store.ErrNotFound) {
		return CommitRef{SHA: sha}, nil, nil
	}
	if err != nil {
		return CommitRef{}, nil, err
	}
	return commitRef(c), c, nil
}

// CommitLink is a message linked to a commit.
type CommitLink struct {
	MessageID string
	Subject   string
	From      message.Address
	Date      time.Time
	ThreadID  int64
	SeriesID  int64 // 0: the message is no patch
	Version   int
	Role      string // "applied": made into the commit; "earlier": an earlier version of it
	Grade     string // "exact" (Link: trailer), "strong" (patch-id), "fuzzy" (scored)
	Score     float64
	Evidence  []store.Evidence
}

// CommitFix is a Fixes: trailer of a commit.
type CommitFix struct {
	Target string // as written
	Title  string
	Commit *CommitRef // when the repository knows it
}

// Commit is the view of one commit: its links to messages (best first,
// earlier versions after the applied postings) and its relations.
type Commit struct {
	CommitRef
	Row        *store.CommitRow // the stored commit: committer, body, trailers, files
	Links      []CommitLink
	Fixes      []CommitFix
	FixedBy    []CommitRef
	Reverts    *CommitRef
	RevertedBy []CommitRef
	Upstream   *CommitRef // the mainline commit of a backport
	Backports  []CommitRef
	CVEs       map[string]string // CVE id → "fix", "introduced" or "backport"
}

// LoadCommit reads the commit with this (possibly abbreviated) id with
// its links and relations.
func LoadCommit(ctx context.Context, st *store.Store, sha string) (*Commit, error) {
	c, err := st.Commit(ctx, sha)
	if err != nil {
		return nil, err
	}
	v := &Commit{CommitRef: commitRef(c), Row: c, Links: []CommitLink{},
		Fixes: []CommitFix{}, FixedBy: []CommitRef{}, RevertedBy: []CommitRef{}, Backports: []CommitRef{}}
	if v.Links, err = commitLinks(ctx, st, c.ID); err != nil {
		return nil, err
	}
	for _, f := range c.Fixes {
		cf := CommitFix{Target: f.Target, Title: f.Title}
		if f.TargetSHA != "" {
			ref, _, err := refOf(ctx, st, f.TargetSHA)
			if err != nil {
				return nil, err
			}
			cf.Commit = &ref
		}
		v.Fixes = append(v.Fixes, cf)
	}
	rel := func(kind string) ([]CommitRef, error) {
		cs, err := st.CommitsWhere(ctx, kind, c.SHA)
		if err != nil {
			return nil, err
		}
		out := []CommitRef{}
		for _, x := range cs {
			out = append(out, commitRef(x))
		}
		return out, nil
	}
	if v.FixedBy, err = rel("fixes"); err != nil {
		return nil, err
	}
	if v.RevertedBy, err = rel("reverts"); err != nil {
		return nil, err
	}
	if v.Backports, err = rel("upstream"); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		sha string
		dst **CommitRef
	}{{c.Reverts, &v.Reverts}, {c.Upstream, &v.Upstream}} {
		if x.sha == "" {
			continue
		}
		ref, _, err := refOf(ctx, st, x.sha)
		if err != nil && !errors.Is(err, store.ErrAmbiguous) {
			return nil, err
		}
		if ref.SHA == "" {
			ref.SHA = x.sha
		}
		*x.dst = &ref
	}
	if v.CVEs, err = st.CVEsOfCommit(ctx, c.SHA); err != nil {
		return nil, err
	}
	return v, nil
}

// commitLinks loads the links of a commit with their messages.
func commitLinks(ctx context.Context, st *store.Store, commit int64) ([]CommitLink, error) {
	ls, err := st.CommitLinks(ctx, commit)
	if err != nil {
		return nil, err
	}
	out := []CommitLink{}
	for _, l := range ls {
		m, err := st.Message(ctx, l.Message)
		if err != nil {
			return nil, err
		}
		cl := CommitLink{MessageID: m.MessageID, Subject: m.Subject, From: message.Address{Name: m.FromName, Email: m.FromEmail}, Date: m.Date,
			ThreadID: m.Thread, Role: l.Role, Grade: l.Grade, Score: l.Score, Evidence: l.Evidence}
		if p, err := st.Patch(ctx, l.Message); err == nil {
			cl.SeriesID, cl.Version = p.Series, p.Version
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

// MessageCommit is a commit a message became (or of which it was an
// earlier version).
type MessageCommit struct {
	CommitRef
	Role     string
	Grade    string
	Score    float64
	Evidence []store.Evidence
}

// LoadMessageCommits returns the commits linked to the message named by
// mid, applied links first.
func LoadMessageCommits(ctx context.Context, st *store.Store, mid string) ([]MessageCommit, error) {
	id, err := st.Resolve(ctx, mid)
	if err != nil {
		return nil, err
	}
	ls, err := st.MessageLinks(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []MessageCommit{}
	for _, l := range ls {
		ref, _, err := refOf(ctx, st, l.SHA)
		if err != nil {
			return nil, err
		}
		out = append(out, MessageCommit{CommitRef: ref, Role: l.Role, Grade: l.Grade, Score: l.Score, Evidence: l.Evidence})
	}
	return out, nil
}

// Series is a series with, for each part (by index), the commits it
// became and the CVEs it fixes.
type Series struct {
	*series.Series
	Commits [][]MessageCommit
	CVEs    [][]CVERef
}

// LoadSeries reads the series of any message of it with the commits of
// its parts.
func LoadSeries(ctx context.Context, st *store.Store, mid string) (*Series, error) {
	s, err := series.Load(ctx, st, mid)
	if err != nil {
		return nil, err
	}
	v := &Series{Series: s, Commits: make([][]MessageCommit, len(s.Parts)), CVEs: make([][]CVERef, len(s.Parts))}
	for i, p := range s.Parts {
		if v.Commits[i], err = LoadMessageCommits(ctx, st, p.MessageID); err != nil {
			return nil, err
		}
		if p.Cover {
			continue
		}
		if v.CVEs[i], err = CVEsOfPatch(ctx, st, p.Subject, v.Commits[i]); err != nil {
			return nil, err
		}
	}
	return v, nil
}
