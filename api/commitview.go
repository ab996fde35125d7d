package api

import (
	"context"
	"errors"
	"time"

	"patchtrail/internal/store"
)

// The views of code repositories and commits with their links to
// messages (internal/link); the CLI prints them with --json.

// RepoInfo is a registered code repository.
type RepoInfo struct {
	Name     string            `json:"name"`
	Path     string            `json:"path"`
	Commits  int64             `json:"commits"`
	Heads    map[string]string `json:"heads"`
	LastLink *time.Time        `json:"last_link,omitempty"`
}

// LoadRepos lists the registered repositories.
func LoadRepos(ctx context.Context, st *store.Store) ([]RepoInfo, error) {
	rs, err := st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	out := []RepoInfo{}
	for _, r := range rs {
		ri := RepoInfo{Name: r.Name, Path: r.Path, Commits: r.Commits, Heads: r.Heads}
		if !r.LastLink.IsZero() {
			t := r.LastLink
			ri.LastLink = &t
		}
		out = append(out, ri)
	}
	return out, nil
}

// Evidence is one reason for a link.
type Evidence struct {
	Kind   string  `json:"kind"` // link-trailer, patch-id, subject, author, files, diff, date, version, stable
	Detail string  `json:"detail"`
	Weight float64 `json:"weight"`
}

func wireEvidence(ev []store.Evidence) []Evidence {
	out := make([]Evidence, 0, len(ev))
	for _, e := range ev {
		out = append(out, Evidence{Kind: e.Kind, Detail: e.Detail, Weight: e.Weight})
	}
	return out
}

// CommitLink is a message linked to a commit.
type CommitLink struct {
	MessageID string     `json:"message_id"`
	Subject   string     `json:"subject"`
	From      Address    `json:"from"`
	Date      time.Time  `json:"date"`
	ThreadID  int64      `json:"thread_id"`
	SeriesID  int64      `json:"series_id,omitempty"`
	Version   int        `json:"version,omitempty"`
	Role      string     `json:"role"`  // "applied": made into the commit; "earlier": an earlier version of it
	Grade     string     `json:"grade"` // "exact" (Link: trailer), "strong" (patch-id), "fuzzy" (scored)
	Score     float64    `json:"score"`
	Evidence  []Evidence `json:"evidence"`
}

// CommitRef names a commit; Known is false for a commit that is in no
// registered repository (only its id is known).
type CommitRef struct {
	SHA        string     `json:"sha"`
	Known      bool       `json:"known"`
	Subject    string     `json:"subject,omitempty"`
	Author     *Address   `json:"author,omitempty"`
	CommitDate *time.Time `json:"commit_date,omitempty"`
	Repos      []string   `json:"repos,omitempty"`
}

func commitRef(c *store.CommitRow) CommitRef {
	d := c.CommitDate
	return CommitRef{SHA: c.SHA, Known: true, Subject: c.Subject, Author: &Address{Name: c.AuthorName, Email: c.AuthorEmail},
		CommitDate: &d, Repos: c.Repos}
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

// CommitFix is a Fixes: trailer of a commit.
type CommitFix struct {
	Target string     `json:"target"` // as written
	Title  string     `json:"title"`
	Commit *CommitRef `json:"commit,omitempty"` // when the repository knows it
}

// Commit is the view of one commit: its links to messages (best first,
// earlier versions after the applied postings) and its relations.
type Commit struct {
	CommitRef
	Committer  Address           `json:"committer"`
	AuthorDate time.Time         `json:"author_date"`
	Body       string            `json:"body"`
	PatchID    string            `json:"patch_id,omitempty"`
	Merge      bool              `json:"merge,omitempty"`
	Files      []string          `json:"files"`
	Trailers   []Trailer         `json:"trailers"`
	Links      []CommitLink      `json:"links"`
	Fixes      []CommitFix       `json:"fixes"`
	FixedBy    []CommitRef       `json:"fixed_by"`
	Reverts    *CommitRef        `json:"reverts,omitempty"`
	RevertedBy []CommitRef       `json:"reverted_by"`
	Upstream   *CommitRef        `json:"backport_of,omitempty"`
	Backports  []CommitRef       `json:"backports"`
	CVEs       map[string]string `json:"cves"` // CVE id → "fix", "introduced" or "backport"
}

// LoadCommit assembles the view of the commit with this (possibly
// abbreviated) id.
func LoadCommit(ctx context.Context, st *store.Store, sha string) (*Commit, error) {
	c, err := st.Commit(ctx, sha)
	if err != nil {
		return nil, err
	}
	v := &Commit{CommitRef: commitRef(c), Committer: Address{Name: c.CommitterName, Email: c.CommitterEmail}, AuthorDate: c.AuthorDate,
		Body: c.Body, PatchID: c.PatchID, Merge: c.Merge, Files: nonNil(c.Files), Trailers: []Trailer{}, Links: []CommitLink{},
		Fixes: []CommitFix{}, FixedBy: []CommitRef{}, RevertedBy: []CommitRef{}, Backports: []CommitRef{}}
	for _, t := range c.Trailers {
		v.Trailers = append(v.Trailers, Trailer{Key: t.Key, Value: t.Value, Name: t.Name, Email: t.Email, SHA: t.SHA, MessageID: t.MessageID})
	}
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
		cl := CommitLink{MessageID: m.MessageID, Subject: m.Subject, From: Address{Name: m.FromName, Email: m.FromEmail}, Date: m.Date,
			ThreadID: m.Thread, Role: l.Role, Grade: l.Grade, Score: l.Score, Evidence: wireEvidence(l.Evidence)}
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
	Role     string     `json:"role"`
	Grade    string     `json:"grade"`
	Score    float64    `json:"score"`
	Evidence []Evidence `json:"evidence"`
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
		out = append(out, MessageCommit{CommitRef: ref, Role: l.Role, Grade: l.Grade, Score: l.Score, Evidence: wireEvidence(l.Evidence)})
	}
	return out, nil
}
