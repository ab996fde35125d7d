package api

import (
	"context"

	"patchtrail/internal/message"
	"patchtrail/internal/series"
	"patchtrail/internal/store"
	"patchtrail/internal/trace"
)

// The conversions from the domain types of internal/trace and
// internal/series to the wire types (wire.go), and the loaders the
// handlers and the CLI's --json use: each reads with the domain package
// and converts, nothing more.

// ErrNoSeries is returned for a message that belongs to no series.
var ErrNoSeries = series.ErrNoSeries

// LoadTrace reads the trace of q (a CVE id, a commit id or a Message-ID)
// in its wire form.
func LoadTrace(ctx context.Context, st *store.Store, q string) (*Trace, error) {
	t, err := trace.Load(ctx, st, q)
	if err != nil {
		return nil, err
	}
	return WireTrace(t), nil
}

// LoadSeries reads the series of any message of it in its wire form.
func LoadSeries(ctx context.Context, st *store.Store, mid string) (*Series, error) {
	s, err := trace.LoadSeries(ctx, st, mid)
	if err != nil {
		return nil, err
	}
	return WireSeries(s), nil
}

// LoadCommit reads the commit with this (possibly abbreviated) id in its
// wire form.
func LoadCommit(ctx context.Context, st *store.Store, sha string) (*Commit, error) {
	c, err := trace.LoadCommit(ctx, st, sha)
	if err != nil {
		return nil, err
	}
	return WireCommit(c), nil
}

// LoadMessageCommits reads the commits linked to the message named by mid
// in their wire form.
func LoadMessageCommits(ctx context.Context, st *store.Store, mid string) ([]MessageCommit, error) {
	cs, err := trace.LoadMessageCommits(ctx, st, mid)
	if err != nil {
		return nil, err
	}
	return wireMessageCommits(cs), nil
}

// LoadRepos lists the registered repositories.
func LoadRepos(ctx context.Context, st *store.Store) ([]RepoInfo, error) {
	rs, err := st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	return WireRepos(rs), nil
}

// WireRepos is the wire form of the registered repositories.
func WireRepos(rs []*store.RepoRow) []RepoInfo {
	out := []RepoInfo{}
	for _, r := range rs {
		ri := RepoInfo{Name: r.Name, Path: r.Path, Commits: r.Commits, Heads: r.Heads}
		if !r.LastLink.IsZero() {
			t := r.LastLink
			ri.LastLink = &t
		}
		out = append(out, ri)
	}
	return out
}

func addrOf(a message.Address) Address { return Address{Name: a.Name, Email: a.Email} }

func wireEvidence(ev []store.Evidence) []Evidence {
	out := make([]Evidence, 0, len(ev))
	for _, e := range ev {
		out = append(out, Evidence{Kind: e.Kind, Detail: e.Detail, Weight: e.Weight})
	}
	return out
}

// WireCommitRef is the wire form of a commit reference.
func WireCommitRef(r trace.CommitRef) CommitRef {
	w := CommitRef{SHA: r.SHA, Known: r.Known, Subject: r.Subject, Repos: r.Repos}
	if r.Known {
		a, d := addrOf(r.Author), r.CommitDate
		w.Author, w.CommitDate = &a, &d
	}
	return w
}

func wireCommitRefs(rs []trace.CommitRef) []CommitRef {
	out := make([]CommitRef, 0, len(rs))
	for _, r := range rs {
		out = append(out, WireCommitRef(r))
	}
	return out
}

func wireCommitRefPtr(r *trace.CommitRef) *CommitRef {
	if r == nil {
		return nil
	}
	w := WireCommitRef(*r)
	return &w
}

func wireMessageCommits(cs []trace.MessageCommit) []MessageCommit {
	out := make([]MessageCommit, 0, len(cs))
	for _, c := range cs {
		out = append(out, MessageCommit{CommitRef: WireCommitRef(c.CommitRef), Role: c.Role, Grade: c.Grade, Score: c.Score,
			Evidence: wireEvidence(c.Evidence)})
	}
	return out
}

// WireCommit is the wire form of a commit view.
func WireCommit(c *trace.Commit) *Commit {
	r := c.Row
	v := &Commit{CommitRef: WireCommitRef(c.CommitRef), Committer: Address{Name: r.CommitterName, Email: r.CommitterEmail},
		AuthorDate: r.AuthorDate, Body: r.Body, PatchID: r.PatchID, Merge: r.Merge, Files: nonNil(r.Files), Trailers: []Trailer{},
		Links: make([]CommitLink, 0, len(c.Links)), Fixes: make([]CommitFix, 0, len(c.Fixes)), FixedBy: wireCommitRefs(c.FixedBy),
		Reverts: wireCommitRefPtr(c.Reverts), RevertedBy: wireCommitRefs(c.RevertedBy), Upstream: wireCommitRefPtr(c.Upstream),
		Backports: wireCommitRefs(c.Backports), CVEs: c.CVEs}
	for _, t := range r.Trailers {
		v.Trailers = append(v.Trailers, Trailer{Key: t.Key, Value: t.Value, Name: t.Name, Email: t.Email, SHA: t.SHA, MessageID: t.MessageID})
	}
	for _, l := range c.Links {
		v.Links = append(v.Links, CommitLink{MessageID: l.MessageID, Subject: l.Subject, From: addrOf(l.From), Date: l.Date,
			ThreadID: l.ThreadID, SeriesID: l.SeriesID, Version: l.Version, Role: l.Role, Grade: l.Grade, Score: l.Score,
			Evidence: wireEvidence(l.Evidence)})
	}
	for _, f := range c.Fixes {
		v.Fixes = append(v.Fixes, CommitFix{Target: f.Target, Title: f.Title, Commit: wireCommitRefPtr(f.Commit)})
	}
	return v
}

// WireSeries is the wire form of a series with the commits of its parts.
func WireSeries(s *trace.Series) *Series {
	v := &Series{SeriesID: s.ID, Version: s.Version, Subject: s.Subject, Author: s.Author, Total: s.Total, Complete: s.Complete,
		Missing: s.Missing, ChangeID: s.ChangeID, Parts: make([]SeriesPart, 0, len(s.Parts)), Files: s.Files}
	for i, p := range s.Parts {
		part := SeriesPart{Counter: p.Counter, MessageID: p.MessageID, Subject: p.Subject, From: addrOf(p.From), Date: p.Date,
			Cover: p.Cover, PatchIDs: p.PatchIDs, Files: p.Files, Trailers: make([]GivenTrailer, 0, len(p.Trailers))}
		for _, t := range p.Trailers {
			part.Trailers = append(part.Trailers, GivenTrailer(t))
		}
		if i < len(s.Commits) {
			part.Commits = wireMessageCommits(s.Commits[i])
		}
		part.CVEs = []CVERef{}
		if i < len(s.CVEs) {
			part.CVEs = wireCVERefs(s.CVEs[i])
		}
		v.Parts = append(v.Parts, part)
	}
	if s.Versions != nil {
		v.Versions = make([]SeriesVersion, 0, len(s.Versions))
		for _, sv := range s.Versions {
			v.Versions = append(v.Versions, SeriesVersion(sv))
		}
	}
	return v
}

func wireCVE(r *store.CVERow) *TraceCVE {
	c := &TraceCVE{ID: r.ID, Title: r.Title, Severity: r.Severity, CVSS: r.CVSS, Vector: r.Vector, Files: nonNil(r.Files),
		FixSHAs: nonNil(r.FixSHAs), IntroducedSHAs: nonNil(r.IntroducedSHAs), Description: r.Description}
	if !r.Published.IsZero() {
		p := r.Published
		c.Published = &p
	}
	return c
}

func wirePosting(p trace.Posting) TracePosting {
	w := TracePosting{MessageID: p.MessageID, Subject: p.Subject, From: addrOf(p.From), Date: p.Date, Version: p.Version,
		SeriesID: p.SeriesID, ThreadID: p.ThreadID, Found: p.Found, Grade: p.Grade, Score: p.Score}
	if p.Evidence != nil {
		w.Evidence = wireEvidence(p.Evidence)
	}
	return w
}

func wirePostingPtr(p *trace.Posting) *TracePosting {
	if p == nil {
		return nil
	}
	w := wirePosting(*p)
	return &w
}

// WireTrace is the wire form of a trace.
func WireTrace(t *trace.Trace) *Trace {
	v := &Trace{Query: t.Query, FixCommits: wireCommitRefs(t.FixCommits), Posting: wirePostingPtr(t.Posting),
		Earlier: make([]TracePosting, 0, len(t.Earlier)), People: make([]TracePerson, 0, len(t.People)),
		Reviews: make([]TraceReview, 0, len(t.Reviews)), Fixes: make([]TraceFixes, 0, len(t.Fixes)),
		Backports: make([]TraceBackport, 0, len(t.Backports)), Timeline: make([]TimelineEvent, 0, len(t.Timeline)),
		Notes: nonNil(t.Notes)}
	if t.CVE != nil {
		v.CVE = wireCVE(t.CVE)
	}
	if t.Thread != nil {
		v.Thread = threadOf(t.Thread)
	}
	if t.Series != nil {
		v.Series = WireSeries(t.Series)
	}
	for _, p := range t.Earlier {
		v.Earlier = append(v.Earlier, wirePosting(p))
	}
	for _, p := range t.People {
		v.People = append(v.People, TracePerson(p))
	}
	for _, r := range t.Reviews {
		v.Reviews = append(v.Reviews, TraceReview{MessageID: r.MessageID, Subject: r.Subject, From: addrOf(r.From), Date: r.Date,
			Version: r.Version, NextPosted: r.NextPosted})
	}
	for _, f := range t.Fixes {
		v.Fixes = append(v.Fixes, TraceFixes{Target: f.Target, Title: f.Title, Commit: WireCommitRef(f.Commit), Posting: wirePostingPtr(f.Posting)})
	}
	for _, b := range t.Backports {
		v.Backports = append(v.Backports, TraceBackport{Version: b.Version, SHA: b.SHA, Commit: wireCommitRefPtr(b.Commit),
			Posting: wirePostingPtr(b.Posting), Source: b.Source})
	}
	for _, e := range t.Timeline {
		v.Timeline = append(v.Timeline, TimelineEvent(e))
	}
	v.Branches = make([]CVEBranch, 0, len(t.Branches))
	for _, b := range t.Branches {
		v.Branches = append(v.Branches, CVEBranch(b))
	}
	v.Gap = t.Gap
	v.Discussion, v.BugReports = wireMentions(t.Discussion), wireMentions(t.BugReports)
	return v
}

func wireMentions(ms []trace.Mention) []TraceMention {
	out := make([]TraceMention, 0, len(ms))
	for _, m := range ms {
		out = append(out, TraceMention{MessageID: m.MessageID, Subject: m.Subject, From: addrOf(m.From), Date: m.Date, ThreadID: m.ThreadID,
			Messages: m.Messages, Target: m.Target, Found: m.Found})
	}
	return out
}

func wireCVERefs(rs []trace.CVERef) []CVERef {
	out := make([]CVERef, 0, len(rs))
	for _, r := range rs {
		out = append(out, CVERef{ID: r.ID, How: r.How, Trace: "/_/trace/" + r.ID})
	}
	return out
}

// WireBecame is the wire form of what a patch became (nil stays nil).
func WireBecame(b *trace.Became) *Became {
	if b == nil {
		return nil
	}
	return &Became{MessageID: b.MessageID, Subject: b.Subject, Commits: wireMessageCommits(b.Commits), CVEs: wireCVERefs(b.CVEs)}
}
