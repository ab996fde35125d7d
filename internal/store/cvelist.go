package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// EachCVE calls fn for every stored CVE in id order with the fields a
// listing needs, read from cve_summary: ID, Title, NormTitle, Severity,
// CVSS, Published, Files, FixSHAs and Backports (not Description,
// Vector, Updated, References, Path, Fingerprint, IntroducedSHAs). fn
// may keep the row and may use the store: the rows are read first (a
// writable store has one connection).
func (s *Store) EachCVE(ctx context.Context, fn func(*CVERow) error) error {
	return s.EachCVEWhere(ctx, nil, fn)
}

// EachCVEWhere is EachCVE over the CVEs whose .dyad lines keep accepts
// (nil: every CVE). keep must not retain its argument, which is reused;
// a CVE it rejects is not read further, which makes a listing by version
// cheap (most of a row is its title, files and commit ids).
func (s *Store) EachCVEWhere(ctx context.Context, keep func([]CVEBackport) bool, fn func(*CVERow) error) error {
	// A scan in table order, sorted here: ORDER BY id would walk the
	// primary key index and look every row up in the table.
	rows, err := s.query(ctx, `SELECT id, dyad, title, norm_title, severity, cvss, published, files, fixes FROM cve_summary`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var all []*CVERow
	var buf []CVEBackport
	for rows.Next() {
		var id, dyad string
		var title, norm, severity, files, fixes sql.RawBytes
		var cvss float64
		var pub int64
		if err := rows.Scan(&id, &dyad, &title, &norm, &severity, &cvss, &pub, &files, &fixes); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		buf = buf[:0]
		for rest := dyad; rest != ""; {
			var l string
			l, rest, _ = strings.Cut(rest, "\n")
			iv, r1, ok1 := strings.Cut(l, ":")
			isha, r2, ok2 := strings.Cut(r1, ":")
			fv, fsha, ok3 := strings.Cut(r2, ":")
			if !ok1 || !ok2 || !ok3 {
				return fmt.Errorf("store: cve_summary of %s: bad dyad line %q", id, l)
			}
			buf = append(buf, CVEBackport{IntroducedVersion: iv, IntroducedSHA: isha, FixedVersion: fv, FixedSHA: fsha})
		}
		if keep != nil && !keep(buf) {
			continue
		}
		c := &CVERow{ID: id, Title: string(title), NormTitle: string(norm), Severity: string(severity), CVSS: cvss, Published: fromUnix(pub),
			FixSHAs: strings.Fields(string(fixes))}
		json.Unmarshal(files, &c.Files)
		if len(buf) > 0 {
			c.Backports = slices.Clone(buf)
		}
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	rows.Close()
	slices.SortFunc(all, func(a, b *CVERow) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range all {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// CVEsWithPostingCandidates returns the ids of the CVEs that may have a
// posting in the archive: a patch mail with the CVE title as its
// normalised subject, or a message linked to a fix commit. It is the
// cheap first step before link.FindCVEPosting.
func (s *Store) CVEsWithPostingCandidates(ctx context.Context) (map[string]bool, error) {
	rows, err := s.query(ctx, `SELECT c.id FROM cve_summary c WHERE c.norm_title != '' AND EXISTS (SELECT 1 FROM patches p WHERE p.norm_subject = c.norm_title)
		UNION SELECT cc.cve FROM cve_commits cc JOIN commits co ON co.sha = cc.sha JOIN links l ON l.commit_id = co.id WHERE cc.kind = 'fix'`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}
