package api

import (
	"context"
	"errors"
	"fmt"

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
	a := patch.Analyze(pm)
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
