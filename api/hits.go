package api

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"patchtrail/internal/store"
	"patchtrail/search"
)

// Hit is one search result on the wire: a message, or (for queries with
// is:commit or is:offlist) a commit of a registered repository.
type Hit struct {
	Kind      string    `json:"kind"`                 // "message" or "commit"
	MessageID string    `json:"message_id,omitempty"` // of a message
	Subject   string    `json:"subject"`
	From      string    `json:"from"` // a commit's author
	Date      time.Time `json:"date"` // a commit's author date
	List      string    `json:"list,omitempty"`
	ThreadID  string    `json:"thread_id,omitempty"`
	Score     float64   `json:"score"`
	URL       string    `json:"url"` // the message's or the commit's page

	// Commits are the commits a message hit is linked to: the ones it
	// became (role "applied") first, best first, then those it is an
	// earlier version of. Filled by LinkHits.
	Commits []HitCommit `json:"commits,omitempty"`

	// SHA and Repo (the first of Repos) name a commit hit; Postings are
	// the messages it is linked to, the posting it was applied from
	// first (best first). Postings are filled by LinkHits.
	SHA      string       `json:"sha,omitempty"`
	Repo     string       `json:"repo,omitempty"`
	Repos    []string     `json:"repos,omitempty"`
	Postings []HitPosting `json:"postings,omitempty"`
}

// HitCommit is a commit a message hit is linked to.
type HitCommit struct {
	SHA   string  `json:"sha"`
	Repo  string  `json:"repo"`
	Grade string  `json:"grade"`
	Role  string  `json:"role"`
	Score float64 `json:"score"`
}

// HitPosting is a message a commit hit is linked to.
type HitPosting struct {
	MessageID string    `json:"message_id"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`
	Grade     string    `json:"grade"`
	Role      string    `json:"role"`
	Score     float64   `json:"score"`
}

// Hits converts search hits to wire hits (without their links: see
// LinkHits).
func Hits(hs []search.Hit) []Hit {
	out := make([]Hit, 0, len(hs))
	for _, h := range hs {
		w := Hit{Kind: h.Kind, Subject: h.Subject, From: h.From, Date: h.Date, Score: h.Score}
		if w.Kind == search.KindCommit {
			w.SHA, w.Repos = h.SHA, h.Repos
			if len(h.Repos) > 0 {
				w.Repo = h.Repos[0]
			}
			w.URL = "/_/commit/" + url.PathEscape(h.SHA)
		} else {
			w.Kind = search.KindMessage
			w.MessageID, w.List, w.ThreadID = h.MessageID, h.List, h.ThreadID
			w.URL = messageURL(h.List, h.MessageID)
		}
		out = append(out, w)
	}
	return out
}

// LinkHits fills the links of wire hits from the store: the commits of
// message hits, the postings of commit hits; one query for all message
// hits and one for all commit hits.
func LinkHits(ctx context.Context, st *store.Store, hs []Hit) error {
	var mids, shas []string
	for i := range hs {
		if hs[i].Kind == search.KindCommit {
			shas = append(shas, hs[i].SHA)
		} else {
			mids = append(mids, hs[i].MessageID)
		}
	}
	byMID, err := st.MessagesCommits(ctx, mids)
	if err != nil {
		return err
	}
	bySHA, err := st.CommitsPostings(ctx, shas)
	if err != nil {
		return err
	}
	for i := range hs {
		h := &hs[i]
		if h.Kind == search.KindCommit {
			// A commit indexed but since removed has no postings.
			for _, p := range bySHA[strings.ToLower(h.SHA)] {
				h.Postings = append(h.Postings, HitPosting{MessageID: p.MessageID, Subject: p.Subject, Date: p.Date,
					Grade: p.Grade, Role: p.Role, Score: p.Score})
			}
			continue
		}
		for _, mc := range byMID[h.MessageID] {
			hc := HitCommit{SHA: mc.SHA, Grade: mc.Grade, Role: mc.Role, Score: mc.Score}
			if len(mc.Repos) > 0 {
				hc.Repo = mc.Repos[0]
			}
			h.Commits = append(h.Commits, hc)
		}
	}
	return nil
}

// Seconds is a duration written as seconds in JSON.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(s).Seconds())
}

// UnmarshalJSON reads a duration in seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}
