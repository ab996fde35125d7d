package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// NewMessage is a parsed message ready to be stored.
type NewMessage struct {
	IDs         []string // Message-IDs as parsed (without <>), possibly none
	References  []string // cleaned parent candidates, In-Reply-To last
	ContentHash [32]byte // REFERENCE §2 dedup hash
	Subject     string
	NormSubject string // normalised subject for loose same-subject matching
	FromName    string
	FromEmail   string
	Date        time.Time
	Received    time.Time
	Size        int
	Meta        []byte // encoded parsed metadata, opaque to the store
	Raw         []byte // compressed raw bytes (Store.Compress)
	Problems    []string
	List        int64 // list the message arrived on
	Source      int64 // source it was read from
}

// Added reports what AddMessage did.
type Added struct {
	ID        int64  // row id of the stored (or already present) message
	MessageID string // primary Message-ID
	Duplicate bool   // an identical message was already stored
	Generated bool   // the Message-ID was generated (missing or reused)
	Thread    int64
	// Merged lists threads that were merged into Thread by this message.
	Merged []int64
}

// Tx is a write transaction. All changes of a batch, including the
// checkpoints of the positions they came from, commit together.
type Tx struct {
	s       *Store
	tx      *sql.Tx
	ctx     context.Context
	nextTID int64
	stmts   map[string]*sql.Stmt
}

// Begin starts a write transaction.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	if s.readOnly {
		return nil, errors.New("store: read-only store")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	t := &Tx{s: s, tx: tx, ctx: ctx, stmts: map[string]*sql.Stmt{}}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(thread), 0) FROM mids`).Scan(&t.nextTID); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("store: %w", err)
	}
	t.nextTID++
	return t, nil
}

// Commit makes the transaction durable.
func (t *Tx) Commit() error {
	t.closeStmts()
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rollback abandons the transaction; it is safe after Commit.
func (t *Tx) Rollback() error {
	t.closeStmts()
	err := t.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

func (t *Tx) closeStmts() {
	for k, st := range t.stmts {
		st.Close()
		delete(t.stmts, k)
	}
}

func (t *Tx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	t.stmts[q] = st
	return st, nil
}

func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	r, err := st.ExecContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return r, nil
}

func (t *Tx) queryRow(q string, args ...any) (*sql.Row, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(t.ctx, args...), nil
}

// EnsureList returns the id of the list called name, creating it.
func (t *Tx) EnsureList(name, listID string) (int64, error) {
	return t.upsertID(`INSERT INTO lists(name, list_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET list_id = CASE WHEN excluded.list_id != '' THEN excluded.list_id ELSE list_id END RETURNING id`, name, listID)
}

// upsertID runs an INSERT … ON CONFLICT DO UPDATE … RETURNING id and
// returns the id of the row inserted or updated.
func (t *Tx) upsertID(q string, args ...any) (int64, error) {
	row, err := t.queryRow(q, args...)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := row.Scan(&id); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return id, nil
}

// EnsureSource returns the id of the source at path (an absolute path or
// URL), creating it for list.
func (t *Tx) EnsureSource(path string, list int64) (int64, error) {
	return t.upsertID(`INSERT INTO sources(path, list) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET list = excluded.list RETURNING id`, path, list)
}

// SetCheckpoint records that the source was read up to value under key.
func (t *Tx) SetCheckpoint(source int64, key, value string) error {
	_, err := t.exec(`INSERT INTO checkpoints(source, key, value) VALUES (?, ?, ?) ON CONFLICT(source, key) DO UPDATE SET value = excluded.value`, source, key, value)
	return err
}

// SourceSynced records the end of a read of source: when, how many new
// messages it gave, and the error that stopped it ("" when none).
func (t *Tx) SourceSynced(source int64, when time.Time, added int, lastErr string) error {
	_, err := t.exec(`UPDATE sources SET last_sync = ?, messages = messages + ?, last_error = ? WHERE id = ?`, when.Unix(), added, lastErr, source)
	return err
}

// AddSourceProblem records an item of a source that could not be read
// (missing blob, garbage) at location. Recording the same problem twice is
// a no-op, so re-reading a source does not repeat it.
func (t *Tx) AddSourceProblem(source int64, location, problem string) error {
	_, err := t.exec(`INSERT OR IGNORE INTO problems(message, source, location, problem) VALUES (0, ?, ?, ?)`, source, location, problem)
	return err
}

// AddRepoProblem records a commit of a code repository that could not be
// read (a missing object, a shallow boundary, a replaced history) at
// location ("commit <id>"). Recording the same problem twice is a no-op.
func (t *Tx) AddRepoProblem(repo int64, location, problem string) error {
	_, err := t.exec(`INSERT OR IGNORE INTO problems(message, source, repo, location, problem) VALUES (0, 0, ?, ?, ?)`, repo, location, problem)
	return err
}

// GeneratedID is the Message-ID given to a message without a usable one:
// derived from its content hash so that re-importing it finds it again.
func GeneratedID(hash [32]byte) string {
	return hex.EncodeToString(hash[:16]) + generatedIDSuffix
}

const generatedIDSuffix = "@generated.patchtrail.invalid"

// IsGeneratedID reports whether mid was made by GeneratedID: the message
// had no Message-ID, or one already used by a different message (a
// re-sent copy, whose real id names the original).
func IsGeneratedID(mid string) bool { return strings.HasSuffix(mid, generatedIDSuffix) }

type midRow struct {
	message int64
	thread  int64
}

func (t *Tx) lookupMid(mid string) (midRow, bool, error) {
	row, err := t.queryRow(`SELECT message, thread FROM mids WHERE mid = ?`, mid)
	if err != nil {
		return midRow{}, false, err
	}
	var r midRow
	switch err := row.Scan(&r.message, &r.thread); {
	case errors.Is(err, sql.ErrNoRows):
		return r, false, nil
	case err != nil:
		return r, false, fmt.Errorf("store: %w", err)
	}
	return r, true, nil
}

func (t *Tx) contentHash(id int64) ([]byte, error) {
	row, err := t.queryRow(`SELECT content_hash FROM messages WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	var h []byte
	if err := row.Scan(&h); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return h, nil
}

// AddMessage stores m unless it is a duplicate (REFERENCE §2: same
// Message-ID and same content hash), in which case only the list
// membership is added. A Message-ID already used by a different message
// is not reused: m gets a generated id. m joins the thread of the ids it
// references; ghosts of unknown references are created, a ghost of one of
// m's own ids is replaced by m, and threads joined by m merge.
func (t *Tx) AddMessage(m *NewMessage) (*Added, error) {
	res := &Added{}
	problems := append([]string(nil), m.Problems...)
	var own []string
	ghostThreads := map[int64]bool{}
	for _, id := range uniq(m.IDs) {
		r, ok, err := t.lookupMid(id)
		if err != nil {
			return nil, err
		}
		if ok && r.message > 0 {
			h, err := t.contentHash(r.message)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(h, m.ContentHash[:]) {
				return t.duplicate(r.message, m)
			}
			problems = append(problems, fmt.Sprintf("Message-ID <%s> is already used by a different message", id))
			continue
		}
		if ok {
			ghostThreads[r.thread] = true
		}
		own = append(own, id)
	}
	if len(own) == 0 {
		gen := GeneratedID(m.ContentHash)
		r, ok, err := t.lookupMid(gen)
		if err != nil {
			return nil, err
		}
		if ok && r.message > 0 {
			return t.duplicate(r.message, m)
		}
		if len(m.IDs) == 0 {
			problems = append(problems, "no Message-ID: generated <"+gen+">")
		}
		own = []string{gen}
		res.Generated = true
	}
	isOwn := map[string]bool{}
	for _, id := range own {
		isOwn[id] = true
	}

	// Threads this message touches: ghosts of its own ids and every known
	// reference. Unknown references become ghosts.
	threads := ghostThreads
	var refs, unknown []string
	for _, ref := range uniq(m.References) {
		if isOwn[ref] {
			continue
		}
		refs = append(refs, ref)
		r, ok, err := t.lookupMid(ref)
		if err != nil {
			return nil, err
		}
		if ok {
			threads[r.thread] = true
		} else {
			unknown = append(unknown, ref)
		}
	}
	tid, merged := t.pickThread(threads)
	for _, old := range merged {
		if _, err := t.exec(`UPDATE mids SET thread = ? WHERE thread = ?`, tid, old); err != nil {
			return nil, err
		}
		if _, err := t.exec(`UPDATE messages SET thread = ? WHERE thread = ?`, tid, old); err != nil {
			return nil, err
		}
	}

	if m.Meta == nil {
		m.Meta = []byte{}
	}
	parent := ""
	if len(refs) > 0 {
		parent = refs[len(refs)-1]
	}
	r, err := t.exec(`INSERT INTO messages(message_id, content_hash, thread, subject, norm_subject, from_name, from_email, date, received, size, parent, meta, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		own[0], m.ContentHash[:], tid, m.Subject, m.NormSubject, m.FromName, m.FromEmail,
		unix(m.Date), unix(m.Received), m.Size, parent, m.Meta, m.Raw)
	if err != nil {
		return nil, err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, mid := range own {
		if _, err := t.exec(`INSERT INTO mids(mid, message, thread) VALUES (?, ?, ?) ON CONFLICT(mid) DO UPDATE SET message = excluded.message, thread = excluded.thread`, mid, id, tid); err != nil {
			return nil, err
		}
	}
	for _, ref := range unknown {
		if _, err := t.exec(`INSERT OR IGNORE INTO mids(mid, message, thread) VALUES (?, 0, ?)`, ref, tid); err != nil {
			return nil, err
		}
	}
	for i, ref := range refs {
		if _, err := t.exec(`INSERT INTO refs(message, pos, mid) VALUES (?, ?, ?)`, id, i, ref); err != nil {
			return nil, err
		}
	}
	if _, err := t.exec(`INSERT OR IGNORE INTO memberships(message, list, source) VALUES (?, ?, ?)`, id, m.List, m.Source); err != nil {
		return nil, err
	}
	for _, p := range problems {
		if _, err := t.exec(`INSERT INTO problems(message, source, location, problem) VALUES (?, ?, '', ?)`, id, m.Source, p); err != nil {
			return nil, err
		}
	}
	res.ID, res.MessageID, res.Thread, res.Merged = id, own[0], tid, merged
	return res, nil
}

func (t *Tx) duplicate(id int64, m *NewMessage) (*Added, error) {
	if _, err := t.exec(`INSERT OR IGNORE INTO memberships(message, list, source) VALUES (?, ?, ?)`, id, m.List, m.Source); err != nil {
		return nil, err
	}
	r, err := t.exec(`UPDATE messages SET deleted = 0 WHERE id = ? AND deleted = 1`, id)
	if err != nil {
		return nil, err
	}
	if n, _ := r.RowsAffected(); n > 0 {
		if err := t.bumpRemovals(); err != nil {
			return nil, err
		}
	}
	row, err := t.queryRow(`SELECT message_id, thread FROM messages WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	res := &Added{ID: id, Duplicate: true}
	if err := row.Scan(&res.MessageID, &res.Thread); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return res, nil
}

// pickThread chooses the thread a message joins: the oldest of the
// threads it touches (the others merge into it), or a new one.
func (t *Tx) pickThread(threads map[int64]bool) (int64, []int64) {
	if len(threads) == 0 {
		tid := t.nextTID
		t.nextTID++
		return tid, nil
	}
	ids := make([]int64, 0, len(threads))
	for id := range threads {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids[0], ids[1:]
}

// RemoveMessage handles a deletion from a source (public-inbox `d`
// commits): the message with this content leaves the list; when it is on
// no list any more it is marked deleted (kept, but hidden from search).
// It returns the row id, or 0 when no such message is stored.
func (t *Tx) RemoveMessage(ids []string, hash [32]byte, list int64) (int64, error) {
	cands := append(uniq(ids), GeneratedID(hash))
	for _, id := range cands {
		r, ok, err := t.lookupMid(id)
		if err != nil || !ok || r.message == 0 {
			if err != nil {
				return 0, err
			}
			continue
		}
		h, err := t.contentHash(r.message)
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(h, hash[:]) {
			continue
		}
		if _, err := t.exec(`DELETE FROM memberships WHERE message = ? AND list = ?`, r.message, list); err != nil {
			return 0, err
		}
		res, err := t.exec(`UPDATE messages SET deleted = 1 WHERE id = ? AND deleted = 0 AND NOT EXISTS (SELECT 1 FROM memberships WHERE message = ?)`, r.message, r.message)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := t.bumpRemovals(); err != nil {
				return 0, err
			}
		}
		return r.message, nil
	}
	return 0, nil
}

// bumpRemovals counts a message hidden or shown again, which changes
// threads without a new row: Generation includes the count.
func (t *Tx) bumpRemovals() error {
	_, err := t.exec(`INSERT INTO meta(key, value) VALUES ('removals', '1')
		ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`)
	return err
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
