package series

import (
	"time"

	"patchtrail/internal/store"
)

// The grouping of patch mails into series and of series into version
// chains, inside the import's store transaction (REFERENCE §3; grouping
// as Patchwork does).

// Window is how far apart the parts of one series may be posted to be
// grouped by markers (sender, version, total) when they are not threaded
// together.
const Window = 12 * time.Hour

// Add stores the patch row of a patch mail or cover letter: it finds or
// starts its series (setting row.Series), stores the row, and links a
// new series to the version chain of an earlier version.
func Add(tx *store.Tx, row *store.PatchRow) error {
	sid, err := assign(tx, row)
	if err != nil {
		return err
	}
	row.Series = sid
	if err := tx.AddPatch(row); err != nil {
		return err
	}
	return chain(tx, sid, row)
}

// assign finds the series a patch or cover belongs to: the series of the
// message it replies to (git send-email threads parts under the cover or
// the first patch), else a series by the same sender with the same
// version and total posted nearby that lacks this part, else a new
// series.
func assign(tx *store.Tx, row *store.PatchRow) (int64, error) {
	if row.Total > 1 || row.Cover {
		// fits reports whether the series can take this part. Threaded
		// parts (byThread) may leave out the version their cover letter
		// gives ("[PATCHSET v2 0/11]" followed by "[PATCH 01/11]").
		fits := func(sid int64, byThread bool) (bool, error) {
			s, err := tx.SeriesByID(sid)
			if err != nil {
				return false, err
			}
			if s.Total != row.Total {
				return false, nil
			}
			if s.Version != row.Version && !(byThread && row.Version == 1) {
				return false, nil
			}
			if !byThread && s.Author != row.Author {
				return false, nil
			}
			if row.Cover {
				return s.Cover == 0, nil
			}
			has, err := tx.HasPart(sid, row.Counter)
			if err == nil && !has {
				row.Version = s.Version
			}
			return !has, err
		}
		if row.Parent != "" {
			pp, err := tx.PatchByMID(row.Parent)
			if err != nil {
				return 0, err
			}
			if pp != nil && pp.Series != 0 {
				ok, err := fits(pp.Series, true)
				if err != nil {
					return 0, err
				}
				if ok {
					return pp.Series, attach(tx, pp.Series, row)
				}
			}
		}
		cands, err := tx.SeriesCandidates(row.Author, row.Version, row.Total, row.Date, Window)
		if err != nil {
			return 0, err
		}
		for _, c := range cands {
			ok, err := fits(c.ID, false)
			if err != nil {
				return 0, err
			}
			if ok {
				return c.ID, attach(tx, c.ID, row)
			}
		}
	}
	s := &store.SeriesRow{
		Author: row.Author, Version: row.Version, Total: row.Total,
		NormSubject: row.NormSubject, ChangeID: row.ChangeID, FirstDate: row.Date,
	}
	if row.Cover {
		s.Cover = row.Message
	}
	return tx.NewSeries(s)
}

// attach updates a series with a new part: a cover gives the series its
// subject and change-id; an earlier date moves its first date.
func attach(tx *store.Tx, sid int64, row *store.PatchRow) error {
	s, err := tx.SeriesByID(sid)
	if err != nil {
		return err
	}
	changed := false
	if row.Cover {
		s.Cover, s.NormSubject, changed = row.Message, row.NormSubject, true
	}
	if s.ChangeID == "" && row.ChangeID != "" {
		s.ChangeID, changed = row.ChangeID, true
	}
	if !row.Date.IsZero() && row.Date.Before(s.FirstDate) {
		s.FirstDate, changed = row.Date, true
	}
	if !changed {
		return nil
	}
	return tx.UpdateSeries(s)
}

// chain links a series that is still alone in its version chain to the
// chain of an earlier version of the same patchset: same change-id
// first, then the same normalised subject and sender, then (same
// sender) shared patch-ids. Version numbers must go up along a chain: a
// series found by change-id or subject joins only when its version is
// at least the highest version the chain had when it was posted (a
// RESEND keeps its number); one found by shared patch-ids only when its
// version is higher, since a lower or equal version sharing patches is
// a new patchset reusing some of them (a cleanup series re-posting
// three patches of an earlier one as its own v1).
func chain(tx *store.Tx, sid int64, row *store.PatchRow) error {
	s, err := tx.SeriesByID(sid)
	if err != nil {
		return err
	}
	if s.Chain != s.ID {
		return nil
	}
	pick := func(cands []*store.SeriesRow, sameAuthor, strict bool) (*store.SeriesRow, error) {
		for _, c := range cands {
			if c.ID == s.ID || c.Chain == s.ID || c.Version > s.Version || sameAuthor && c.Author != s.Author {
				continue
			}
			top, err := tx.ChainTopVersion(c.Chain, s.FirstDate)
			if err != nil {
				return nil, err
			}
			if s.Version > top || !strict && s.Version == top {
				return c, nil
			}
		}
		return nil, nil
	}
	cands, err := tx.EarlierVersions(s.ChangeID, s.NormSubject, s.Author, s.FirstDate)
	if err != nil {
		return err
	}
	found, err := pick(cands, false, false)
	if err != nil {
		return err
	}
	if found == nil && len(row.PatchIDs) > 0 {
		cands, err := tx.SeriesSharingPatchIDs(row.PatchIDs, s.ID, s.FirstDate)
		if err != nil {
			return err
		}
		if found, err = pick(cands, true, true); err != nil {
			return err
		}
	}
	if found == nil {
		return nil
	}
	return tx.SetChain(s.ID, found.Chain)
}
