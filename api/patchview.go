package api

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"patchtrail/indexer"
	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// PatchFile is one file of a patch on the wire.
type PatchFile struct {
	OldPath string `json:"old_path,omitempty"`
	NewPath string `json:"new_path,omitempty"`
	New     bool   `json:"new,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
	Renamed bool   `json:"renamed,omitempty"`
	Copied  bool   `json:"copied,omitempty"`
	Binary  bool   `json:"binary,omitempty"`
	OldMode string `json:"old_mode,omitempty"`
	NewMode string `json:"new_mode,omitempty"`
	OldBlob string `json:"old_blob,omitempty"`
	NewBlob string `json:"new_blob,omitempty"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Hunks   []Hunk `json:"hunks"`
}

// Hunk is one hunk of a file's diff.
type Hunk struct {
	Header   string `json:"header"`
	OldStart int    `json:"old_start"`
	OldLines int    `json:"old_lines"`
	NewStart int    `json:"new_start"`
	NewLines int    `json:"new_lines"`
	Added    int    `json:"added"`
	Removed  int    `json:"removed"`
	Context  int    `json:"context"`
}

// Patch is one patch found in a message.
type Patch struct {
	PatchID  string      `json:"patch_id"`
	Files    []PatchFile `json:"files"`
	Hunks    int         `json:"hunks"`
	Added    int         `json:"added"`
	Removed  int         `json:"removed"`
	Diffstat string      `json:"diffstat"`
}

// SubjectTags is what the subject's tags say (REFERENCE §3).
type SubjectTags struct {
	Reply      bool     `json:"reply"`
	Forward    bool     `json:"forward"`
	ListTags   []string `json:"list_tags"`
	Prefixes   []string `json:"prefixes"`
	Subsystems []string `json:"subsystems"`
	Version    int      `json:"version"`
	Counter    int      `json:"counter"`
	Total      int      `json:"total"`
	IsPatch    bool     `json:"is_patch"`
	IsCover    bool     `json:"is_cover"`
	Normalized string   `json:"normalized"`
}

func wireSubject(s patch.Subject) SubjectTags {
	return SubjectTags{Reply: s.Reply, Forward: s.Forward, ListTags: nonNil(s.ListTags), Prefixes: nonNil(s.Prefixes),
		Subsystems: nonNil(s.Subsystems), Version: s.Version, Counter: s.Counter, Total: s.Total,
		IsPatch: s.IsPatch, IsCover: s.IsCover, Normalized: s.Normalized}
}

// Trailer is a trailer on the wire.
type Trailer struct {
	Key       string `json:"key"`
	Value     string `json:"value"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	SHA       string `json:"sha,omitempty"`
	Title     string `json:"title,omitempty"`
	URL       string `json:"url,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// MessageDetail is a message with what patchtrail understood of it.
type MessageDetail struct {
	Message
	SubjectTags   SubjectTags `json:"subject_tags"`
	Patch         *Patch      `json:"patch"`
	Patches       []Patch     `json:"patches"`
	Trailers      []Trailer   `json:"trailers"`
	ReplyTrailers []Trailer   `json:"reply_trailers"`
	SeriesID      int64       `json:"series_id,omitempty"`
	// Commits are the commits this message became (or an earlier
	// version of), best link first.
	Commits []MessageCommit `json:"commits"`
}

func wirePatch(p patch.Patch) Patch {
	w := Patch{PatchID: p.PatchID, Added: p.Added, Removed: p.Removed, Diffstat: p.Diffstat, Files: []PatchFile{}}
	for _, f := range p.Files {
		pf := PatchFile{OldPath: f.OldPath, NewPath: f.NewPath, New: f.IsNew, Deleted: f.IsDelete,
			Renamed: f.IsRename, Copied: f.IsCopy, Binary: f.IsBinary, OldBlob: f.OldOID, NewBlob: f.NewOID,
			Added: f.Added, Removed: f.Removed, Hunks: []Hunk{}}
		if f.OldMode != 0 {
			pf.OldMode = fmt.Sprintf("%o", f.OldMode)
		}
		if f.NewMode != 0 {
			pf.NewMode = fmt.Sprintf("%o", f.NewMode)
		}
		for _, h := range f.Hunks {
			pf.Hunks = append(pf.Hunks, Hunk{Header: h.Header, OldStart: h.OldStart, OldLines: h.OldLines,
				NewStart: h.NewStart, NewLines: h.NewLines, Added: len(h.Added), Removed: len(h.Removed), Context: len(h.Context)})
		}
		w.Hunks += len(f.Hunks)
		w.Files = append(w.Files, pf)
	}
	return w
}

func wireTrailers(ts []patch.Trailer) []Trailer {
	out := make([]Trailer, 0, len(ts))
	for _, t := range ts {
		out = append(out, Trailer{Key: t.Key, Value: t.Value, Name: t.Name, Email: t.Email, SHA: t.SHA,
			Title: t.Title, URL: t.URL, MessageID: t.MessageID, Comment: t.Comment})
	}
	return out
}

// LoadMessageDetail assembles the view of a message with its patches.
func LoadMessageDetail(ctx context.Context, st *store.Store, mid string) (*MessageDetail, error) {
	v, pm, err := LoadMessage(ctx, st, mid)
	if err != nil {
		return nil, err
	}
	return detail(ctx, st, v, pm)
}

func detail(ctx context.Context, st *store.Store, v *Message, pm *message.Message) (*MessageDetail, error) {
	a := indexer.AnalyzeMessage(pm)
	d := &MessageDetail{Message: *v, SubjectTags: wireSubject(a.Subject), Patches: []Patch{},
		Trailers: wireTrailers(a.Trailers), ReplyTrailers: wireTrailers(a.ReplyTrailers)}
	for _, p := range a.Patches {
		d.Patches = append(d.Patches, wirePatch(p))
	}
	if len(d.Patches) > 0 {
		d.Patch = &d.Patches[0]
	}
	id, err := st.Resolve(ctx, v.MessageID)
	if err != nil {
		return nil, err
	}
	if pr, err := st.Patch(ctx, id); err == nil {
		d.SeriesID = pr.Series
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if d.Commits, err = LoadMessageCommits(ctx, st, v.MessageID); err != nil {
		return nil, err
	}
	return d, nil
}

// GivenTrailer is a trailer with who gave it, where.
type GivenTrailer struct {
	Key       string `json:"key"`
	Value     string `json:"value"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	MessageID string `json:"given_in"`
	Kind      string `json:"kind"` // "patch": in the patch itself; "reply": a follow-up; "cover": on the cover letter
}

// SeriesPart is one patch (or the cover letter) of a series.
type SeriesPart struct {
	Counter   int            `json:"counter"`
	MessageID string         `json:"message_id"`
	Subject   string         `json:"subject"`
	From      Address        `json:"from"`
	Date      time.Time      `json:"date"`
	Cover     bool           `json:"cover,omitempty"`
	PatchIDs  []string       `json:"patch_ids"`
	Files     []string       `json:"files"`
	Trailers  []GivenTrailer `json:"trailers"`
	// Commits are the commits this part became, best link first.
	Commits []MessageCommit `json:"commits"`
}

// SeriesVersion summarises one version of a series in its chain.
type SeriesVersion struct {
	SeriesID  int64     `json:"series_id"`
	Version   int       `json:"version"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id"` // cover letter, or first patch
	Date      time.Time `json:"date"`
	Parts     int       `json:"parts"`
	Total     int       `json:"total"`
	Complete  bool      `json:"complete"`
	Files     []string  `json:"files"`
	// Changes from the previous version.
	FilesAdded     []string `json:"files_added,omitempty"`
	FilesRemoved   []string `json:"files_removed,omitempty"`
	PatchesSame    int      `json:"patches_same"`    // patch-ids found in the previous version
	PatchesChanged int      `json:"patches_changed"` // patch-ids not in it
}

// Series is a posted series with all its versions.
type Series struct {
	SeriesID int64           `json:"series_id"`
	Version  int             `json:"version"`
	Subject  string          `json:"subject"`
	Author   string          `json:"author"`
	Total    int             `json:"total"`
	Complete bool            `json:"complete"`
	Missing  []int           `json:"missing"`
	ChangeID string          `json:"change_id,omitempty"`
	Parts    []SeriesPart    `json:"parts"`
	Files    []string        `json:"files"`
	Versions []SeriesVersion `json:"versions"`
}

// ErrNoSeries is returned for a message that belongs to no series.
var ErrNoSeries = errors.New("api: message is not part of a patch series")

// LoadSeries assembles the series of any message of it (a reply to a
// patch finds the patch's series).
func LoadSeries(ctx context.Context, st *store.Store, mid string) (*Series, error) {
	m, err := st.MessageByID(ctx, mid)
	if err != nil {
		return nil, err
	}
	pr, err := st.Patch(ctx, m.ID)
	for hops := 0; errors.Is(err, store.ErrNotFound) && m.Parent != "" && hops < 50; hops++ {
		if m, err = st.MessageByID(ctx, m.Parent); err != nil {
			break
		}
		pr, err = st.Patch(ctx, m.ID)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: <%s>", ErrNoSeries, mid)
		}
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
	v := &Series{SeriesID: s.ID, Version: s.Version, Author: s.Author, Total: s.Total, ChangeID: s.ChangeID,
		Parts: []SeriesPart{}, Files: []string{}, Missing: []int{}}
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
		part := SeriesPart{Counter: p.Counter, MessageID: pm.MessageID, Subject: pm.Subject,
			From: Address{Name: pm.FromName, Email: pm.FromEmail}, Date: pm.Date, Cover: p.Cover,
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
		if part.Commits, err = LoadMessageCommits(ctx, st, pm.MessageID); err != nil {
			return nil, err
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
	chain, err := st.Chain(ctx, s.Chain)
	if err != nil {
		return nil, err
	}
	var prev *SeriesVersion
	var prevIDs map[string]bool
	for _, cs := range chain {
		cparts, err := st.SeriesParts(ctx, cs.ID)
		if err != nil {
			return nil, err
		}
		sv := SeriesVersion{SeriesID: cs.ID, Version: cs.Version, Date: cs.FirstDate, Total: cs.Total}
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
			old := map[string]bool{}
			for _, f := range prev.Files {
				old[f] = true
			}
			for _, f := range sv.Files {
				if !old[f] {
					sv.FilesAdded = append(sv.FilesAdded, f)
				}
				delete(old, f)
			}
			sv.FilesRemoved = sortedKeys(old)
			for id := range ids {
				if prevIDs[id] {
					sv.PatchesSame++
				} else {
					sv.PatchesChanged++
				}
			}
		}
		v.Versions = append(v.Versions, sv)
		prev, prevIDs = &v.Versions[len(v.Versions)-1], ids
	}
	return v, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
