package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

const patchSchema = `
CREATE TABLE IF NOT EXISTS patches (
	message INTEGER PRIMARY KEY,
	series INTEGER NOT NULL DEFAULT 0,
	counter INTEGER NOT NULL,
	total INTEGER NOT NULL,
	version INTEGER NOT NULL,
	cover INTEGER NOT NULL,
	norm_subject TEXT NOT NULL,
	author TEXT NOT NULL,
	change_id TEXT NOT NULL DEFAULT '',
	date INTEGER NOT NULL,
	parent TEXT NOT NULL DEFAULT '',
	files TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS patches_series ON patches(series, counter);
CREATE TABLE IF NOT EXISTS patch_ids (
	patch_id TEXT NOT NULL,
	message INTEGER NOT NULL,
	PRIMARY KEY (patch_id, message)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS patch_ids_message ON patch_ids(message);
CREATE TABLE IF NOT EXISTS series (
	id INTEGER PRIMARY KEY,
	cover INTEGER NOT NULL DEFAULT 0,
	author TEXT NOT NULL,
	version INTEGER NOT NULL,
	total INTEGER NOT NULL,
	norm_subject TEXT NOT NULL,
	change_id TEXT NOT NULL DEFAULT '',
	first_date INTEGER NOT NULL,
	chain INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS series_subject ON series(norm_subject, author);
CREATE INDEX IF NOT EXISTS series_markers ON series(author, version, total, first_date);
CREATE INDEX IF NOT EXISTS series_change ON series(change_id);
CREATE INDEX IF NOT EXISTS series_chain ON series(chain);
CREATE TABLE IF NOT EXISTS trailers (
	id INTEGER PRIMARY KEY,
	message INTEGER NOT NULL,
	target TEXT NOT NULL,
	kind TEXT NOT NULL,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	name TEXT NOT NULL,
	email TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trailers_target ON trailers(target);
CREATE INDEX IF NOT EXISTS trailers_message ON trailers(message);
`

// PatchRow is what the store keeps of a patch mail (or cover letter).
type PatchRow struct {
	Message     int64
	Series      int64
	Counter     int
	Total       int
	Version     int
	Cover       bool
	NormSubject string // lowercased subject without tags
	Author      string // lowercased From address
	ChangeID    string
	Date        time.Time
	Parent      string // Message-ID it replies to
	Files       []string
	PatchIDs    []string
}

// TrailerRow is a trailer given in a message for a target patch (by
// Message-ID, so that a review arriving before its patch still counts).
type TrailerRow struct {
	Message int64  // where it was given
	Target  string // Message-ID of the patch or cover it applies to
	Kind    string // "patch" (in the patch itself) or "reply" (a follow-up)
	Key     string
	Value   string
	Name    string
	Email   string
}

// SeriesRow is a posted series: a cover letter and its patches, or one
// patch alone.
type SeriesRow struct {
	ID          int64
	Cover       int64 // message row of the cover letter, 0 when none
	Author      string
	Version     int
	Total       int
	NormSubject string
	ChangeID    string
	FirstDate   time.Time
	Chain       int64 // id of the first series of its version chain
}

// AddPatch stores a patch row with its patch-ids.
func (t *Tx) AddPatch(p *PatchRow) error {
	files, _ := json.Marshal(p.Files)
	if _, err := t.exec(`INSERT OR REPLACE INTO patches(message, series, counter, total, version, cover, norm_subject, author, change_id, date, parent, files)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.Message, p.Series, p.Counter, p.Total, p.Version, p.Cover,
		p.NormSubject, p.Author, p.ChangeID, unix(p.Date), p.Parent, string(files)); err != nil {
		return err
	}
	for _, id := range p.PatchIDs {
		if _, err := t.exec(`INSERT OR IGNORE INTO patch_ids(patch_id, message) VALUES (?, ?)`, id, p.Message); err != nil {
			return err
		}
	}
	return nil
}

// AddTrailer stores a trailer.
func (t *Tx) AddTrailer(tr *TrailerRow) error {
	_, err := t.exec(`INSERT INTO trailers(message, target, kind, key, value, name, email) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tr.Message, tr.Target, tr.Kind, tr.Key, tr.Value, tr.Name, tr.Email)
	return err
}

// NewSeries creates a series and returns its id. A series with no chain
// starts its own.
func (t *Tx) NewSeries(s *SeriesRow) (int64, error) {
	r, err := t.exec(`INSERT INTO series(cover, author, version, total, norm_subject, change_id, first_date, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.Cover, s.Author, s.Version, s.Total, s.NormSubject, s.ChangeID, unix(s.FirstDate), s.Chain)
	if err != nil {
		return 0, err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	if s.Chain == 0 {
		if _, err := t.exec(`UPDATE series SET chain = id WHERE id = ?`, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// UpdateSeries rewrites a series row (cover found later, chain joined).
func (t *Tx) UpdateSeries(s *SeriesRow) error {
	_, err := t.exec(`UPDATE series SET cover = ?, norm_subject = ?, change_id = ?, first_date = ?, chain = ? WHERE id = ?`,
		s.Cover, s.NormSubject, s.ChangeID, unix(s.FirstDate), s.Chain, s.ID)
	return err
}

// SetChain moves every series of chain from into chain to.
func (t *Tx) SetChain(from, to int64) error {
	_, err := t.exec(`UPDATE series SET chain = ? WHERE chain = ?`, to, from)
	return err
}

// ChainTopVersion is the highest version among the series of chain
// posted no later than date (0 for none).
func (t *Tx) ChainTopVersion(chain int64, date time.Time) (int, error) {
	row, err := t.queryRow(`SELECT coalesce(max(version), 0) FROM series WHERE chain = ? AND first_date <= ?`, chain, date.Unix())
	if err != nil {
		return 0, err
	}
	var v int
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return v, nil
}

// SeriesByID loads one series inside the transaction.
func (t *Tx) SeriesByID(id int64) (*SeriesRow, error) {
	row, err := t.queryRow(`SELECT `+seriesCols+` FROM series WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	return scanSeries(row)
}

// PatchByMID returns the patch row of the message named by mid, or nil.
func (t *Tx) PatchByMID(mid string) (*PatchRow, error) {
	row, err := t.queryRow(`SELECT `+patchCols+` FROM patches p JOIN mids m ON m.message = p.message WHERE m.mid = ?`, mid)
	if err != nil {
		return nil, err
	}
	p, err := scanPatch(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// SeriesCandidates returns the series by author with this version and
// total whose first message was posted within window of date: Patchwork's
// markers for parts of one series that are not threaded together.
func (t *Tx) SeriesCandidates(author string, version, total int, date time.Time, window time.Duration) ([]*SeriesRow, error) {
	return t.seriesQuery(`SELECT `+seriesCols+` FROM series WHERE author = ? AND version = ? AND total = ? AND first_date BETWEEN ? AND ? ORDER BY first_date DESC`,
		author, version, total, date.Add(-window).Unix(), date.Add(window).Unix())
}

// HasPart reports whether series already has a patch numbered counter.
func (t *Tx) HasPart(series int64, counter int) (bool, error) {
	row, err := t.queryRow(`SELECT count(*) FROM patches WHERE series = ? AND counter = ?`, series, counter)
	if err != nil {
		return false, err
	}
	var n int
	if err := row.Scan(&n); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return n > 0, nil
}

// EarlierVersions returns series that may be earlier versions: same
// change-id, or same normalised subject and author, posted before date.
func (t *Tx) EarlierVersions(changeID, normSubject, author string, date time.Time) ([]*SeriesRow, error) {
	if changeID != "" {
		out, err := t.seriesQuery(`SELECT `+seriesCols+` FROM series WHERE change_id = ? AND first_date <= ? ORDER BY first_date DESC LIMIT 20`, changeID, date.Unix())
		if err != nil || len(out) > 0 {
			return out, err
		}
	}
	return t.seriesQuery(`SELECT `+seriesCols+` FROM series WHERE norm_subject = ? AND author = ? AND first_date <= ? ORDER BY first_date DESC LIMIT 20`, normSubject, author, date.Unix())
}

// SeriesSharingPatchIDs returns series (other than self) holding a patch
// with one of ids, posted no later than date.
func (t *Tx) SeriesSharingPatchIDs(ids []string, self int64, date time.Time) ([]*SeriesRow, error) {
	var out []*SeriesRow
	seen := map[int64]bool{self: true}
	for _, id := range ids {
		rows, err := t.seriesQuery(`SELECT `+prefixCols("s.", seriesCols)+` FROM patch_ids pi JOIN patches p ON p.message = pi.message JOIN series s ON s.id = p.series
			WHERE pi.patch_id = ? AND s.first_date <= ? ORDER BY s.first_date DESC LIMIT 5`, id, date.Unix())
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func (t *Tx) seriesQuery(q string, args ...any) ([]*SeriesRow, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	return collectSeries(rows)
}

const seriesCols = `id, cover, author, version, total, norm_subject, change_id, first_date, chain`
const patchCols = `p.message, p.series, p.counter, p.total, p.version, p.cover, p.norm_subject, p.author, p.change_id, p.date, p.parent, p.files`

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = prefix + parts[i]
	}
	return strings.Join(parts, ", ")
}

func scanSeries(sc interface{ Scan(...any) error }) (*SeriesRow, error) {
	var s SeriesRow
	var d int64
	if err := sc.Scan(&s.ID, &s.Cover, &s.Author, &s.Version, &s.Total, &s.NormSubject, &s.ChangeID, &d, &s.Chain); err != nil {
		return nil, err
	}
	s.FirstDate = fromUnix(d)
	return &s, nil
}

func collectSeries(rows *sql.Rows) ([]*SeriesRow, error) {
	var out []*SeriesRow
	for rows.Next() {
		s, err := scanSeries(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func scanPatch(sc interface{ Scan(...any) error }) (*PatchRow, error) {
	var p PatchRow
	var d int64
	var files string
	if err := sc.Scan(&p.Message, &p.Series, &p.Counter, &p.Total, &p.Version, &p.Cover, &p.NormSubject, &p.Author, &p.ChangeID, &d, &p.Parent, &files); err != nil {
		return nil, err
	}
	p.Date = fromUnix(d)
	json.Unmarshal([]byte(files), &p.Files)
	return &p, nil
}

// Patch returns the patch row of message row id, or ErrNotFound.
func (s *Store) Patch(ctx context.Context, id int64) (*PatchRow, error) {
	p, err := scanPatch(s.queryRow(ctx, `SELECT `+patchCols+` FROM patches p WHERE p.message = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no patch in message %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	p.PatchIDs, err = s.strings(ctx, `SELECT patch_id FROM patch_ids WHERE message = ? ORDER BY patch_id`, id)
	return p, err
}

// Series loads one series.
func (s *Store) Series(ctx context.Context, id int64) (*SeriesRow, error) {
	r, err := scanSeries(s.queryRow(ctx, `SELECT `+seriesCols+` FROM series WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: series %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return r, nil
}

// SeriesParts returns the patches of a series by counter (cover first).
func (s *Store) SeriesParts(ctx context.Context, id int64) ([]*PatchRow, error) {
	rows, err := s.query(ctx, `SELECT `+patchCols+` FROM patches p WHERE p.series = ? ORDER BY p.counter, p.date`, id)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []*PatchRow
	for rows.Next() {
		p, err := scanPatch(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, p := range out {
		if p.PatchIDs, err = s.strings(ctx, `SELECT patch_id FROM patch_ids WHERE message = ? ORDER BY patch_id`, p.Message); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Chain returns every series of a version chain, oldest first.
func (s *Store) Chain(ctx context.Context, chain int64) ([]*SeriesRow, error) {
	rows, err := s.query(ctx, `SELECT `+seriesCols+` FROM series WHERE chain = ? ORDER BY version, first_date`, chain)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	return collectSeries(rows)
}

// Trailers returns the trailers given for any of the Message-IDs targets.
func (s *Store) Trailers(ctx context.Context, targets []string) ([]TrailerRow, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	q := `SELECT message, target, kind, key, value, name, email FROM trailers WHERE target IN (?` + strings.Repeat(",?", len(targets)-1) + `) ORDER BY id`
	args := make([]any, len(targets))
	for i, t := range targets {
		args[i] = t
	}
	rows, err := s.db.QueryContext(ctx, q, args...) // an IN list of varying length: not prepared
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []TrailerRow
	for rows.Next() {
		var t TrailerRow
		if err := rows.Scan(&t.Message, &t.Target, &t.Kind, &t.Key, &t.Value, &t.Name, &t.Email); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// PatchCounts summarises the patch analysis.
type PatchCounts struct {
	PatchMails    int64 `json:"patch_mails"`
	CoverLetters  int64 `json:"cover_letters"`
	Series        int64 `json:"series"`
	MultiSeries   int64 `json:"multi_patch_series"`
	Complete      int64 `json:"complete_series"`
	VersionChains int64 `json:"version_chains"` // chains with at least two versions
	PatchIDs      int64 `json:"patch_ids"`
	Trailers      int64 `json:"trailers"`
	ReplyTrailers int64 `json:"reply_trailers"`
}

// PatchCounts counts patch mails, series and version chains.
func (s *Store) PatchCounts(ctx context.Context) (*PatchCounts, error) {
	var c PatchCounts
	q := []struct {
		dst *int64
		sql string
	}{
		{&c.PatchMails, `SELECT count(*) FROM patches WHERE cover = 0`},
		{&c.CoverLetters, `SELECT count(*) FROM patches WHERE cover = 1`},
		{&c.Series, `SELECT count(*) FROM series`},
		{&c.MultiSeries, `SELECT count(*) FROM series WHERE total > 1`},
		{&c.Complete, `SELECT count(*) FROM series s WHERE s.total > 1 AND (SELECT count(DISTINCT counter) FROM patches p WHERE p.series = s.id AND p.counter BETWEEN 1 AND s.total) = s.total`},
		{&c.VersionChains, `SELECT count(*) FROM (SELECT chain FROM series GROUP BY chain HAVING count(DISTINCT version) > 1)`},
		{&c.PatchIDs, `SELECT count(DISTINCT patch_id) FROM patch_ids`},
		{&c.Trailers, `SELECT count(*) FROM trailers`},
		{&c.ReplyTrailers, `SELECT count(*) FROM trailers WHERE kind = 'reply'`},
	}
	for _, x := range q {
		if err := s.queryRow(ctx, x.sql).Scan(x.dst); err != nil {
			return nil, fmt.Errorf("store: patch counts: %w", err)
		}
	}
	return &c, nil
}
