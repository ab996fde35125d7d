package link

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"patchtrail/internal/cve"
	"patchtrail/internal/store"
)

// CVEOptions tune ImportCVEs. A nil *CVEOptions means defaults.
type CVEOptions struct {
	// States are the vulns repository state directories to read; nil
	// means {"published"}.
	States []string
	// BatchSize is the number of records per store transaction; 0 means 500.
	BatchSize int
	// Logger receives progress and the malformed records; nil discards them.
	Logger *slog.Logger
	// Published gives publication dates by CVE id (cve.ReadPublished);
	// nil reads them from the git history when root is a clone of the
	// vulns repository. A date here wins over the record's own.
	Published cve.Published
}

// CVEResult reports a CVE import.
type CVEResult struct {
	Added     int      `json:"added"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Malformed []string `json:"malformed"` // one line per skipped record
	// Dated counts the records imported with a publication date;
	// DateSource says where the dates came from ("file", "git" or "").
	Dated      int    `json:"dated"`
	DateSource string `json:"date_source,omitempty"`
}

// ImportCVEs reads the vulns repository at root (REFERENCE §6) and stores
// its CVE records. Records whose fingerprint is already stored are
// skipped without being parsed; malformed ones are reported and skipped.
func ImportCVEs(ctx context.Context, st *store.Store, root string, opts *CVEOptions) (*CVEResult, error) {
	o := CVEOptions{}
	if opts != nil {
		o = *opts
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// Backport postings are set apart when a trace looks for a CVE's
	// posting; record them now in case no repository was linked yet.
	if err := scanBackportPostings(ctx, st); err != nil {
		return nil, err
	}
	known, err := st.CVEStates(ctx)
	if err != nil {
		return nil, err
	}
	res := &CVEResult{Malformed: []string{}}
	dates := o.Published
	switch {
	case dates != nil:
		res.DateSource = "file"
	case cve.IsGitCheckout(root):
		if dates, err = cve.PublishedFromGit(ctx, root); err != nil {
			return nil, err
		}
		res.DateSource = "git"
	}
	r, err := cve.Open(ctx, root, &cve.Options{
		States: o.States,
		Logger: o.Logger,
		OnError: func(e *cve.RecordError) {
			o.Logger.Warn("cve: malformed record skipped", "err", e)
			res.Malformed = append(res.Malformed, e.Error())
		},
		// A record is unchanged when its files and its date are.
		Unchanged: func(id, fp string) bool {
			k, ok := known[id]
			if !ok || k.Fingerprint != fp {
				return false
			}
			d, ok := dates[id]
			return !ok || d.Equal(k.Published)
		},
	})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var batch []*store.CVERow
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		tx, err := st.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, c := range batch {
			// The search documents of its commits and their postings
			// carry the CVE id (cve:): queued before and after, for the
			// commits it named and those it names now.
			if err := tx.EnqueueCVE(c.ID); err != nil {
				return err
			}
			if err := tx.PutCVE(c); err != nil {
				return err
			}
			if err := tx.EnqueueCVE(c.ID); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return tx.Commit()
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		if d, ok := dates[rec.ID]; ok {
			rec.Published = d
		}
		if !rec.Published.IsZero() {
			res.Dated++
		}
		if _, ok := known[rec.ID]; ok {
			res.Updated++
		} else {
			res.Added++
		}
		batch = append(batch, cveRow(rec))
		if len(batch) >= o.BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	res.Unchanged = r.Skipped()
	o.Logger.Info("cve: imported", "added", res.Added, "updated", res.Updated, "unchanged", res.Unchanged, "malformed", len(res.Malformed))
	return res, nil
}

func cveRow(r *cve.Record) *store.CVERow {
	c := &store.CVERow{
		ID: r.ID, Fingerprint: r.Fingerprint, Title: r.Title, NormTitle: SubjectKey(r.Title), Description: r.Description,
		Severity: r.Severity, CVSS: r.CVSS, Vector: r.CVSSVector, Published: r.Published, Updated: r.Updated,
		Files: r.Files, References: r.References, Path: r.Path, FixSHAs: r.FixSHAs, IntroducedSHAs: r.IntroducedSHAs,
	}
	for _, b := range r.Backports {
		c.Backports = append(c.Backports, store.CVEBackport{IntroducedVersion: b.IntroducedVersion, IntroducedSHA: b.IntroducedSHA,
			FixedVersion: b.FixedVersion, FixedSHA: b.FixedSHA})
	}
	return c
}
