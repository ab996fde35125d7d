package store

import (
	"context"
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
	// A scan in table order, sorted here: ORDER BY id would walk the
	// primary key index and look every row up in the table.
	rows, err := s.query(ctx, `SELECT id, title, norm_title, severity, cvss, published, files, fixes, dyad FROM cve_summary`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var all []*CVERow
	for rows.Next() {
		var c CVERow
		var pub int64
		var files, fixes, dyad string
		if err := rows.Scan(&c.ID, &c.Title, &c.NormTitle, &c.Severity, &c.CVSS, &pub, &files, &fixes, &dyad); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		c.Published = fromUnix(pub)
		json.Unmarshal([]byte(files), &c.Files)
		c.FixSHAs = strings.Fields(fixes)
		if dyad != "" {
			lines := strings.Split(dyad, "\n")
			c.Backports = make([]CVEBackport, 0, len(lines))
			for _, l := range lines {
				f := strings.SplitN(l, ":", 4)
				if len(f) != 4 {
					return fmt.Errorf("store: cve_summary of %s: bad dyad line %q", c.ID, l)
				}
				c.Backports = append(c.Backports, CVEBackport{IntroducedVersion: f[0], IntroducedSHA: f[1], FixedVersion: f[2], FixedSHA: f[3]})
			}
		}
		all = append(all, &c)
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
