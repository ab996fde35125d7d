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

// stableWordRE matches the subject tags that mark a stable posting
// whatever its body says: a stable branch ("5.15.y"), a stable release
// ("6.1.12"), a range of branches ("6.17-6.12"), "stable", "AUTOSEL".
// A bare "5.12" is not enough: on the io-uring list it names the release
// a mainline patch is meant for.
var stableWordRE = regexp.MustCompile(`(?i)^(v?\d+\.\d+(\.y|\.\d+)|v?\d+\.\d+(\.y)?-\d+\.\d+(\.y)?|stable(-\d+\.\d+(\.y)?)?|autosel)$`)

// versionWordRE matches any tag that names a kernel version.
var versionWordRE = regexp.MustCompile(`(?i)^v?\d+\.\d+`)

// tagWords returns the words of a subject's bracket tags.
func tagWords(subject string) []string {
	s := patch.ParseSubject(subject)
	var out []string
	for _, words := range [][]string{s.Subsystems, s.Prefixes, s.ListTags} {
		for _, w := range words {
			out = append(out, strings.Fields(w)...)
		}
	}
	return out
}

// IsStableSubject reports whether a patch subject's tags mark a stable
// backport posting: "[PATCH 6.1.y]", "[PATCH AUTOSEL 6.9 06/15]",
// "[PATCH stable-5.10]", "[PATCH AUTOSEL 6.17-6.12]". Postings tagged
// with a bare version ("[PATCH 5.10]") are backports only when their
// body names the upstream commit (see Link, which records those).
func IsStableSubject(subject string) bool {
	for _, w := range tagWords(subject) {
		if stableWordRE.MatchString(w) {
			return true
		}
	}
	return false
}

// versionTagged reports whether a subject's tags name a kernel version
// or stable at all: the postings whose bodies are read for an upstream
// commit line.
func versionTagged(subject string) bool {
	for _, w := range tagWords(subject) {
		if stableWordRE.MatchString(w) || versionWordRE.MatchString(w) {
			return true
		}
	}
	return false
}

// scanBackportPostings records the posted patches that say which
// mainline commit they backport ("commit <sha> upstream." or
// "[ Upstream commit <sha> ]"). Only patch mails whose subject tags name
// a version are read, and each only once (a mark in the store).
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
			if !versionTagged(p.Subject) {
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
			if err := tx.Enqueue(id); err != nil { // is:backport
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
