package trace

import (
	"context"
	"errors"
	"sort"

	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

// CVERef is a CVE a patch fixes, and how that is known.
type CVERef struct {
	ID string
	// How: "commit" (a commit the patch became is the CVE's fix, or a
	// stable backport of it), "title" (the CVE's title is the patch's
	// subject: a posting of the fix, possibly an earlier version or a
	// stable backport posting).
	How string
}

// Became is what a patch mail became: the commits linked to it and the
// CVEs it fixes.
type Became struct {
	MessageID string
	Subject   string
	Commits   []MessageCommit
	CVEs      []CVERef
}

// LoadBecame returns what the message named by mid became, or nil when
// it is no patch (a reply, a cover letter).
func LoadBecame(ctx context.Context, st *store.Store, mid string) (*Became, error) {
	id, err := st.Resolve(ctx, mid)
	if err != nil {
		return nil, err
	}
	p, err := st.PatchOf(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.Cover {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b := &Became{MessageID: p.MessageID, Subject: p.Subject}
	if b.Commits, err = LoadMessageCommits(ctx, st, p.MessageID); err != nil {
		return nil, err
	}
	if b.CVEs, err = CVEsOfPatch(ctx, st, p.Subject, b.Commits); err != nil {
		return nil, err
	}
	return b, nil
}

// CVEsOfPatch returns the CVEs a patch with this subject fixes, given
// the commits it became (applied links only), in CVE id order.
func CVEsOfPatch(ctx context.Context, st *store.Store, subject string, commits []MessageCommit) ([]CVERef, error) {
	how := map[string]string{}
	for _, c := range commits {
		if c.Role != store.RoleApplied {
			continue
		}
		ids, err := st.CVEsOfCommit(ctx, c.SHA)
		if err != nil {
			return nil, err
		}
		for id, kind := range ids {
			if kind == "fix" || kind == "backport" {
				how[id] = "commit"
			}
		}
	}
	if key := link.SubjectKey(subject); key != "" {
		ids, err := st.CVEsByTitle(ctx, key)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if how[id] == "" {
				how[id] = "title"
			}
		}
	}
	out := make([]CVERef, 0, len(how))
	for id, h := range how {
		out = append(out, CVERef{ID: id, How: h})
	}
	sort.Slice(out, func(i, j int) bool { return cveLess(out[i].ID, out[j].ID) })
	return out, nil
}
