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
	m := p.Msg
	if terms := store.MentionTerms(m.Subject + "\n" + m.NonQuoted); len(terms) > 0 {
		if err := b.tx.AddMentions(added.ID, terms); err != nil {
			return err
		}
	}
	a := p.Analysis
	if a == nil {
		return nil
	}
	for _, t := range a.ReplyTrailers {
		if err := b.tx.AddTrailer(trailerRow(added.ID, m.References[len(m.References)-1], "reply", t)); err != nil {
			return err
		}
	}
	if a.ReplyDiff {
		return b.tx.AddReplyPatch(replyPatchRow(added.ID, m, a))
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

// replyPatchRow is what the store keeps of the diff in a reply.
func replyPatchRow(id int64, m *message.Message, a *patch.Analysis) *store.PatchRow {
	row := &store.PatchRow{Message: id, Version: a.Subject.Version, NormSubject: a.Subject.NormalizedKey(),
		Date: m.Date, Files: a.Files(), PatchIDs: a.PatchIDs()}
	if len(m.From) > 0 {
		row.Author = strings.ToLower(m.From[0].Email)
	}
	if n := len(m.References); n > 0 {
		row.Parent = m.References[n-1]
	}
	return row
}

func trailerRow(msg int64, target, kind string, t patch.Trailer) *store.TrailerRow {
	return &store.TrailerRow{Message: msg, Target: target, Kind: kind, Key: t.Key, Value: t.Value, Name: t.Name, Email: t.Email}
}
