package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is a stored message without its raw bytes.
type Message struct {
	ID          int64
	MessageID   string
	IDs         []string // every Message-ID that names it
	Thread      int64
	Subject     string
	NormSubject string
	FromName    string
	FromEmail   string
	Date        time.Time
	Received    time.Time
	Size        int
	Deleted     bool
	Parent      string // Message-ID of the parent (may be a ghost), "" for a root
	Meta        []byte
	Lists       []string
	Problems    []string
}

const messageCols = `id, message_id, thread, subject, norm_subject, from_name, from_email, date, received, size, deleted, parent, meta`

func scanMessage(sc interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var date, recv int64
	if err := sc.Scan(&m.ID, &m.MessageID, &m.Thread, &m.Subject, &m.NormSubject, &m.FromName, &m.FromEmail, &date, &recv, &m.Size, &m.Deleted, &m.Parent, &m.Meta); err != nil {
		return nil, err
	}
	m.Date, m.Received = fromUnix(date), fromUnix(recv)
	return &m, nil
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// Resolve returns the row id of the message named by mid (any of its
// Message-IDs, with or without <>), or ErrNotFound (also for a ghost).
func (s *Store) Resolve(ctx context.Context, mid string) (int64, error) {
	mid = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(mid), "<"), ">")
	var id int64
	err := s.queryRow(ctx, `SELECT message FROM mids WHERE mid = ?`, mid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && id == 0) {
		return 0, fmt.Errorf("%w: message <%s>", ErrNotFound, mid)
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return id, nil
}

// MessageRow loads the message with row id without its other ids, lists
// and problems: one query, for callers that need its thread, subject or
// date.
func (s *Store) MessageRow(ctx context.Context, id int64) (*Message, error) {
	m, err := scanMessage(s.queryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: message %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return m, nil
}

// Message loads the message with row id, with its ids, lists and problems.
func (s *Store) Message(ctx context.Context, id int64) (*Message, error) {
	m, err := s.MessageRow(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.IDs, err = s.strings(ctx, `SELECT mid FROM mids WHERE message = ? ORDER BY mid = ? DESC, mid`, id, m.MessageID); err != nil {
		return nil, err
	}
	if m.Lists, err = s.strings(ctx, `SELECT l.name FROM memberships ms JOIN lists l ON l.id = ms.list WHERE ms.message = ? ORDER BY l.name`, id); err != nil {
		return nil, err
	}
	if m.Problems, err = s.strings(ctx, `SELECT problem FROM problems WHERE message = ? ORDER BY id`, id); err != nil {
		return nil, err
	}
	return m, nil
}

// MessageRowByID resolves mid and loads its row (see MessageRow).
func (s *Store) MessageRowByID(ctx context.Context, mid string) (*Message, error) {
	id, err := s.Resolve(ctx, mid)
	if err != nil {
		return nil, err
	}
	return s.MessageRow(ctx, id)
}

// MessageByID resolves mid and loads the message.
func (s *Store) MessageByID(ctx context.Context, mid string) (*Message, error) {
	id, err := s.Resolve(ctx, mid)
	if err != nil {
		return nil, err
	}
	return s.Message(ctx, id)
}

// Raw returns the raw bytes of the message with row id.
func (s *Store) Raw(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := s.queryRow(ctx, `SELECT raw FROM messages WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: message %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return s.decompress(b)
}

func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// ThreadMessages returns the messages of thread tid in date order.
func (s *Store) ThreadMessages(ctx context.Context, tid int64) ([]*Message, error) {
	return s.messages(ctx, `SELECT `+messageCols+` FROM messages WHERE thread = ? AND deleted = 0 ORDER BY date, id`, tid)
}

// Ghosts returns the Message-IDs referenced within thread tid that no
// stored message carries.
func (s *Store) Ghosts(ctx context.Context, tid int64) ([]string, error) {
	return s.strings(ctx, `SELECT mid FROM mids WHERE thread = ? AND message = 0 ORDER BY mid`, tid)
}

// SameSubject returns messages outside thread tid whose normalised
// subject is norm: the loose matches kept apart from the strict thread.
func (s *Store) SameSubject(ctx context.Context, norm string, tid int64, limit int) ([]*Message, error) {
	if norm == "" {
		return nil, nil
	}
	return s.messages(ctx, `SELECT `+messageCols+` FROM messages WHERE norm_subject = ? AND thread != ? AND deleted = 0 ORDER BY date, id LIMIT ?`, norm, tid, limit)
}

func (s *Store) messages(ctx context.Context, q string, args ...any) ([]*Message, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// Checkpoints returns the stored checkpoints of source path (nil when the
// source is new).
func (s *Store) Checkpoints(ctx context.Context, path string) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT c.key, c.value FROM checkpoints c JOIN sources s ON s.id = c.source WHERE s.path = ?`, path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Stats counts what the store holds.
type Stats struct {
	Messages int64 `json:"messages"`
	Threads  int64 `json:"threads"`
	Ghosts   int64 `json:"ghosts"`
	Lists    int64 `json:"lists"`
	Sources  int64 `json:"sources"`
	Problems int64 `json:"problems"`
	// MessagesWithProblems counts messages that have at least one problem.
	MessagesWithProblems int64 `json:"messages_with_problems"`
	// SourceProblems counts unreadable items of sources (missing blobs…).
	SourceProblems int64 `json:"source_problems"`
	Deleted        int64 `json:"deleted"`
}

// statsCounts are the counts of Stats, each with the field it fills.
// None may scan the messages table, whose rows hold the raw mail
// (TestStatsReadNoMail).
var statsCounts = []struct {
	dst func(*Stats) *int64
	sql string
}{
	{func(st *Stats) *int64 { return &st.Messages }, `SELECT count(*) FROM messages WHERE deleted = 0`},
	{func(st *Stats) *int64 { return &st.Threads }, `SELECT count(DISTINCT thread) FROM messages WHERE deleted = 0`},
	{func(st *Stats) *int64 { return &st.Ghosts }, `SELECT count(*) FROM mids WHERE message = 0`},
	{func(st *Stats) *int64 { return &st.Lists }, `SELECT count(*) FROM lists`},
	{func(st *Stats) *int64 { return &st.Sources }, `SELECT count(*) FROM sources`},
	{func(st *Stats) *int64 { return &st.Problems }, `SELECT count(*) FROM problems`},
	{func(st *Stats) *int64 { return &st.MessagesWithProblems }, `SELECT count(DISTINCT message) FROM problems WHERE message != 0`},
	{func(st *Stats) *int64 { return &st.SourceProblems }, `SELECT count(*) FROM problems WHERE message = 0`},
	{func(st *Stats) *int64 { return &st.Deleted }, `SELECT count(*) FROM messages WHERE deleted = 1`},
}

// Stats returns the counts of the store.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	var st Stats
	for _, c := range statsCounts {
		if err := s.queryRow(ctx, c.sql).Scan(c.dst(&st)); err != nil {
			return nil, fmt.Errorf("store: stats: %w", err)
		}
	}
	return &st, nil
}

// List is a mailing list known to the store.
type List struct {
	Name     string `json:"name"`
	ListID   string `json:"list_id"`
	Messages int64  `json:"messages"`
}

// Lists returns the lists with their message counts.
func (s *Store) Lists(ctx context.Context) ([]List, error) {
	rows, err := s.query(ctx, `SELECT l.name, l.list_id, (SELECT count(*) FROM memberships m WHERE m.list = l.id) FROM lists l ORDER BY l.name`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []List
	for rows.Next() {
		var l List
		if err := rows.Scan(&l.Name, &l.ListID, &l.Messages); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SourceProblem is an unreadable item of a source: of a mailing-list
// source, or a commit of a code repository (Repo is then its name and
// Source its path).
type SourceProblem struct {
	Source   string `json:"source"`
	Repo     string `json:"repo,omitempty"`
	Location string `json:"location"`
	Problem  string `json:"problem"`
}

// SourceProblems lists the unreadable items recorded for sources and
// code repositories.
func (s *Store) SourceProblems(ctx context.Context) ([]SourceProblem, error) {
	rows, err := s.query(ctx, `SELECT coalesce(s.path, r.path, ''), coalesce(r.name, ''), p.location, p.problem FROM problems p
		LEFT JOIN sources s ON p.source != 0 AND s.id = p.source LEFT JOIN repos r ON p.repo != 0 AND r.id = p.repo
		WHERE p.message = 0 AND (s.id IS NOT NULL OR r.id IS NOT NULL) ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []SourceProblem
	for rows.Next() {
		var p SourceProblem
		if err := rows.Scan(&p.Source, &p.Repo, &p.Location, &p.Problem); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ThreadRefs returns, for each message of thread tid, its cleaned
// references in order (In-Reply-To last), keyed by row id.
func (s *Store) ThreadRefs(ctx context.Context, tid int64) (map[int64][]string, error) {
	rows, err := s.query(ctx, `SELECT r.message, r.mid FROM refs r JOIN messages m ON m.id = r.message WHERE m.thread = ? ORDER BY r.message, r.pos`, tid)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var mid string
		if err := rows.Scan(&id, &mid); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = append(out[id], mid)
	}
	return out, rows.Err()
}

// SourceList returns the name of the list a source was imported into, ""
// for a source never imported.
func (s *Store) SourceList(ctx context.Context, path string) (string, error) {
	var name string
	err := s.queryRow(ctx, `SELECT l.name FROM sources s JOIN lists l ON l.id = s.list WHERE s.path = ?`, path).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return name, nil
}

// Generation changes whenever a thread may have changed: it is the
// highest message row id (a new message is a new row) plus the number of
// messages hidden by a deletion or shown again (both only grow).
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := s.queryRow(ctx, `SELECT coalesce((SELECT max(id) FROM messages), 0) +
		coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'removals'), 0)`).Scan(&g); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return g, nil
}
