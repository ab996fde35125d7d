package link

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"patchtrail/internal/store"
)

// ErrTrailersLinked is returned by Evaluate when the repository was
// linked with its Link: trailers, which would grade the linker against
// itself.
var ErrTrailersLinked = errors.New("link: commits were linked with their Link: trailers; link again with IgnoreLinkTrailers and Full first")

// Accuracy measures links made without Link: trailers against them.
// The truth is every commit, dated inside the archive window, whose
// Link: or Message-ID: trailer names a stored patch mail (not a cover
// letter, see truth); its best link is its first applied link.
type Accuracy struct {
	Repo        string         `json:"repo"`
	WindowStart time.Time      `json:"window_start"` // first and last message dates
	WindowEnd   time.Time      `json:"window_end"`
	Commits     int            `json:"commits"`  // non-merge commits inside the window
	Truth       int            `json:"truth"`    // of those, commits whose trailer names a stored patch mail
	Linked      int            `json:"linked"`   // truth commits with a best link
	Correct     int            `json:"correct"`  // best link = the trailer's message
	PatchIDHits int            `json:"patch_id"` // truth commits whose message carries the commit's patch-id
	Grades      map[string]int `json:"correct_by_grade"`
	// Other commits inside the window that got a best link (not scorable).
	LinkedWithoutTruth int     `json:"linked_without_truth"`
	Precision          float64 `json:"precision"`
	Recall             float64 `json:"recall"`
	PatchIDRecall      float64 `json:"patch_id_recall"`
	Misses             []Miss  `json:"misses,omitempty"`
}

// Miss is a truth commit whose best link is wrong or missing.
type Miss struct {
	SHA     string  `json:"sha"`
	Subject string  `json:"subject"`
	Want    string  `json:"want"`          // Message-ID named by the trailer
	Got     string  `json:"got,omitempty"` // Message-ID of the best link
	Grade   string  `json:"grade,omitempty"`
	Score   float64 `json:"score,omitempty"`
}

// Evaluate scores the links of the repository called repo.
func Evaluate(ctx context.Context, st *store.Store, repo string) (*Accuracy, error) {
	repos, err := st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	var r *store.RepoRow
	for _, x := range repos {
		if x.Name == repo {
			r = x
		}
	}
	if r == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRepo, repo)
	}
	first, last, err := st.MessageDates(ctx)
	if err != nil {
		return nil, err
	}
	acc := &Accuracy{Repo: repo, WindowStart: first, WindowEnd: last, Grades: map[string]int{}}
	commits, err := st.RepoCommits(ctx, r.ID, false)
	if err != nil {
		return nil, err
	}
	for _, c := range commits {
		if c.Merge || c.CommitDate.Before(first) || c.CommitDate.After(last) {
			continue
		}
		acc.Commits++
		links, err := st.CommitLinks(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		var best *store.LinkRow
		for i := range links {
			if links[i].Grade == store.GradeExact {
				return nil, ErrTrailersLinked
			}
			if best == nil && links[i].Role == store.RoleApplied {
				best = &links[i]
			}
		}
		want, wantMID, err := truth(ctx, st, c)
		if err != nil {
			return nil, err
		}
		if want == 0 {
			if best != nil {
				acc.LinkedWithoutTruth++
			}
			continue
		}
		acc.Truth++
		if c.PatchID != "" {
			ps, err := st.CandidatesByPatchID(ctx, c.PatchID, maxByPatchID)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if p.Message == want {
					acc.PatchIDHits++
					break
				}
			}
		}
		miss := Miss{SHA: c.SHA, Subject: c.Subject, Want: wantMID}
		if best != nil {
			acc.Linked++
			if best.Message == want {
				acc.Correct++
				acc.Grades[best.Grade]++
				continue
			}
			miss.Got, miss.Grade, miss.Score = best.MessageID, best.Grade, best.Score
		}
		acc.Misses = append(acc.Misses, miss)
	}
	if acc.Linked > 0 {
		acc.Precision = float64(acc.Correct) / float64(acc.Linked)
	}
	if acc.Truth > 0 {
		acc.Recall = float64(acc.Correct) / float64(acc.Truth)
		acc.PatchIDRecall = float64(acc.PatchIDHits) / float64(acc.Truth)
	}
	return acc, nil
}

// truth returns the patch mail a commit's Link: or Message-ID: trailer
// names (0 when none is stored). With several, the last one counts: b4
// and maintainers append the Link: of the applied posting last, after
// hand-written links to earlier versions or discussions.
func truth(ctx context.Context, st *store.Store, c *store.CommitRow) (int64, string, error) {
	for i := len(c.Trailers) - 1; i >= 0; i-- {
		t := c.Trailers[i]
		if t.MessageID == "" || !(strings.EqualFold(t.Key, "link") || strings.EqualFold(t.Key, "message-id")) {
			continue
		}
		id, err := st.Resolve(ctx, t.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, "", err
		}
		p, err := st.PatchOf(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			p, err = st.ReplyPatchOf(ctx, id) // a diff posted in a reply
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, "", err
		}
		if !p.Cover {
			return id, t.MessageID, nil
		}
	}
	return 0, "", nil
}
