package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code repositories, their commits and the links between commits and
// messages (see internal/link), the Fixes:/revert/backport relations
// between commits, and CVE records (cves.go).
const linkSchema = `
CREATE TABLE IF NOT EXISTS repos (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	path TEXT NOT NULL,
	heads TEXT NOT NULL DEFAULT '{}',
	message_mark INTEGER NOT NULL DEFAULT 0,
	last_link INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS commits (
	id INTEGER PRIMARY KEY,
	sha TEXT NOT NULL UNIQUE,
	subject TEXT NOT NULL,
	norm_subject TEXT NOT NULL,
	author_name TEXT NOT NULL,
	author_email TEXT NOT NULL,
	author_date INTEGER NOT NULL,
	committer_name TEXT NOT NULL,
	committer_email TEXT NOT NULL,
	commit_date INTEGER NOT NULL,
	body TEXT NOT NULL,
	patch_id TEXT NOT NULL DEFAULT '',
	merge INTEGER NOT NULL DEFAULT 0,
	upstream TEXT NOT NULL DEFAULT '',
	revert INTEGER NOT NULL DEFAULT 0,
	reverts TEXT NOT NULL DEFAULT '',
	files TEXT NOT NULL DEFAULT '[]',
	sketch BLOB NOT NULL DEFAULT x''
);
CREATE INDEX IF NOT EXISTS commits_norm_subject ON commits(norm_subject);
CREATE INDEX IF NOT EXISTS commits_patch_id ON commits(patch_id) WHERE patch_id != '';
CREATE INDEX IF NOT EXISTS commits_upstream ON commits(upstream) WHERE upstream != '';
CREATE INDEX IF NOT EXISTS commits_reverts ON commits(reverts) WHERE reverts != '';
CREATE TABLE IF NOT EXISTS commit_repos (
	commit_id INTEGER NOT NULL,
	repo INTEGER NOT NULL,
	PRIMARY KEY (commit_id, repo)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS commit_repos_repo ON commit_repos(repo, commit_id);
CREATE TABLE IF NOT EXISTS commit_trailers (
	commit_id INTEGER NOT NULL,
	pos INTEGER NOT NULL,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	sha TEXT NOT NULL,
	message_id TEXT NOT NULL,
	PRIMARY KEY (commit_id, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS commit_trailers_mid ON commit_trailers(message_id) WHERE message_id != '';
CREATE TABLE IF NOT EXISTS fixes (
	commit_id INTEGER NOT NULL,
	target TEXT NOT NULL,
	target_sha TEXT NOT NULL,
	title TEXT NOT NULL,
	PRIMARY KEY (commit_id, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fixes_target_sha ON fixes(target_sha);
CREATE TABLE IF NOT EXISTS links (
	commit_id INTEGER NOT NULL,
	message INTEGER NOT NULL,
	role TEXT NOT NULL,
	grade TEXT NOT NULL,
	score REAL NOT NULL,
	evidence TEXT NOT NULL,
	PRIMARY KEY (commit_id, message)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_message ON links(message);
CREATE TABLE IF NOT EXISTS message_backports (
	message INTEGER PRIMARY KEY,
	upstream TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS message_backports_upstream ON message_backports(upstream);
CREATE INDEX IF NOT EXISTS patches_norm_subject ON patches(norm_subject);
CREATE INDEX IF NOT EXISTS patches_author_date ON patches(author, date);
` + cveSchema + replySchema

// Link roles and grades.
const (
	RoleApplied = "applied" // the posting the commit was made from
	RoleEarlier = "earlier" // an earlier version of that posting

	GradeExact  = "exact"  // a Link:/Message-ID: trailer names the message
	GradeStrong = "strong" // the posting's patch-id equals the commit's
	GradeFuzzy  = "fuzzy"  // scored on subject, author, files, dates and diff
)

// RepoRow is a registered code repository.
type RepoRow struct {
	ID   int64
	Name string
	Path string
	// Heads are the branch heads (ref → commit) seen by the last link run.
	Heads map[string]string
	// MessageMark is the largest message row id when the repo was last
	// linked: commits left unlinked are retried once newer messages exist.
	MessageMark int64
	LastLink    time.Time
	Commits     int64 // filled by Repos
}

// CommitTrailer is one trailer of a commit message.
type CommitTrailer struct {
	Key, Value  string
	Name, Email string // person trailers
	SHA         string // Fixes:
	MessageID   string // Link:, Message-ID:
}

// FixRow is a Fixes: trailer: the target as written, its full id when
// the repository knows it, and the title it quotes.
type FixRow struct {
	Target    string
	TargetSHA string
	Title     string
}

// CommitRow is a commit of a code repository.
type CommitRow struct {
	ID                            int64
	SHA                           string
	Subject, NormSubject          string
	AuthorName, AuthorEmail       string
	AuthorDate                    time.Time
	CommitterName, CommitterEmail string
	CommitDate                    time.Time
	Body                          string
	PatchID                       string
	Merge                         bool
	Upstream                      string // the mainline commit a backport names
	Revert                        bool
	Reverts                       string // the reverted commit, full when known
	Files                         []string
	// Sketch is a set of hashes of the changed lines (internal/link).
	Sketch   []uint64
	Trailers []CommitTrailer
	Fixes    []FixRow
	Repos    []string // names of the repositories holding it (reads only)
}

// Evidence is one reason for a link, as stored with it.
type Evidence struct {
	Kind   string  `json:"kind"`
	Detail string  `json:"detail"`
	Weight float64 `json:"weight"`
}

// LinkRow is a link between a commit and a message.
type LinkRow struct {
	Commit    int64
	Message   int64
	Role      string
	Grade     string
	Score     float64
	Evidence  []Evidence
	MessageID string // filled by reads
	SHA       string // filled by reads
}

// EnsureRepo registers (or re-points) the repository called name.
func (t *Tx) EnsureRepo(name, path string) (int64, error) {
	return t.upsertID(`INSERT INTO repos(name, path) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET path = excluded.path RETURNING id`, name, path)
}

// SetRepoState records the heads a link run read up to, the message
// mark and the time.
func (t *Tx) SetRepoState(repo int64, heads map[string]string, mark int64, when time.Time) error {
	h, _ := json.Marshal(heads)
	_, err := t.exec(`UPDATE repos SET heads = ?, message_mark = ?, last_link = ? WHERE id = ?`, string(h), mark, unix(when), repo)
	return err
}

// PutCommit stores a commit read from repo (replacing what was stored
// for the same id) and returns its row id.
func (t *Tx) PutCommit(repo int64, c *CommitRow) (int64, error) {
	files, _ := json.Marshal(nonNilStrings(c.Files))
	_, err := t.exec(`INSERT INTO commits(sha, subject, norm_subject, author_name, author_email, author_date, committer_name, committer_email, commit_date, body, patch_id, merge, upstream, revert, reverts, files, sketch)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(sha) DO UPDATE SET subject = excluded.subject, norm_subject = excluded.norm_subject, author_name = excluded.author_name,
		author_email = excluded.author_email, author_date = excluded.author_date, committer_name = excluded.committer_name,
		committer_email = excluded.committer_email, commit_date = excluded.commit_date, body = excluded.body, patch_id = excluded.patch_id,
		merge = excluded.merge, upstream = excluded.upstream, revert = excluded.revert, reverts = excluded.reverts, files = excluded.files, sketch = excluded.sketch`,
		c.SHA, c.Subject, c.NormSubject, c.AuthorName, c.AuthorEmail, unix(c.AuthorDate), c.CommitterName, c.CommitterEmail,
		unix(c.CommitDate), c.Body, c.PatchID, c.Merge, c.Upstream, c.Revert, c.Reverts, string(files), encodeSketch(c.Sketch))
	if err != nil {
		return 0, err
	}
	row, err := t.queryRow(`SELECT id FROM commits WHERE sha = ?`, c.SHA)
	if err != nil {
		return 0, err
	}
	if err := row.Scan(&c.ID); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	if _, err := t.exec(`INSERT OR IGNORE INTO commit_repos(commit_id, repo) VALUES (?, ?)`, c.ID, repo); err != nil {
		return 0, err
	}
	for _, q := range []string{`DELETE FROM commit_trailers WHERE commit_id = ?`, `DELETE FROM fixes WHERE commit_id = ?`} {
		if _, err := t.exec(q, c.ID); err != nil {
			return 0, err
		}
	}
	for i, tr := range c.Trailers {
		if _, err := t.exec(`INSERT INTO commit_trailers(commit_id, pos, key, value, name, email, sha, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, i, tr.Key, tr.Value, tr.Name, tr.Email, tr.SHA, tr.MessageID); err != nil {
			return 0, err
		}
	}
	for _, f := range c.Fixes {
		if _, err := t.exec(`INSERT OR REPLACE INTO fixes(commit_id, target, target_sha, title) VALUES (?, ?, ?, ?)`, c.ID, f.Target, f.TargetSHA, f.Title); err != nil {
			return 0, err
		}
	}
	return c.ID, nil
}

// SetLinks replaces the links of a commit.
func (t *Tx) SetLinks(commit int64, links []LinkRow) error {
	if _, err := t.exec(`DELETE FROM links WHERE commit_id = ?`, commit); err != nil {
		return err
	}
	for _, l := range links {
		ev, _ := json.Marshal(l.Evidence)
		if _, err := t.exec(`INSERT OR REPLACE INTO links(commit_id, message, role, grade, score, evidence) VALUES (?, ?, ?, ?, ?, ?)`,
			commit, l.Message, l.Role, l.Grade, l.Score, string(ev)); err != nil {
			return err
		}
	}
	return nil
}

// SetMessageBackport records that a posted patch is a backport of the
// mainline commit upstream ("commit <sha> upstream." in its body).
func (t *Tx) SetMessageBackport(message int64, upstream string) error {
	_, err := t.exec(`INSERT OR REPLACE INTO message_backports(message, upstream) VALUES (?, ?)`, message, upstream)
	return err
}

// SetMark stores a named progress mark of the linker (in the meta table).
func (t *Tx) SetMark(name string, v int64) error {
	_, err := t.exec(`INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, "link."+name, fmt.Sprint(v))
	return err
}

// Mark reads a mark stored by SetMark (0 when unset).
func (s *Store) Mark(ctx context.Context, name string) (int64, error) {
	var v int64
	err := s.queryRow(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?`, "link."+name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return v, nil
}

// Repos lists the registered repositories with their commit counts.
func (s *Store) Repos(ctx context.Context) ([]*RepoRow, error) {
	rows, err := s.query(ctx, `SELECT id, name, path, heads, message_mark, last_link, (SELECT count(*) FROM commit_repos cr WHERE cr.repo = r.id) FROM repos r ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []*RepoRow
	for rows.Next() {
		var r RepoRow
		var heads string
		var last int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Path, &heads, &r.MessageMark, &last, &r.Commits); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		r.LastLink = fromUnix(last)
		if err := json.Unmarshal([]byte(heads), &r.Heads); err != nil {
			return nil, fmt.Errorf("store: repo %s: heads: %w", r.Name, err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// MaxMessage returns the largest message row id (0 for an empty store).
func (s *Store) MaxMessage(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

const commitCols = `c.id, c.sha, c.subject, c.norm_subject, c.author_name, c.author_email, c.author_date, c.committer_name, c.committer_email, c.commit_date, c.body, c.patch_id, c.merge, c.upstream, c.revert, c.reverts, c.files, c.sketch`

func scanCommit(sc interface{ Scan(...any) error }) (*CommitRow, error) {
	var c CommitRow
	var ad, cd int64
	var files string
	var sketch []byte
	if err := sc.Scan(&c.ID, &c.SHA, &c.Subject, &c.NormSubject, &c.AuthorName, &c.AuthorEmail, &ad, &c.CommitterName, &c.CommitterEmail,
		&cd, &c.Body, &c.PatchID, &c.Merge, &c.Upstream, &c.Revert, &c.Reverts, &files, &sketch); err != nil {
		return nil, err
	}
	c.AuthorDate, c.CommitDate = fromUnix(ad), fromUnix(cd)
	json.Unmarshal([]byte(files), &c.Files)
	c.Sketch = decodeSketch(sketch)
	return &c, nil
}

// ErrAmbiguous is returned when an abbreviated commit id names several
// stored commits.
var ErrAmbiguous = errors.New("store: ambiguous commit id")

// Commit loads a stored commit by full or abbreviated (4+ hex digits) id,
// with its trailers, fixes and repositories.
func (s *Store) Commit(ctx context.Context, sha string) (*CommitRow, error) {
	sha = strings.ToLower(strings.TrimSpace(sha))
	if len(sha) < 4 || strings.Trim(sha, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("%w: %q is not a commit id", ErrNotFound, sha)
	}
	rows, err := s.query(ctx, `SELECT `+commitCols+` FROM commits c WHERE c.sha >= ? AND c.sha < ? ORDER BY c.sha LIMIT 2`, sha, sha+"g")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var found []*CommitRow
	for rows.Next() {
		c, err := scanCommit(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		found = append(found, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: commit %s", ErrNotFound, sha)
	case 2:
		return nil, fmt.Errorf("%w: %s", ErrAmbiguous, sha)
	}
	return found[0], s.commitDetails(ctx, found[0])
}

func (s *Store) commitDetails(ctx context.Context, c *CommitRow) error {
	rows, err := s.query(ctx, `SELECT key, value, name, email, sha, message_id FROM commit_trailers WHERE commit_id = ? ORDER BY pos`, c.ID)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for rows.Next() {
		var t CommitTrailer
		if err := rows.Scan(&t.Key, &t.Value, &t.Name, &t.Email, &t.SHA, &t.MessageID); err != nil {
			rows.Close()
			return fmt.Errorf("store: %w", err)
		}
		c.Trailers = append(c.Trailers, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	rows, err = s.query(ctx, `SELECT target, target_sha, title FROM fixes WHERE commit_id = ? ORDER BY target`, c.ID)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for rows.Next() {
		var f FixRow
		if err := rows.Scan(&f.Target, &f.TargetSHA, &f.Title); err != nil {
			rows.Close()
			return fmt.Errorf("store: %w", err)
		}
		c.Fixes = append(c.Fixes, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	c.Repos, err = s.strings(ctx, `SELECT r.name FROM commit_repos cr JOIN repos r ON r.id = cr.repo WHERE cr.commit_id = ? ORDER BY r.name`, c.ID)
	return err
}

// CommitsWhere lists commits selected by one of the relation queries:
// "upstream" (backports of sha), "reverts" (reverts of sha), "fixes"
// (commits whose Fixes: names sha), "patch_id" (commits with this
// patch-id), "subject" (commits with this normalised subject).
func (s *Store) CommitsWhere(ctx context.Context, rel, v string) ([]*CommitRow, error) {
	var q string
	switch rel {
	case "upstream", "reverts", "patch_id":
		q = `SELECT ` + commitCols + ` FROM commits c WHERE c.` + rel + ` = ? ORDER BY c.commit_date`
	case "subject":
		q = `SELECT ` + commitCols + ` FROM commits c WHERE c.norm_subject = ? ORDER BY c.commit_date`
	case "fixes":
		q = `SELECT ` + commitCols + ` FROM fixes f JOIN commits c ON c.id = f.commit_id WHERE f.target_sha = ? ORDER BY c.commit_date`
	default:
		return nil, fmt.Errorf("store: unknown commit relation %q", rel)
	}
	return s.commits(ctx, q, v)
}

// RepoCommits returns the commits of repo (all repositories when 0);
// with unlinked, only those that have no applied link.
func (s *Store) RepoCommits(ctx context.Context, repo int64, unlinked bool) ([]*CommitRow, error) {
	q := `SELECT ` + commitCols + ` FROM commits c WHERE (? = 0 OR c.id IN (SELECT commit_id FROM commit_repos WHERE repo = ?))`
	if unlinked {
		q += ` AND NOT EXISTS (SELECT 1 FROM links l WHERE l.commit_id = c.id AND l.role = 'applied')`
	}
	out, err := s.commits(ctx, q+` ORDER BY c.id`, repo, repo)
	if err != nil {
		return nil, err
	}
	for _, c := range out {
		if err := s.commitDetails(ctx, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) commits(ctx context.Context, q string, args ...any) ([]*CommitRow, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []*CommitRow
	for rows.Next() {
		c, err := scanCommit(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CommitLinks returns the links of a commit, applied links first, best
// score first.
func (s *Store) CommitLinks(ctx context.Context, commit int64) ([]LinkRow, error) {
	return s.links(ctx, `l.commit_id = ?`, commit)
}

// MessageLinks returns the links of the message with row id to commits.
func (s *Store) MessageLinks(ctx context.Context, message int64) ([]LinkRow, error) {
	return s.links(ctx, `l.message = ?`, message)
}

func (s *Store) links(ctx context.Context, where string, arg any) ([]LinkRow, error) {
	rows, err := s.query(ctx, `SELECT l.commit_id, l.message, l.role, l.grade, l.score, l.evidence, m.message_id, c.sha
		FROM links l JOIN messages m ON m.id = l.message JOIN commits c ON c.id = l.commit_id
		WHERE `+where+` ORDER BY l.role = 'applied' DESC, l.score DESC, m.date DESC`, arg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []LinkRow
	for rows.Next() {
		var l LinkRow
		var ev string
		if err := rows.Scan(&l.Commit, &l.Message, &l.Role, &l.Grade, &l.Score, &ev, &l.MessageID, &l.SHA); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		json.Unmarshal([]byte(ev), &l.Evidence)
		out = append(out, l)
	}
	return out, rows.Err()
}

// MessageBackports returns the posted patches that say they are
// backports of the mainline commit upstream.
func (s *Store) MessageBackports(ctx context.Context, upstream string) ([]int64, error) {
	rows, err := s.query(ctx, `SELECT message FROM message_backports WHERE upstream = ? ORDER BY message`, upstream)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return collectIDs(rows)
}

// BackportOf returns the mainline commit a posted patch says it
// backports, "" when it says none.
func (s *Store) BackportOf(ctx context.Context, message int64) (string, error) {
	var up string
	err := s.queryRow(ctx, `SELECT upstream FROM message_backports WHERE message = ?`, message).Scan(&up)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return up, nil
}

func encodeSketch(s []uint64) []byte {
	b := make([]byte, 8*len(s))
	for i, v := range s {
		binary.BigEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func decodeSketch(b []byte) []uint64 {
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
