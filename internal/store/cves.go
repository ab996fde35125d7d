package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CVE records of the kernel vulns repository (REFERENCE §6), kept so a
// trace can start from a CVE id and so a commit shows its CVEs.
const cveSchema = `
CREATE TABLE IF NOT EXISTS cves (
	id TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	title TEXT NOT NULL,
	norm_title TEXT NOT NULL,
	description TEXT NOT NULL,
	severity TEXT NOT NULL,
	cvss REAL NOT NULL,
	vector TEXT NOT NULL,
	published INTEGER NOT NULL,
	updated INTEGER NOT NULL,
	files TEXT NOT NULL,
	refs TEXT NOT NULL,
	path TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cves_norm_title ON cves(norm_title);
CREATE TABLE IF NOT EXISTS cve_commits (
	cve TEXT NOT NULL,
	kind TEXT NOT NULL,
	sha TEXT NOT NULL,
	PRIMARY KEY (cve, kind, sha)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cve_commits_sha ON cve_commits(sha);
CREATE TABLE IF NOT EXISTS cve_backports (
	cve TEXT NOT NULL,
	pos INTEGER NOT NULL,
	introduced_version TEXT NOT NULL,
	introduced_sha TEXT NOT NULL,
	fixed_version TEXT NOT NULL,
	fixed_sha TEXT NOT NULL,
	PRIMARY KEY (cve, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cve_backports_fixed ON cve_backports(fixed_sha);
-- What listings read of every CVE, one row each: a cves row holds the
-- description and spills into overflow pages, so a scan of cves reads
-- the whole table. fixes is the fix commits separated by spaces, dyad
-- the .dyad lines "iv:isha:fv:fsha" separated by newlines ("" = 0).
CREATE TABLE IF NOT EXISTS cve_summary (
	id TEXT PRIMARY KEY,
	title TEXT NOT NULL,
	norm_title TEXT NOT NULL,
	severity TEXT NOT NULL,
	cvss REAL NOT NULL,
	published INTEGER NOT NULL,
	files TEXT NOT NULL,
	fixes TEXT NOT NULL,
	dyad TEXT NOT NULL
);
`

// fillCVESummary fills cve_summary for the CVEs stored before it
// existed; it is called when the table is created.
func fillCVESummary(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `INSERT OR IGNORE INTO cve_summary(id, title, norm_title, severity, cvss, published, files, fixes, dyad)
		SELECT id, title, norm_title, severity, cvss, published, files,
			coalesce((SELECT group_concat(sha, ' ') FROM (SELECT sha FROM cve_commits WHERE cve = c.id AND kind = 'fix' ORDER BY sha)), ''),
			coalesce((SELECT group_concat(introduced_version || ':' || introduced_sha || ':' || fixed_version || ':' || fixed_sha, char(10))
				FROM (SELECT * FROM cve_backports WHERE cve = c.id ORDER BY pos)), '')
		FROM cves c`)
	if err != nil {
		return fmt.Errorf("store: fill cve_summary: %w", err)
	}
	return nil
}

// CVEBackport is one line of a CVE's .dyad: the fix on one branch.
type CVEBackport struct {
	IntroducedVersion, IntroducedSHA string
	FixedVersion, FixedSHA           string
}

// CVERow is a stored CVE record.
type CVERow struct {
	ID             string
	Fingerprint    string
	Title          string
	NormTitle      string // the title as a patch subject key (patch.Subject.NormalizedKey)
	Description    string
	Severity       string
	CVSS           float64
	Vector         string
	Published      time.Time
	Updated        time.Time
	Files          []string
	References     []string
	Path           string
	FixSHAs        []string
	IntroducedSHAs []string
	Backports      []CVEBackport
}

// PutCVE stores (or replaces) a CVE record.
func (t *Tx) PutCVE(c *CVERow) error {
	files, _ := json.Marshal(nonNilStrings(c.Files))
	refs, _ := json.Marshal(nonNilStrings(c.References))
	if _, err := t.exec(`INSERT OR REPLACE INTO cves(id, fingerprint, title, norm_title, description, severity, cvss, vector, published, updated, files, refs, path)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Fingerprint, c.Title, c.NormTitle, c.Description, c.Severity, c.CVSS, c.Vector,
		unix(c.Published), unix(c.Updated), string(files), string(refs), c.Path); err != nil {
		return err
	}
	var dyad []string
	for _, b := range c.Backports {
		dyad = append(dyad, b.IntroducedVersion+":"+b.IntroducedSHA+":"+b.FixedVersion+":"+b.FixedSHA)
	}
	fixes := slices.Clone(c.FixSHAs)
	slices.Sort(fixes)
	if _, err := t.exec(`INSERT OR REPLACE INTO cve_summary(id, title, norm_title, severity, cvss, published, files, fixes, dyad) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Title, c.NormTitle, c.Severity, c.CVSS, unix(c.Published), string(files), strings.Join(fixes, " "), strings.Join(dyad, "\n")); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM cve_commits WHERE cve = ?`, `DELETE FROM cve_backports WHERE cve = ?`} {
		if _, err := t.exec(q, c.ID); err != nil {
			return err
		}
	}
	for kind, shas := range map[string][]string{"fix": c.FixSHAs, "introduced": c.IntroducedSHAs} {
		for _, sha := range shas {
			if _, err := t.exec(`INSERT OR IGNORE INTO cve_commits(cve, kind, sha) VALUES (?, ?, ?)`, c.ID, kind, sha); err != nil {
				return err
			}
		}
	}
	for i, b := range c.Backports {
		if _, err := t.exec(`INSERT INTO cve_backports(cve, pos, introduced_version, introduced_sha, fixed_version, fixed_sha) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, i, b.IntroducedVersion, b.IntroducedSHA, b.FixedVersion, b.FixedSHA); err != nil {
			return err
		}
	}
	return nil
}

// CVEFingerprints returns the fingerprint of every stored CVE.
func (s *Store) CVEFingerprints(ctx context.Context) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT id, fingerprint FROM cves`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, fp string
		if err := rows.Scan(&id, &fp); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = fp
	}
	return out, rows.Err()
}

// CVEState is what an incremental CVE import compares with a record.
type CVEState struct {
	Fingerprint string
	Published   time.Time
}

// CVEStates returns the fingerprint and publication date of every
// stored CVE.
func (s *Store) CVEStates(ctx context.Context) (map[string]CVEState, error) {
	rows, err := s.query(ctx, `SELECT id, fingerprint, published FROM cves`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]CVEState{}
	for rows.Next() {
		var id, fp string
		var pub int64
		if err := rows.Scan(&id, &fp, &pub); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = CVEState{Fingerprint: fp, Published: fromUnix(pub)}
	}
	return out, rows.Err()
}

// CVE loads a stored CVE record by id.
func (s *Store) CVE(ctx context.Context, id string) (*CVERow, error) {
	var c CVERow
	var pub, upd int64
	var files, refs string
	err := s.queryRow(ctx, `SELECT id, fingerprint, title, norm_title, description, severity, cvss, vector, published, updated, files, refs, path FROM cves WHERE id = ?`, id).
		Scan(&c.ID, &c.Fingerprint, &c.Title, &c.NormTitle, &c.Description, &c.Severity, &c.CVSS, &c.Vector, &pub, &upd, &files, &refs, &c.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	c.Published, c.Updated = fromUnix(pub), fromUnix(upd)
	json.Unmarshal([]byte(files), &c.Files)
	json.Unmarshal([]byte(refs), &c.References)
	if c.FixSHAs, err = s.strings(ctx, `SELECT sha FROM cve_commits WHERE cve = ? AND kind = 'fix' ORDER BY sha`, id); err != nil {
		return nil, err
	}
	if c.IntroducedSHAs, err = s.strings(ctx, `SELECT sha FROM cve_commits WHERE cve = ? AND kind = 'introduced' ORDER BY sha`, id); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT introduced_version, introduced_sha, fixed_version, fixed_sha FROM cve_backports WHERE cve = ? ORDER BY pos`, id)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b CVEBackport
		if err := rows.Scan(&b.IntroducedVersion, &b.IntroducedSHA, &b.FixedVersion, &b.FixedSHA); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		c.Backports = append(c.Backports, b)
	}
	return &c, rows.Err()
}

// CVEsOfCommit returns the ids of the CVEs naming sha as a fix, an
// introducing commit or a backport of the fix, with how they name it
// ("fix", "introduced", "backport").
func (s *Store) CVEsOfCommit(ctx context.Context, sha string) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT cve, kind FROM cve_commits WHERE sha = ?
		UNION SELECT cve, 'backport' FROM cve_backports WHERE fixed_sha = ? AND cve NOT IN (SELECT cve FROM cve_commits WHERE sha = ? AND kind = 'fix')`, sha, sha, sha)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = kind
	}
	return out, rows.Err()
}

// CVEsByTitle returns the ids of the CVEs whose normalised title is norm.
func (s *Store) CVEsByTitle(ctx context.Context, norm string) ([]string, error) {
	return s.strings(ctx, `SELECT id FROM cves WHERE norm_title = ? ORDER BY id`, norm)
}
