// Package series owns patch series: the grouping of patch mails into
// series and version chains as they are imported (group.go), and the
// reading of a series with its parts, trailers and versions, with what
// changed from one version to the next.
package series

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/store"
)

// ErrNoSeries is returned for a message that belongs to no series.
var ErrNoSeries = errors.New("message is not part of a patch series")

// GivenTrailer is a trailer with who gave it, where.
type GivenTrailer struct {
	Key       string
	Value     string
	Name      string
	Email     string
	MessageID string // the message it was given in
	Kind      string // "patch": in the patch itself; "reply": a follow-up; "cover": on the cover letter
}

// Part is one patch (or the cover letter) of a series.
type Part struct {
	Counter   int
	MessageID string
	Subject   string
	From      message.Address
	Date      time.Time
	Cover     bool
	PatchIDs  []string
	Files     []string
	Trailers  []GivenTrailer
}

// Version summarises one version of a series in its chain.
type Version struct {
	SeriesID  int64
	Version   int
	Subject   string
	MessageID string // cover letter, or first patch
	Date      time.Time
	Parts     int
	Total     int
	Complete  bool
	Files     []string
	// Changes from the previous version.
	FilesAdded     []string
	FilesRemoved   []string
	PatchesSame    int // patch-ids found in the previous version
	PatchesChanged int // patch-ids not in it
}

// Series is a posted series with all its versions.
type Series struct {
	ID       int64
	Version  int
	Subject  string
	Author   string
	Total    int
	Complete bool
	Missing  []int
	ChangeID string
	Parts    []Part
	Files    []string
	Versions []Version
}

// maxHops bounds the walk up a reply chain to the nearest patch.
const maxHops = 50

// NearestPatch returns the row id of message id if it is a patch mail or
// cover letter, else of the nearest message it replies to that is; a
// message with no patch above it gives ErrNoSeries.
func NearestPatch(ctx context.Context, st *store.Store, id int64) (int64, error) {
	for hops := 0; hops < maxHops; hops++ {
		_, err := st.Patch(ctx, id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
		m, err := st.MessageRow(ctx, id)
		if err != nil {
			return 0, err
		}
		if m.Parent == "" {
			break
		}
		id, err = st.Resolve(ctx, m.Parent)
		if errors.Is(err, store.ErrNotFound) {
			break // a ghost: the chain of known messages ends here
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, ErrNoSeries
}

// Load reads the series of any message of it (a reply to a patch finds
// the patch's series).
func Load(ctx context.Context, st *store.Store, mid string) (*Series, error) {
	id, err := st.Resolve(ctx, mid)
	if err != nil {
		return nil, err
	}
	pid, err := NearestPatch(ctx, st, id)
	if err != nil {
		if errors.Is(err, ErrNoSeries) {
			return nil, fmt.Errorf("%w: <%s>", ErrNoSeries, mid)
		}
		return nil, err
	}
	pr, err := st.Patch(ctx, pid)
	if err != nil {
		return nil, err
	}
	s, err := st.Series(ctx, pr.Series)
	if err != nil {
		return nil, err
	}
	parts, err := st.SeriesParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	v := &Series{ID: s.ID, Version: s.Version, Author: s.Author, Total: s.Total, ChangeID: s.ChangeID,
		Parts: []Part{}, Files: []string{}, Missing: []int{}}
	coverMID := ""
	targets := []string{}
	msgs := map[int64]*store.Message{}
	for _, p := range parts {
		pm, err := st.Message(ctx, p.Message)
		if err != nil {
			return nil, err
		}
		msgs[p.Message] = pm
		targets = append(targets, pm.IDs...)
		if p.Cover {
			coverMID = pm.MessageID
		}
	}
	trs, err := st.Trailers(ctx, targets)
	if err != nil {
		return nil, err
	}
	givenIn := map[int64]string{}
	for _, t := range trs {
		if _, ok := givenIn[t.Message]; !ok {
			gm, err := st.Message(ctx, t.Message)
			if err != nil {
				return nil, err
			}
			givenIn[t.Message] = gm.MessageID
		}
	}
	has := map[int]bool{}
	files := map[string]bool{}
	for _, p := range parts {
		pm := msgs[p.Message]
		part := Part{Counter: p.Counter, MessageID: pm.MessageID, Subject: pm.Subject,
			From: message.Address{Name: pm.FromName, Email: pm.FromEmail}, Date: pm.Date, Cover: p.Cover,
			PatchIDs: nonNil(p.PatchIDs), Files: nonNil(p.Files), Trailers: []GivenTrailer{}}
		own := map[string]bool{}
		for _, id := range pm.IDs {
			own[id] = true
		}
		for _, t := range trs {
			kind := t.Kind
			switch {
			case own[t.Target]:
			case t.Target == coverMID && !p.Cover && t.Kind == "reply":
				kind = "cover"
			default:
				continue
			}
			part.Trailers = append(part.Trailers, GivenTrailer{Key: t.Key, Value: t.Value, Name: t.Name,
				Email: t.Email, MessageID: givenIn[t.Message], Kind: kind})
		}
		if p.Cover || v.Subject == "" {
			v.Subject = pm.Subject
		}
		has[p.Counter] = true
		for _, f := range p.Files {
			files[f] = true
		}
		v.Parts = append(v.Parts, part)
	}
	for i := 1; i <= s.Total; i++ {
		if !has[i] {
			v.Missing = append(v.Missing, i)
		}
	}
	v.Complete = len(v.Missing) == 0
	v.Files = sortedKeys(files)
	if v.Versions, err = versions(ctx, st, s.Chain); err != nil {
		return nil, err
	}
	return v, nil
}

// versions summarises every series of a version chain, oldest first,
// each with what changed from the one before it.
func versions(ctx context.Context, st *store.Store, chainID int64) ([]Version, error) {
	chain, err := st.Chain(ctx, chainID)
	if err != nil {
		return nil, err
	}
	var out []Version
	var prev *Version
	var prevIDs map[string]bool
	for _, cs := range chain {
		cparts, err := st.SeriesParts(ctx, cs.ID)
		if err != nil {
			return nil, err
		}
		sv := Version{SeriesID: cs.ID, Version: cs.Version, Date: cs.FirstDate, Total: cs.Total}
		fs := map[string]bool{}
		ids := map[string]bool{}
		n := 0
		for _, p := range cparts {
			if !p.Cover {
				n++
			}
			if sv.MessageID == "" || p.Cover {
				pm, err := st.Message(ctx, p.Message)
				if err != nil {
					return nil, err
				}
				sv.MessageID, sv.Subject = pm.MessageID, pm.Subject
			}
			for _, f := range p.Files {
				fs[f] = true
			}
			for _, id := range p.PatchIDs {
				ids[id] = true
			}
		}
		sv.Parts = n
		sv.Complete = n >= cs.Total
		sv.Files = sortedKeys(fs)
		if prev != nil {
			diff(&sv, prev, ids, prevIDs)
		}
		out = append(out, sv)
		prev, prevIDs = &out[len(out)-1], ids
	}
	return out, nil
}

// diff fills the changes of version v (patch-ids ids) from the previous
// version prev (patch-ids prevIDs).
func diff(v, prev *Version, ids, prevIDs map[string]bool) {
	old := map[string]bool{}
	for _, f := range prev.Files {
		old[f] = true
	}
	for _, f := range v.Files {
		if !old[f] {
			v.FilesAdded = append(v.FilesAdded, f)
		}
		delete(old, f)
	}
	v.FilesRemoved = sortedKeys(old)
	for id := range ids {
		if prevIDs[id] {
			v.PatchesSame++
		} else {
			v.PatchesChanged++
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
