package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The commit index queue lists commits whose search document must be
// written (new commits, commits whose links changed), as index_queue does
// for messages: rows are added in the transaction that changes the commit
// or its links and removed once the index holds the document durably.
const commitQueueSchema = `
CREATE TABLE IF NOT EXISTS commit_index_queue (commit_id INTEGER PRIMARY KEY);
`

// EnqueueCommits queues commits (row ids) for (re)indexing.
func (t *Tx) EnqueueCommits(ids ...int64) error {
	for _, id := range ids {
		if _, err := t.exec(`INSERT OR IGNORE INTO commit_index_queue(commit_id) VALUES (?)`, id); err != nil {
			return err
		}
	}
	return nil
}

// EnqueueAllCommits queues every stored commit (a full reindex).
func (s *Store) EnqueueAllCommits(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO commit_index_queue(commit_id) SELECT id FROM commits`); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// QueuedCommits returns up to limit queued commit ids after the id after.
func (s *Store) QueuedCommits(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := s.query(ctx, `SELECT commit_id FROM commit_index_queue WHERE commit_id > ? ORDER BY commit_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return collectIDs(rows)
}

// CommitQueueLen counts queued commits.
func (s *Store) CommitQueueLen(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT count(*) FROM commit_index_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// DequeueCommits removes commits from the queue once they are indexed.
func (s *Store) DequeueCommits(ctx context.Context, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		q := `DELETE FROM commit_index_queue WHERE commit_id IN (?` + strings.Repeat(",?", n-1) + `)`
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// LinkKey is what a search document knows of one link: which message,
// in which role and grade.
type LinkKey struct {
	Message int64
	Role    string
	Grade   string
}

// CommitLinkKeys returns the links of a commit as the index sees them,
// sorted by message.
func (t *Tx) CommitLinkKeys(commit int64) ([]LinkKey, error) {
	st, err := t.stmt(`SELECT message, role, grade FROM links WHERE commit_id = ? ORDER BY message`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, commit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []LinkKey
	for rows.Next() {
		var k LinkKey
		if err := rows.Scan(&k.Message, &k.Role, &k.Grade); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// CommitByID loads a stored commit by row id with its trailers, fixes
// and repositories.
func (s *Store) CommitByID(ctx context.Context, id int64) (*CommitRow, error) {
	c, err := scanCommit(s.queryRow(ctx, `SELECT `+commitCols+` FROM commits c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: commit row %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: commit row %d: %w", id, err)
	}
	return c, s.commitDetails(ctx, c)
}

// CommitDoc is what the search document of a commit needs from the
// store (CommitDocs).
type CommitDoc struct {
	*CommitRow          // without Sketch, Trailers and Fixes
	Applied    bool     // has an applied link
	Linked     bool     // has a link of any role
	CVEs       []string // as CommitCVEs gives them
}

// CommitDocs loads the commits with these row ids for their search
// documents in one query (CommitByID, CommitLinks and CommitCVEs take
// five per commit), in the order of ids; ids not stored are left out.
func (s *Store) CommitDocs(ctx context.Context, ids []int64) ([]*CommitDoc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	js, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	rows, err := s.query(ctx, `SELECT c.id, c.sha, c.subject, c.author_name, c.author_email, c.author_date, c.body, c.patch_id, c.upstream, c.files,
			coalesce((SELECT group_concat(r.name, char(10)) FROM commit_repos cr JOIN repos r ON r.id = cr.repo WHERE cr.commit_id = c.id), ''),
			EXISTS (SELECT 1 FROM links l WHERE l.commit_id = c.id AND l.role = 'applied'),
			EXISTS (SELECT 1 FROM links l WHERE l.commit_id = c.id),
			coalesce((SELECT group_concat(cve, char(10)) FROM (SELECT cve FROM cve_commits WHERE sha = c.sha AND kind = 'fix'
				UNION SELECT cve FROM cve_backports WHERE fixed_sha = c.sha)), '')
		FROM json_each(?) q JOIN commits c ON c.id = q.value ORDER BY q.key`, string(js))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []*CommitDoc
	for rows.Next() {
		c := &CommitDoc{CommitRow: &CommitRow{}}
		var ad int64
		var files, repos, cves string
		if err := rows.Scan(&c.ID, &c.SHA, &c.Subject, &c.AuthorName, &c.AuthorEmail, &ad, &c.Body, &c.PatchID, &c.Upstream, &files,
			&repos, &c.Applied, &c.Linked, &cves); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		c.AuthorDate = fromUnix(ad)
		json.Unmarshal([]byte(files), &c.Files)
		if repos != "" {
			c.Repos = strings.Split(repos, "\n")
			sort.Strings(c.Repos)
		}
		if cves != "" {
			c.CVEs = strings.Split(cves, "\n")
			sort.Strings(c.CVEs)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MessageCommit is one commit a message is linked to, for the search
// document and the hits of the message.
type MessageCommit struct {
	SHA   string
	Role  string // RoleApplied or RoleEarlier
	Grade string
	Score float64
	Repos []string
}

// MessageCommits returns the commits linked to message row id, applied
// links first, best first.
func (s *Store) MessageCommits(ctx context.Context, message int64) ([]MessageCommit, error) {
	rows, err := s.query(ctx, `SELECT c.sha, l.role, l.grade, l.score,
			coalesce((SELECT group_concat(r.name, char(10)) FROM commit_repos cr JOIN repos r ON r.id = cr.repo WHERE cr.commit_id = c.id), '')
		FROM links l JOIN commits c ON c.id = l.commit_id
		WHERE l.message = ? ORDER BY l.role = 'applied' DESC, l.score DESC, c.sha`, message)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []MessageCommit
	for rows.Next() {
		var mc MessageCommit
		var repos string
		if err := rows.Scan(&mc.SHA, &mc.Role, &mc.Grade, &mc.Score, &repos); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if repos != "" {
			mc.Repos = strings.Split(repos, "\n")
			sort.Strings(mc.Repos)
		}
		out = append(out, mc)
	}
	return out, rows.Err()
}

// MessagesCommits is MessageCommits for many messages named by
// Message-ID, in one query: the commits of each id that has links, in
// MessageCommits' order. Ids without links are absent from the map.
func (s *Store) MessagesCommits(ctx context.Context, mids []string) (map[string][]MessageCommit, error) {
	if len(mids) == 0 {
		return nil, nil
	}
	ids, err := json.Marshal(mids)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	rows, err := s.query(ctx, `SELECT md.mid, c.sha, l.role, l.grade, l.score,
			coalesce((SELECT group_concat(r.name, char(10)) FROM commit_repos cr JOIN repos r ON r.id = cr.repo WHERE cr.commit_id = c.id), '')
		FROM mids md JOIN links l ON l.message = md.message JOIN commits c ON c.id = l.commit_id
		WHERE md.mid IN (SELECT value FROM json_each(?))
		ORDER BY md.mid, l.role = 'applied' DESC, l.score DESC, c.sha`, string(ids))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string][]MessageCommit{}
	for rows.Next() {
		var mid, repos string
		var mc MessageCommit
		if err := rows.Scan(&mid, &mc.SHA, &mc.Role, &mc.Grade, &mc.Score, &repos); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if repos != "" {
			mc.Repos = strings.Split(repos, "\n")
			sort.Strings(mc.Repos)
		}
		out[mid] = append(out[mid], mc)
	}
	return out, rows.Err()
}

// CommitPosting is one message a commit is linked to, for the hits of
// the commit.
type CommitPosting struct {
	MessageID string
	Subject   string
	Date      time.Time
	Role      string // RoleApplied or RoleEarlier
	Grade     string
	Score     float64
}

// CommitsPostings returns the messages linked to the commits named by
// full id (any case), in one query: for each commit that has links,
// applied links first, best first, then the latest message first (the
// order of CommitLinks). Commits without links, or not stored, are
// absent from the map, whose keys are the ids in lower case.
func (s *Store) CommitsPostings(ctx context.Context, shas []string) (map[string][]CommitPosting, error) {
	if len(shas) == 0 {
		return nil, nil
	}
	lower := make([]string, len(shas))
	for i, sha := range shas {
		lower[i] = strings.ToLower(sha)
	}
	ids, err := json.Marshal(lower)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	rows, err := s.query(ctx, `SELECT c.sha, m.message_id, m.subject, m.date, l.role, l.grade, l.score
		FROM commits c JOIN links l ON l.commit_id = c.id JOIN messages m ON m.id = l.message
		WHERE c.sha IN (SELECT value FROM json_each(?))
		ORDER BY c.sha, l.role = 'applied' DESC, l.score DESC, m.date DESC`, string(ids))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string][]CommitPosting{}
	for rows.Next() {
		var sha string
		var date int64
		var p CommitPosting
		if err := rows.Scan(&sha, &p.MessageID, &p.Subject, &date, &p.Role, &p.Grade, &p.Score); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		p.Date = fromUnix(date)
		out[sha] = append(out[sha], p)
	}
	return out, rows.Err()
}

// CommitCVEs returns the CVE ids whose record names sha as a fix commit
// or as the fix of a backport, sorted.
func (s *Store) CommitCVEs(ctx context.Context, sha string) ([]string, error) {
	return s.strings(ctx, `SELECT cve FROM cve_commits WHERE sha = ? AND kind = 'fix'
		UNION SELECT cve FROM cve_backports WHERE fixed_sha = ? ORDER BY 1`, sha, sha)
}

// EnqueueCVE queues the commits a CVE record names as fixes (and the
// fixes of its backports), and the messages linked to them as applied:
// their documents carry the CVE id (cve:).
func (t *Tx) EnqueueCVE(id string) error {
	const shas = `SELECT sha FROM cve_commits WHERE cve = ?1 AND kind = 'fix' UNION SELECT fixed_sha FROM cve_backports WHERE cve = ?1`
	if _, err := t.exec(`INSERT OR IGNORE INTO commit_index_queue(commit_id) SELECT id FROM commits WHERE sha IN (`+shas+`)`, id); err != nil {
		return err
	}
	_, err := t.exec(`INSERT OR IGNORE INTO index_queue(message) SELECT l.message FROM links l JOIN commits c ON c.id = l.commit_id
		WHERE l.role = 'applied' AND c.sha IN (`+shas+`)`, id)
	return err
}
