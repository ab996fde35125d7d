package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// replySchema keeps the diffs posted inside replies ("Re: [PATCH …]"
// with a diff, a maintainer's "how about this instead"): candidates for
// linking commits, kept apart from the patches table so they join no
// series and no version chain.
const replySchema = `
CREATE TABLE IF NOT EXISTS reply_patches (
	message INTEGER PRIMARY KEY,
	version INTEGER NOT NULL,
	norm_subject TEXT NOT NULL,
	author TEXT NOT NULL,
	date INTEGER NOT NULL,
	parent TEXT NOT NULL DEFAULT '',
	files TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS reply_patches_norm_subject ON reply_patches(norm_subject);
CREATE INDEX IF NOT EXISTS reply_patches_author_date ON reply_patches(author, date);
CREATE INDEX IF NOT EXISTS reply_patches_date ON reply_patches(date);
CREATE INDEX IF NOT EXISTS patches_date ON patches(date);
CREATE TABLE IF NOT EXISTS reply_patch_ids (
	patch_id TEXT NOT NULL,
	message INTEGER NOT NULL,
	PRIMARY KEY (patch_id, message)
) WITHOUT ROWID;
`

// AddReplyPatch stores the diff a reply carries (p.Series, Counter,
// Total, Cover and ChangeID are ignored).
func (t *Tx) AddReplyPatch(p *PatchRow) error {
	files, _ := json.Marshal(nonNilStrings(p.Files))
	if _, err := t.exec(`INSERT OR REPLACE INTO reply_patches(message, version, norm_subject, author, date, parent, files) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.Message, p.Version, p.NormSubject, p.Author, unix(p.Date), p.Parent, string(files)); err != nil {
		return err
	}
	for _, id := range p.PatchIDs {
		if _, err := t.exec(`INSERT OR IGNORE INTO reply_patch_ids(patch_id, message) VALUES (?, ?)`, id, p.Message); err != nil {
			return err
		}
	}
	return nil
}

// Reply candidates have the columns of patch candidates: one patch, no
// series, no chain.
const replyCols = `r.message, 0, 1, 1, r.version, 0, r.norm_subject, r.author, '', r.date, r.parent, r.files,
	m.message_id, m.subject, m.from_name, m.thread, 0`

const replyFrom = ` FROM reply_patches r JOIN messages m ON m.id = r.message`

func (s *Store) replies(ctx context.Context, q string, args ...any) ([]*PatchCandidate, error) {
	return s.scanCandidates(ctx, `SELECT `+replyCols+`, 1`+replyFrom+` `+q, args...)
}

// RepliesByAuthor returns the replies with a diff sent from address
// author between from and to that touch one of files, newest first.
func (s *Store) RepliesByAuthor(ctx context.Context, author string, from, to time.Time, files []string, limit int) ([]*PatchCandidate, error) {
	if len(files) == 0 {
		return nil, nil
	}
	q, args := filesFilter(`WHERE r.author = ? AND r.date BETWEEN ? AND ? AND m.deleted = 0 AND (`, "r.files", files,
		author, from.Unix(), to.Unix())
	return s.replies(ctx, q+`) ORDER BY r.date DESC LIMIT ?`, append(args, limit)...)
}

// ReplyPatchOf returns the diff reply message id carries as a candidate,
// or ErrNotFound.
func (s *Store) ReplyPatchOf(ctx context.Context, id int64) (*PatchCandidate, error) {
	out, err := s.replies(ctx, `WHERE r.message = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no diff in reply %d", ErrNotFound, id)
	}
	return out[0], nil
}

// withReplies runs a candidate query over the patches and the same
// query over the reply diffs as one statement (UNION ALL), each part
// ordered newest first and limited on its own. patchWhere and replyWhere
// take the same arguments, args, followed by the limit.
func (s *Store) withReplies(ctx context.Context, patchWhere, replyWhere string, limit int, args ...any) ([]*PatchCandidate, error) {
	q := `SELECT * FROM (SELECT ` + candidateCols + `, 0 AS reply` + candidateFrom + ` ` + patchWhere + ` ORDER BY p.date DESC LIMIT ?)
		UNION ALL SELECT * FROM (SELECT ` + replyCols + `, 1 AS reply` + replyFrom + ` ` + replyWhere + ` ORDER BY r.date DESC LIMIT ?)`
	all := append(append(append(append([]any{}, args...), limit), args...), limit)
	return s.scanCandidates(ctx, q, all...)
}

// CandidatesByPatchID returns the patch mails and the reply diffs
// carrying patch-id pid (PatchesByPatchID and RepliesByPatchID in one).
func (s *Store) CandidatesByPatchID(ctx context.Context, pid string, limit int) ([]*PatchCandidate, error) {
	return s.withReplies(ctx, `JOIN patch_ids pi ON pi.message = p.message WHERE pi.patch_id = ? AND m.deleted = 0`,
		`JOIN reply_patch_ids pi ON pi.message = r.message WHERE pi.patch_id = ? AND m.deleted = 0`, limit, pid)
}

// CandidatesBySubject returns the patch mails (not cover letters) and
// the reply diffs whose normalised subject is norm.
func (s *Store) CandidatesBySubject(ctx context.Context, norm string, limit int) ([]*PatchCandidate, error) {
	return s.withReplies(ctx, `WHERE p.norm_subject = ? AND p.cover = 0 AND m.deleted = 0`,
		`WHERE r.norm_subject = ? AND m.deleted = 0`, limit, norm)
}

// PatchesByDate returns the patch mails (not cover letters) and the
// replies with a diff whose Date lies between from and to, newest first
// in each kind: `git am` makes a mail's Date the author date of its
// commit, whatever the sender, subject or content became.
func (s *Store) PatchesByDate(ctx context.Context, from, to time.Time, limit int) ([]*PatchCandidate, error) {
	return s.withReplies(ctx, `WHERE p.date BETWEEN ? AND ? AND p.cover = 0 AND m.deleted = 0`,
		`WHERE r.date BETWEEN ? AND ? AND m.deleted = 0`, limit, from.Unix(), to.Unix())
}
