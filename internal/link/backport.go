package link

import (
	"context"
	"regexp"
	"strings"

	"patchtrail/internal/gitrepo"
	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// stableWordRE matches the subject tags of stable postings: a kernel
// version or branch ("6.1", "5.15.y", "6.17-6.12", "v5.10"), "stable",
// "AUTOSEL".
var stableWordRE = regexp.MustCompile(`(?i)^(v?\d+\.\d+(\.y|\.\d+)?(-\d+\.\d+(\.y)?)?|stable(-\d+\.\d+(\.y)?)?|autosel)$`)

// IsStableSubject reports whether a patch subject's tags mark a stable
// backport posting: "[PATCH 6.1.y]", "[PATCH AUTOSEL 6.9 06/15]",
// "[PATCH stable-5.10]", "[PATCH 5.15 012/123]".
func IsStableSubject(subject string) bool {
	s := patch.ParseSubject(subject)
	for _, words := range [][]string{s.Subsystems, s.Prefixes, s.ListTags} {
		for _, w := range words {
			for _, f := range strings.Fields(w) {
				if stableWordRE.MatchString(f) {
					return true
				}
			}
		}
	}
	return false
}

// scanBackportPostings records the posted patches that say which
// mainline commit they backport ("commit <sha> upstream." or
// "[ Upstream commit <sha> ]"). Only patch mails with stable subject
// tags are read, and each only once (a mark in the store).
func scanBackportPostings(ctx context.Context, st *store.Store) error {
	after, err := st.Mark(ctx, "backport_scan")
	if err != nil {
		return err
	}
	for {
		ps, err := st.PatchMailsAfter(ctx, after, 1000)
		if err != nil || len(ps) == 0 {
			return err
		}
		found := map[int64]string{}
		for _, p := range ps {
			if !IsStableSubject(p.Subject) {
				continue
			}
			up, err := upstreamOfMessage(ctx, st, p.Message)
			if err != nil {
				return err
			}
			if up != "" {
				found[p.Message] = up
			}
		}
		after = ps[len(ps)-1].Message
		tx, err := st.Begin(ctx)
		if err != nil {
			return err
		}
		for id, up := range found {
			if err := tx.SetMessageBackport(id, up); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.SetMark("backport_scan", after); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

// upstreamOfMessage returns the mainline commit a posted backport names.
func upstreamOfMessage(ctx context.Context, st *store.Store, id int64) (string, error) {
	raw, err := st.Raw(ctx, id)
	if err != nil {
		return "", err
	}
	pm, err := message.Parse(raw, nil)
	if err != nil {
		return "", nil // unparseable: it names nothing
	}
	return gitrepo.UpstreamOf(pm.Text), nil
}
