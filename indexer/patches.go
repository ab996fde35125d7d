package indexer

import (
	"context"
	"strings"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/series"
	"patchtrail/internal/store"
)

// PatchHook analyses patch mails during import: patch-ids, files and
// trailers of every patch, follow-up trailers in replies, and the series
// and version chains they form (REFERENCE §3; grouping as Patchwork does).
type PatchHook struct{}

// Analysis is what the parse workers find out about a message's patches.
type Analysis struct {
	Subject       patch.Subject
	Patches       []patch.Patch
	Trailers      []patch.Trailer // of the commit message (patch mails, covers)
	ReplyTrailers []patch.Trailer // given in a reply
	ChangeID      string
	IsPatchMail   bool // a cover letter or a mail carrying a patch
}

// AnalyzeMessage finds the patches and trailers of a parsed message.
func AnalyzeMessage(m *message.Message) *Analysis {
	a := &Analysis{Subject: patch.ParseSubject(m.Subject)}
	if a.Subject.Forward {
		return a
	}
	if !a.Subject.Reply {
		ps, _ := patch.ParsePatches(m.Text)
		for _, att := range m.Attachments {
			if len(att.Data) > 0 {
				more, _ := patch.ParsePatches(string(att.Data))
				ps = append(ps, more...)
			}
		}
		a.Patches = ps
		a.IsPatchMail = len(ps) > 0 || (a.Subject.IsPatch && a.Subject.IsCover)
		if a.IsPatchMail || a.Subject.IsPatch {
			a.Trailers = patch.ParseBodyTrailers(m.Text)
			for _, t := range a.Trailers {
				if t.Is("change-id") {
					a.ChangeID = strings.TrimSpace(t.Value)
				}
			}
			if a.ChangeID == "" {
				a.ChangeID = findChangeID(m.NonQuoted)
			}
		}
	}
	if !a.IsPatchMail && len(m.References) > 0 {
		a.ReplyTrailers = patch.FindReplyTrailers(m.NonQuoted)
	}
	return a
}

// findChangeID finds b4's "change-id:" line anywhere in a cover letter
// (b4 puts it after the "---" below the message, others among the text).
func findChangeID(text string) string {
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if len(line) > 10 && strings.EqualFold(line[:10], "change-id:") {
			return strings.TrimSpace(line[10:])
		}
	}
	return ""
}

// Files lists the paths the analysis' patches touch, without repeats.
func (a *Analysis) Files() []string { return patch.FilePaths(a.Patches) }

// PatchIDs lists the patch-ids of the analysis' patches.
func (a *Analysis) PatchIDs() []string {
	var out []string
	for _, p := range a.Patches {
		if p.PatchID != "" {
			out = append(out, p.PatchID)
		}
	}
	return out
}

// Prepare runs in the parse workers.
func (PatchHook) Prepare(p *Parsed) (any, error) { return AnalyzeMessage(p.Msg), nil }

// Begin starts the hook's part of a store transaction.
func (h PatchHook) Begin(tx *store.Tx) (HookBatch, error) {
	return &patchBatch{tx: tx}, nil
}

type patchBatch struct {
	tx *store.Tx
}

func (b *patchBatch) Deleted(int64) error             { return nil }
func (b *patchBatch) Commit() error                   { return nil }
func (b *patchBatch) Committed(context.Context) error { return nil }

func (b *patchBatch) Stored(added *store.Added, p *Parsed) error {
	if added.Duplicate {
		return nil
	}
	var a *Analysis
	for _, v := range p.Prepared {
		if x, ok := v.(*Analysis); ok {
			a = x
		}
	}
	if a == nil {
		return nil
	}
	m := p.Msg
	for _, t := range a.ReplyTrailers {
		if err := b.tx.AddTrailer(trailerRow(added.ID, m.References[len(m.References)-1], "reply", t)); err != nil {
			return err
		}
	}
	if !a.IsPatchMail {
		return nil
	}
	for _, t := range a.Trailers {
		if err := b.tx.AddTrailer(trailerRow(added.ID, added.MessageID, "patch", t)); err != nil {
			return err
		}
	}
	row := &store.PatchRow{
		Message:     added.ID,
		Counter:     a.Subject.Counter,
		Total:       a.Subject.Total,
		Version:     a.Subject.Version,
		Cover:       a.Subject.IsCover,
		NormSubject: a.Subject.NormalizedKey(),
		ChangeID:    a.ChangeID,
		Date:        m.Date,
		Files:       a.Files(),
		PatchIDs:    a.PatchIDs(),
	}
	if len(m.From) > 0 {
		row.Author = strings.ToLower(m.From[0].Email)
	}
	if n := len(m.References); n > 0 {
		row.Parent = m.References[n-1]
	}
	if row.Total == 0 && !row.Cover {
		row.Counter, row.Total = 1, 1
	}
	return series.Add(b.tx, row)
}

func trailerRow(msg int64, target, kind string, t patch.Trailer) *store.TrailerRow {
	return &store.TrailerRow{Message: msg, Target: target, Kind: kind, Key: t.Key, Value: t.Value, Name: t.Name, Email: t.Email}
}
