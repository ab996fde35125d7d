package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// PatchCandidate is a posted patch considered as the source of a commit
// (or of a CVE fix): its patch row with what the linker needs of its
// message and series.
type PatchCandidate struct {
	PatchRow
	MessageID string
	Subject   string
	FromName  string
	Thread    int64
	Chain     int64 // version chain of its series
	// Reply says the diff was posted inside a reply (reply_patches): it
	// belongs to no series.
	Reply bool
}

const candidateCols = `p.message, p.series, p.counter, p.total, p.version, p.cover, p.norm_subject, p.author, p.change_id, p.date, p.parent, p.files,
	m.message_id, m.subject, m.from_name, m.thread, coalesce(s.chain, 0)`

const candidateFrom = ` FROM patches p JOIN messages m ON m.id = p.message LEFT JOIN series s ON s.id = p.series`

func (s *Store) candidates(ctx context.Context, q string, args ...any) ([]*PatchCandidate, error) {
	return s.scanCandidates(ctx, `SELECT `+candidateCols+`, 0`+candidateFrom+` `+q, args...)
}

// scanCandidates runs query q, whose columns are those of candidateCols
// followed by whether the row is a reply diff.
func (s *Store) scanCandidates(ctx context.Context, q string, args ...any) ([]*PatchCandidate, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []*PatchCandidate
	for rows.Next() {
		var c PatchCandidate
		var d int64
		var files string
		if err := rows.Scan(&c.Message, &c.Series, &c.Counter, &c.Total, &c.Version, &c.Cover, &c.NormSubject, &c.Author, &c.ChangeID, &d, &c.Parent, &files,
			&c.MessageID, &c.Subject, &c.FromName, &c.Thread, &c.Chain, &c.Reply); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		c.Date = fromUnix(d)
		json.Unmarshal([]byte(files), &c.Files)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// PatchesByPatchID returns the posted patches carrying patch-id pid.
func (s *Store) PatchesByPatchID(ctx context.Context, pid string, limit int) ([]*PatchCandidate, error) {
	return s.candidates(ctx, `JOIN patch_ids pi ON pi.message = p.message WHERE pi.patch_id = ? AND m.deleted = 0 ORDER BY p.date DESC LIMIT ?`, pid, limit)
}

// PatchesBySubject returns the patch mails (not cover letters) whose
// normalised subject (patch.Subject.NormalizedKey) is norm, newest first.
func (s *Store) PatchesBySubject(ctx context.Context, norm string, limit int) ([]*PatchCandidate, error) {
	return s.candidates(ctx, `WHERE p.norm_subject = ? AND p.cover = 0 AND m.deleted = 0 ORDER BY p.date DESC LIMIT ?`, norm, limit)
}

// PatchesByAuthor returns the patch mails sent from address author
// (lowercase) between from and to that touch one of files (the first
// maxFileFilter of them), newest first.
func (s *Store) PatchesByAuthor(ctx context.Context, author string, from, to time.Time, files []string, limit int) ([]*PatchCandidate, error) {
	if len(files) == 0 {
		return nil, nil
	}
	q, args := filesFilter(`WHERE p.author = ? AND p.date BETWEEN ? AND ? AND p.cover = 0 AND m.deleted = 0 AND (`, "p.files", files,
		author, from.Unix(), to.Unix())
	return s.candidates(ctx, q+`) ORDER BY p.date DESC LIMIT ?`, append(args, limit)...)
}

// filesFilter appends to where a match of column (a JSON array of
// paths) on any of the first maxFileFilter files, ORed, and returns it
// with args followed by the encoded paths. instr, not LIKE: a LIKE
// pattern bound as a parameter makes SQLite prepare the statement again
// on every run.
func filesFilter(where, column string, files []string, args ...any) (string, []any) {
	for i, f := range files {
		if i == maxFileFilter {
			break
		}
		if i > 0 {
			where += ` OR `
		}
		enc, _ := json.Marshal(f)
		where += `instr(` + column + `, ?) > 0`
		args = append(args, string(enc))
	}
	return where, args
}

// maxFileFilter bounds the paths PatchesByAuthor matches on.
const maxFileFilter = 8

// PatchOf returns the patch row of message row id as a candidate, or
// ErrNotFound when the message holds no patch.
func (s *Store) PatchOf(ctx context.Context, id int64) (*PatchCandidate, error) {
	out, err := s.candidates(ctx, `WHERE p.message = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no patch in message %d", ErrNotFound, id)
	}
	return out[0], nil
}

// PatchMailsAfter returns up to limit patch mails (not cover letters)
// with a message row id above after, in id order, for incremental scans.
func (s *Store) PatchMailsAfter(ctx context.Context, after int64, limit int) ([]*PatchCandidate, error) {
	return s.candidates(ctx, `WHERE p.message > ? AND p.cover = 0 ORDER BY p.message LIMIT ?`, after, limit)
}

// MessageDates returns the dates of the first and last stored message:
// the window an archive covers.
func (s *Store) MessageDates(ctx context.Context) (first, last time.Time, err error) {
	var a, b int64
	if err := s.queryRow(ctx, `SELECT coalesce(min(date), 0), coalesce(max(date), 0) FROM messages WHERE date > 0 AND deleted = 0`).Scan(&a, &b); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("store: %w", err)
	}
	return fromUnix(a), fromUnix(b), nil
}
