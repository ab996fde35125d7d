package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The security-fix radar's tables (internal/radar, doc/radar.md).
// radar_evidence holds what the radar read from each message, written in
// the same transaction as the message; rules names the evidence rules it
// was read with. radar_queue lists the messages whose arrival (or
// removal) is not yet reflected in radar_scores: rows are added with the
// evidence and removed in the transaction that writes the scores, so a
// crash between the two is repaired by scoring what is still queued.
// radar_scores holds one row per patch posting, scored with what was
// known at it; head marks the newest version of its patch (the row the
// radar lists), Message-ID and subject are copied so the radar reads no
// message row; meta radar_stamp names the model and data the scores
// were computed with, so a retrained model rescores. radar_terms indexes
// each patch and stable posting by what links it to others (subject key,
// sender, files, ...; internal/radar's postingTerms), so that an update
// of a few messages reads the postings they reach instead of them all;
// an update writes the terms of what it dequeues, and meta radar_terms
// names the terms' version once every posting has them. radar_labels
// holds the CVEs the scores were computed with (the publication of the
// earliest CVE of each subject key; meta radar_labels names them), so
// that new CVEs rescore only the postings they change.
const radarSchema = `
CREATE TABLE IF NOT EXISTS radar_evidence (
	message INTEGER PRIMARY KEY,
	rules TEXT NOT NULL,
	data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS radar_queue (message INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS radar_scores (
	message INTEGER PRIMARY KEY,
	head INTEGER NOT NULL,
	score REAL NOT NULL,
	date INTEGER NOT NULL,
	key TEXT NOT NULL,
	message_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	versions TEXT NOT NULL,
	signals TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS radar_scores_head ON radar_scores(head, date);
CREATE TABLE IF NOT EXISTS radar_terms (
	term TEXT NOT NULL,
	date INTEGER NOT NULL,
	message INTEGER NOT NULL,
	PRIMARY KEY (term, date, message)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS radar_terms_message ON radar_terms(message, term);
CREATE TABLE IF NOT EXISTS radar_labels (
	key TEXT PRIMARY KEY,
	published INTEGER NOT NULL
) WITHOUT ROWID;
`

// ErrNoRadar is returned by the radar reads of a store written before
// the radar's tables existed (opened read-only, so never migrated).
var ErrNoRadar = errors.New("store: no radar scores (run `patchtrail import` or `patchtrail sync` once to score)")

// PutRadarEvidence stores the radar's evidence of message row id and
// queues it for scoring.
func (t *Tx) PutRadarEvidence(id int64, rules string, data []byte) error {
	if _, err := t.exec(`INSERT OR REPLACE INTO radar_evidence(message, rules, data) VALUES (?, ?, ?)`, id, rules, data); err != nil {
		return err
	}
	return t.QueueRadar(id)
}

// QueueRadar queues message row id for scoring (a message removed from
// its last list, a thread that changed).
func (t *Tx) QueueRadar(id int64) error {
	_, err := t.exec(`INSERT OR IGNORE INTO radar_queue(message) VALUES (?)`, id)
	return err
}

// RadarHeader is a message as the radar needs it from the messages
// table, with its stored evidence.
type RadarHeader struct {
	ID        int64
	MessageID string
	Thread    int64
	Subject   string
	From      string
	Date      time.Time
	Parent    string
	Deleted   bool // no longer on any list (RadarHeaderOf only)
	Rules     string
	Data      []byte
}

// RadarHeaders calls fn for every stored message that has evidence, with
// its evidence, in row order. Messages no longer on any list are left
// out.
func (s *Store) RadarHeaders(ctx context.Context, fn func(*RadarHeader) error) error {
	return s.radarHeaders(ctx, `SELECT m.id, m.message_id, m.thread, m.subject, m.from_email, m.date, m.parent, e.rules, e.data
		FROM messages m JOIN radar_evidence e ON e.message = m.id WHERE m.deleted = 0 ORDER BY m.id`, nil, fn)
}

// RadarSlimHeaders is RadarHeaders without the parents (Parent is
// empty): what it reads of the messages is in one index, so it reads
// none of their rows, which hold the raw mail.
func (s *Store) RadarSlimHeaders(ctx context.Context, fn func(*RadarHeader) error) error {
	return s.radarHeaders(ctx, `SELECT m.id, m.message_id, m.thread, m.subject, m.from_email, m.date, '', e.rules, e.data
		FROM messages m INDEXED BY messages_head JOIN radar_evidence e ON e.message = m.id WHERE m.deleted = 0 ORDER BY m.id`, nil, fn)
}

// RadarThreadHeaders calls fn for every stored message with evidence of
// the given threads, as RadarHeaders does, in row order.
func (s *Store) RadarThreadHeaders(ctx context.Context, threads []int64, fn func(*RadarHeader) error) error {
	var hs []*RadarHeader
	err := inChunks(threads, func(list string, args []any) error {
		q := `SELECT m.id, m.message_id, m.thread, m.subject, m.from_email, m.date, m.parent, e.rules, e.data
			FROM messages m JOIN radar_evidence e ON e.message = m.id
			WHERE m.deleted = 0 AND m.thread IN ` + list
		return s.radarHeaders(ctx, q, args, func(h *RadarHeader) error {
			hs = append(hs, h)
			return nil
		})
	})
	if err != nil {
		return err
	}
	slices.SortFunc(hs, func(a, b *RadarHeader) int { return cmp.Compare(a.ID, b.ID) })
	for _, h := range hs {
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

// RadarSlimHeadersOf is RadarSlimHeaders for the messages with the
// given row ids (unknown ones, and those no longer on any list, are left
// out), in row order.
func (s *Store) RadarSlimHeadersOf(ctx context.Context, ids []int64, fn func(*RadarHeader) error) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return inChunks(ids, func(list string, args []any) error {
		q := `SELECT m.id, m.message_id, m.thread, m.subject, m.from_email, m.date, '', e.rules, e.data
			FROM messages m JOIN radar_evidence e ON e.message = m.id
			WHERE m.deleted = 0 AND m.id IN ` + list + ` ORDER BY m.id`
		return s.radarHeaders(ctx, q, args, fn)
	})
}

// RadarThreadMessages returns the row ids of the messages of the given
// threads that are on a list.
func (s *Store) RadarThreadMessages(ctx context.Context, threads []int64) ([]int64, error) {
	return idsInChunks(ctx, s, `SELECT id FROM messages WHERE deleted = 0 AND thread IN `, threads)
}

// RadarTerms are the terms of one message (none: it has no terms),
// dated by the message.
type RadarTerms struct {
	ID    int64
	Date  time.Time
	Terms []string
}

// PutRadarTerms replaces the terms of the given messages in one
// transaction. With reset every term of every message is deleted first,
// and the version of the terms with it; a version not empty is set after
// (the terms of every posting are written).
func (s *Store) PutRadarTerms(ctx context.Context, ts []RadarTerms, reset bool, version string) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	err = func() error {
		if reset {
			if _, err := tx.exec(`DELETE FROM radar_terms`); err != nil {
				return err
			}
			if _, err := tx.exec(`DELETE FROM meta WHERE key = 'radar_terms'`); err != nil {
				return err
			}
		}
		for _, t := range ts {
			if !reset {
				if _, err := tx.exec(`DELETE FROM radar_terms WHERE message = ?`, t.ID); err != nil {
					return err
				}
			}
			for _, term := range t.Terms {
				if _, err := tx.exec(`INSERT OR IGNORE INTO radar_terms(term, message, date) VALUES (?, ?, ?)`, term, t.ID, t.Date.Unix()); err != nil {
					return err
				}
			}
		}
		if version != "" {
			err := tx.setMeta("radar_terms", version)
			return err
		}
		return nil
	}()
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// RadarLabelsStamp returns the name of the CVEs the scores were computed
// with ("" before any).
func (s *Store) RadarLabelsStamp(ctx context.Context) (string, error) {
	return s.meta(ctx, "radar_labels")
}

// RadarLabels returns the CVEs the scores were computed with: for each
// subject key, the publication of its earliest CVE (Unix seconds).
func (s *Store) RadarLabels(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, published FROM radar_labels`)
	if err != nil {
		return nil, radarErr(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var p int64
		if err := rows.Scan(&k, &p); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[k] = p
	}
	return out, rows.Err()
}

// PutRadarLabels records, in one transaction, the CVEs named stamp as
// those the scores are computed with, and queues the messages whose
// scores or terms they change.
func (s *Store) PutRadarLabels(ctx context.Context, stamp string, labels map[string]int64, queue []int64) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	err = func() error {
		if _, err := tx.exec(`DELETE FROM radar_labels`); err != nil {
			return err
		}
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if _, err := tx.exec(`INSERT INTO radar_labels(key, published) VALUES (?, ?)`, k, labels[k]); err != nil {
				return err
			}
		}
		for _, id := range queue {
			if err := tx.QueueRadar(id); err != nil {
				return err
			}
		}
		err := tx.setMeta("radar_labels", stamp)
		return err
	}()
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// RadarCommitsMark returns the last commit row the scores were computed
// with (ok false before any).
func (s *Store) RadarCommitsMark(ctx context.Context) (mark int64, ok bool, err error) {
	v, err := s.meta(ctx, "radar_commits")
	if err != nil || v == "" {
		return 0, false, err
	}
	_, err = fmt.Sscan(v, &mark)
	return mark, err == nil, nil
}

// RadarLastCommit returns the last commit row stored (0: none).
func (s *Store) RadarLastCommit(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM commits`).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return id, nil
}

// RadarNewCommits calls fn with the id and normalised subject of every
// commit stored after row after, and returns the last row read.
func (s *Store) RadarNewCommits(ctx context.Context, after int64, fn func(sha, norm string)) (int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, sha, norm_subject FROM commits WHERE id > ? ORDER BY id`, after)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	last := after
	for rows.Next() {
		var sha, norm string
		if err := rows.Scan(&last, &sha, &norm); err != nil {
			return 0, fmt.Errorf("store: %w", err)
		}
		fn(sha, norm)
	}
	return last, rows.Err()
}

// PutRadarCommitsMark records, in one transaction, the last commit row
// the scores are computed with and queues the messages the commits after
// the last mark change.
func (s *Store) PutRadarCommitsMark(ctx context.Context, mark int64, queue []int64) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	for _, id := range queue {
		if err := tx.QueueRadar(id); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.setMeta("radar_commits", fmt.Sprint(mark)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// RadarTermsVersion returns the version of the stored terms ("" until
// every posting has them).
func (s *Store) RadarTermsVersion(ctx context.Context) (string, error) {
	return s.meta(ctx, "radar_terms")
}

// RadarTermQuery selects messages by their terms (PutRadarTerms).
type RadarTermQuery struct {
	Terms []string // any of them
	// Dated from Since to Until, both included (zero: no bound).
	Since, Until time.Time
	// Only those that also have the term Also ("": all).
	Also string
	// With no Terms: the messages with a term starting with Prefix.
	Prefix string
}

// RadarTermMessages returns the row ids of the messages q selects, each
// once, in row order.
func (s *Store) RadarTermMessages(ctx context.Context, q *RadarTermQuery) ([]int64, error) {
	var out []int64
	if len(q.Terms) == 0 && q.Prefix != "" {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT message FROM radar_terms WHERE term >= ? AND term < ?`, q.Prefix, q.Prefix+"\xff")
		if err != nil {
			return nil, radarErr(err)
		}
		if out, err = collectIDs(rows); err != nil {
			return nil, err
		}
		slices.Sort(out)
		return out, nil
	}
	err := inChunks(q.Terms, func(list string, args []any) error {
		sq := `SELECT t.message FROM radar_terms t WHERE t.term IN ` + list
		if !q.Since.IsZero() {
			sq += ` AND t.date >= ?`
			args = append(args, q.Since.Unix())
		}
		if !q.Until.IsZero() {
			sq += ` AND t.date <= ?`
			args = append(args, q.Until.Unix())
		}
		if q.Also != "" {
			sq += ` AND EXISTS (SELECT 1 FROM radar_terms l WHERE l.term = ? AND l.message = t.message)`
			args = append(args, q.Also)
		}
		rows, err := s.db.QueryContext(ctx, sq, args...)
		if err != nil {
			return radarErr(err)
		}
		ids, err := collectIDs(rows)
		out = append(out, ids...)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// RadarTermDates returns the dates of the messages with the term, oldest
// first.
func (s *Store) RadarTermDates(ctx context.Context, term string) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT date FROM radar_terms WHERE term = ? ORDER BY date`, term)
	if err != nil {
		return nil, radarErr(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, time.Unix(d, 0).UTC())
	}
	return out, rows.Err()
}

// RadarCommitDates calls fn, in row order, for each commit of the
// registered repositories whose id starts with one of the abbreviated
// ids or whose normalised subject is one of the keys, with its commit
// date.
func (s *Store) RadarCommitDates(ctx context.Context, ids, keys []string, fn func(sha, norm string, date time.Time)) error {
	type commit struct {
		id         int64
		sha, norm  string
		commitDate int64
	}
	seen := map[int64]bool{}
	var cs []commit
	read := func(q string, args ...any) error {
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			if strings.Contains(err.Error(), "no such table") {
				return nil // no repositories
			}
			return fmt.Errorf("store: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c commit
			if err := rows.Scan(&c.id, &c.sha, &c.norm, &c.commitDate); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if !seen[c.id] {
				seen[c.id] = true
				cs = append(cs, c)
			}
		}
		return rows.Err()
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if err := read(`SELECT id, sha, norm_subject, commit_date FROM commits WHERE sha >= ? AND sha < ?`, id, id+"\xff"); err != nil {
			return err
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	err := inChunks(keys, func(list string, args []any) error {
		return read(`SELECT id, sha, norm_subject, commit_date FROM commits WHERE norm_subject IN `+list, args...)
	})
	if err != nil {
		return err
	}
	slices.SortFunc(cs, func(a, b commit) int { return cmp.Compare(a.id, b.id) })
	for _, c := range cs {
		fn(c.sha, c.norm, time.Unix(c.commitDate, 0).UTC())
	}
	return nil
}

// RadarThreadsOf returns the threads of the stored messages (on a list)
// with the given Message-IDs; unknown ones are left out.
func (s *Store) RadarThreadsOf(ctx context.Context, mids []string) ([]int64, error) {
	return idsInChunks(ctx, s, `SELECT DISTINCT thread FROM messages WHERE deleted = 0 AND message_id IN `, mids)
}

// radarChunk bounds the parameters of one query.
const radarChunk = 500

// inChunks calls fn for vals in parts of at most radarChunk values, with
// the part's list of placeholders, "(?,?,…)", and the values as the
// query's arguments (room for three more).
func inChunks[T any](vals []T, fn func(list string, args []any) error) error {
	for start := 0; start < len(vals); start += radarChunk {
		part := vals[start:min(start+radarChunk, len(vals))]
		args := make([]any, len(part), len(part)+3)
		for i, v := range part {
			args[i] = v
		}
		if err := fn("(?"+strings.Repeat(",?", len(part)-1)+")", args); err != nil {
			return err
		}
	}
	return nil
}

// idsInChunks runs query, a selection of one integer column ending in
// "IN ", for vals in parts (inChunks) and returns the integers read.
func idsInChunks[T any](ctx context.Context, s *Store, query string, vals []T) ([]int64, error) {
	var out []int64
	err := inChunks(vals, func(list string, args []any) error {
		rows, err := s.db.QueryContext(ctx, query+list, args...)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		ids, err := collectIDs(rows)
		out = append(out, ids...)
		return err
	})
	return out, err
}

func (s *Store) radarHeaders(ctx context.Context, q string, args []any, fn func(*RadarHeader) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return radarErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		h := &RadarHeader{}
		var date int64
		if err := rows.Scan(&h.ID, &h.MessageID, &h.Thread, &h.Subject, &h.From, &date, &h.Parent, &h.Rules, &h.Data); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		h.Date = time.Unix(date, 0).UTC()
		if err := fn(h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// RadarMissing returns the row ids of stored messages that have no
// evidence, or evidence read with rules other than rules, and a mark to
// give MarkRadarEvidence once they have it. Messages never lose their
// evidence and row ids only grow, so while the rules stay only the
// messages after the last mark are read: an open of a big store reads
// what the imports since the last one added, not every message.
func (s *Store) RadarMissing(ctx context.Context, rules string) ([]int64, int64, error) {
	var mark int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&mark); err != nil {
		return nil, 0, fmt.Errorf("store: %w", err)
	}
	var after int64
	v, err := s.meta(ctx, "radar_evidence")
	if err != nil {
		return nil, 0, err
	}
	if r, id, ok := strings.Cut(v, "\x00"); ok && r == rules {
		fmt.Sscan(id, &after)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.id FROM messages m LEFT JOIN radar_evidence e ON e.message = m.id
		WHERE m.id > ? AND m.id <= ? AND m.deleted = 0 AND (e.message IS NULL OR e.rules != ?) ORDER BY m.id`, after, mark, rules)
	if err != nil {
		return nil, 0, radarErr(err)
	}
	ids, err := collectIDs(rows)
	return ids, mark, err
}

// MarkRadarEvidence records that every message up to row mark has
// evidence read with rules (RadarMissing).
func (s *Store) MarkRadarEvidence(ctx context.Context, rules string, mark int64) error {
	_, err := s.db.ExecContext(ctx, setMetaSQL, "radar_evidence", rules+"\x00"+fmt.Sprint(mark))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// RadarEvidence is one message's evidence to store with PutRadarEvidenceBatch.
type RadarEvidence struct {
	ID   int64
	Data []byte
}

// PutRadarEvidenceBatch stores evidence read outside an import (messages
// stored before the radar, or read with older rules), queued for scoring.
func (s *Store) PutRadarEvidenceBatch(ctx context.Context, rules string, ev []RadarEvidence) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	for _, e := range ev {
		if err := tx.PutRadarEvidence(e.ID, rules, e.Data); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// RadarQueued returns the queued message row ids.
func (s *Store) RadarQueued(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT message FROM radar_queue ORDER BY message`)
	if err != nil {
		return nil, radarErr(err)
	}
	return collectIDs(rows)
}

// RadarStamp returns the stamp the stored scores were computed with (""
// before any scoring).
func (s *Store) RadarStamp(ctx context.Context) (string, error) {
	return s.meta(ctx, "radar_stamp")
}

// RadarScore is the stored score of one patch posting.
type RadarScore struct {
	Message  int64 // row id
	Head     bool  // the newest version of its patch
	Score    float64
	Date     time.Time
	Key      string // subject key (internal/radar.TitleKey)
	Versions string // JSON: Message-IDs of the versions folded in, oldest first
	Signals  string // JSON: the signals that moved the score

	MessageID string
	Subject   string

	// Filled by reads.
	CVE string // the earliest CVE whose title is the subject, if any
}

// RadarWrite is one scoring step: rows to write, rows to delete, queue
// entries done. A scoring writes its rows in several steps; its last
// step clears the queue and sets the stamp, so a scoring cut short is
// done again whole.
type RadarWrite struct {
	Scores []RadarScore
	// All: the scoring scored every patch posting; the stored scores of
	// the messages not in Keep are deleted.
	All     bool
	Keep    []int64
	Delete  []int64
	Dequeue []int64
	Stamp   string // "" leaves the stamp as it is
}

// WriteRadarScores applies a scoring step in one transaction.
func (s *Store) WriteRadarScores(ctx context.Context, w *RadarWrite) error {
	var stale []int64
	if w.All {
		keep := make(map[int64]bool, len(w.Keep))
		for _, id := range w.Keep {
			keep[id] = true
		}
		rows, err := s.db.QueryContext(ctx, `SELECT message FROM radar_scores`)
		if err != nil {
			return radarErr(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: %w", err)
			}
			if !keep[id] {
				stale = append(stale, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	if err := w.apply(tx, stale); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (w *RadarWrite) apply(tx *Tx, stale []int64) error {
	for _, r := range w.Scores {
		if _, err := tx.exec(`INSERT OR REPLACE INTO radar_scores(message, head, score, date, key, message_id, subject, versions, signals) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Message, r.Head, r.Score, r.Date.Unix(), r.Key, r.MessageID, r.Subject, r.Versions, r.Signals); err != nil {
			return err
		}
	}
	for _, ids := range [][]int64{stale, w.Delete} {
		for _, id := range ids {
			if _, err := tx.exec(`DELETE FROM radar_scores WHERE message = ?`, id); err != nil {
				return err
			}
		}
	}
	for _, id := range w.Dequeue {
		if _, err := tx.exec(`DELETE FROM radar_queue WHERE message = ?`, id); err != nil {
			return err
		}
	}
	if w.Stamp == "" {
		return nil
	}
	err := tx.setMeta("radar_stamp", w.Stamp)
	return err
}

// RadarQuery selects stored scores. Zero fields do not filter.
type RadarQuery struct {
	List     string
	From, To time.Time // posting date in [From, To)
	MinScore float64
	NoCVE    bool // only patches no CVE names yet
	Limit    int  // 0: all
	Message  int64
}

// RadarScores returns the newest version of every scored patch matching
// q, highest score first (ties: newest first).
func (s *Store) RadarScores(ctx context.Context, q *RadarQuery) ([]RadarScore, error) {
	var where []string
	var args []any
	if q.Message != 0 {
		where = append(where, "r.message = ?")
		args = append(args, q.Message)
	} else {
		where = append(where, "r.head = 1")
	}
	if q.List != "" {
		where = append(where, "EXISTS (SELECT 1 FROM memberships ms JOIN lists l ON l.id = ms.list WHERE ms.message = r.message AND l.name = ?)")
		args = append(args, q.List)
	}
	if !q.From.IsZero() {
		where = append(where, "r.date >= ?")
		args = append(args, q.From.Unix())
	}
	if !q.To.IsZero() {
		where = append(where, "r.date < ?")
		args = append(args, q.To.Unix())
	}
	if q.MinScore > 0 {
		where = append(where, "r.score >= ?")
		args = append(args, q.MinScore)
	}
	cve := `coalesce((SELECT c.id FROM cves c WHERE c.norm_title = r.key AND r.key != '' ORDER BY c.published, c.id LIMIT 1), '')`
	query := `SELECT * FROM (SELECT r.message, r.head, r.score, r.date, r.key, r.versions, r.signals, r.message_id, r.subject, ` + cve + ` AS cve
		FROM radar_scores r WHERE ` + strings.Join(where, " AND ") + `)`
	if q.NoCVE {
		query += ` WHERE cve = ''`
	}
	// With a limit SQLite keeps the top rows as it reads; without one
	// its sorter copies every row (signals included) into a buffer it
	// grows again and again, which took most of the time of listing a
	// whole archive: the rows are sorted here instead.
	if q.Limit > 0 {
		query += ` ORDER BY score DESC, date DESC, message DESC`
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, radarErr(err)
	}
	defer rows.Close()
	var out []RadarScore
	for rows.Next() {
		var r RadarScore
		var date int64
		if err := rows.Scan(&r.Message, &r.Head, &r.Score, &date, &r.Key, &r.Versions, &r.Signals, &r.MessageID, &r.Subject, &r.CVE); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		r.Date = time.Unix(date, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if q.Limit <= 0 {
		slices.SortFunc(out, func(a, b RadarScore) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			if c := b.Date.Compare(a.Date); c != 0 {
				return c
			}
			return cmp.Compare(b.Message, a.Message)
		})
	}
	return out, nil
}

// RadarCVEDates returns, for every stored CVE, its title and publication
// date (the radar's history signals count the CVEs published before a
// posting).
func (s *Store) RadarCVEDates(ctx context.Context, fn func(id, title string, published time.Time)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, published FROM cve_summary ORDER BY id`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, title string
		var pub int64
		if err := rows.Scan(&id, &title, &pub); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		fn(id, title, time.Unix(pub, 0).UTC())
	}
	return rows.Err()
}

// radarErr turns the error of a store without the radar's tables into
// ErrNoRadar.
func radarErr(err error) error {
	if strings.Contains(err.Error(), "no such table: radar_") {
		return ErrNoRadar
	}
	return fmt.Errorf("store: %w", err)
}

// RadarCommits returns the commits of registered repositories linked to
// messages, by Message-ID (every id of a message), in
// commit-date order.
func (s *Store) RadarCommits(ctx context.Context) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT x.mid, c.sha FROM links l JOIN commits c ON c.id = l.commit_id
		JOIN mids x ON x.message = l.message ORDER BY c.commit_date, c.sha`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var mid, sha string
		if err := rows.Scan(&mid, &sha); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if !slices.Contains(out[mid], sha) {
			out[mid] = append(out[mid], sha)
		}
	}
	return out, rows.Err()
}

// RadarHeaderOf returns one message's header with its evidence, also
// for a message no longer on any list (Deleted); ErrNotFound when it
// has no evidence.
func (s *Store) RadarHeaderOf(ctx context.Context, id int64) (*RadarHeader, error) {
	h := &RadarHeader{}
	var date int64
	err := s.queryRow(ctx, `SELECT m.id, m.message_id, m.thread, m.subject, m.from_email, m.date, m.parent, m.deleted != 0, e.rules, e.data
		FROM messages m JOIN radar_evidence e ON e.message = m.id WHERE m.id = ?`, id).
		Scan(&h.ID, &h.MessageID, &h.Thread, &h.Subject, &h.From, &date, &h.Parent, &h.Deleted, &h.Rules, &h.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, radarErr(err)
	}
	h.Date = time.Unix(date, 0).UTC()
	return h, nil
}
