package link

import (
	"context"
	"strings"

	"patchtrail/internal/gitrepo"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// CommitRow turns a commit read from git into what the store keeps of
// it: trailers (git's rules), Fixes: targets, the upstream commit of a
// backport, the reverted commit, the touched paths (old and new names)
// and the sketch of its changed lines (from c.Diff, so read it with
// gitrepo.LogOptions.WithDiff).
func CommitRow(c *gitrepo.Commit) *store.CommitRow {
	r := &store.CommitRow{
		SHA:            c.SHA,
		Subject:        c.Subject,
		NormSubject:    SubjectKey(c.Subject),
		AuthorName:     c.AuthorName,
		AuthorEmail:    strings.ToLower(c.AuthorEmail),
		AuthorDate:     c.AuthorDate,
		CommitterName:  c.CommitterName,
		CommitterEmail: strings.ToLower(c.CommitterEmail),
		CommitDate:     c.CommitDate,
		Body:           c.Body,
		PatchID:        c.PatchID,
		Merge:          c.IsMerge(),
		Upstream:       gitrepo.UpstreamOf(c.Body),
		Sketch:         DiffSketch(c.Diff),
	}
	r.Reverts, r.Revert = gitrepo.RevertOf(c.Subject, c.Body)
	seen := map[string]bool{}
	for _, f := range c.Files {
		for _, p := range []string{f.OldPath, f.Path} {
			if p != "" && !seen[p] {
				seen[p] = true
				r.Files = append(r.Files, p)
			}
		}
	}
	for _, t := range patch.ParseTrailers(c.Subject + "\n\n" + c.Body) {
		ct := store.CommitTrailer{Key: t.Key, Value: t.Value, Name: t.Name, Email: strings.ToLower(t.Email), SHA: t.SHA, MessageID: t.MessageID}
		r.Trailers = append(r.Trailers, ct)
		if t.Is("fixes") && t.SHA != "" {
			r.Fixes = append(r.Fixes, store.FixRow{Target: t.SHA, Title: t.Title})
		}
	}
	return r
}

// SubjectKey is the key commit subjects and patch subjects are matched
// on: tags and reply prefixes stripped, white space collapsed,
// lowercased (patch.Subject.NormalizedKey, as stored for patches).
func SubjectKey(s string) string {
	sub := patch.ParseSubject(s)
	return sub.NormalizedKey()
}

// resolveShorts expands the abbreviated Fixes: targets and reverted
// commits of a batch with one git process. A Fixes: target the
// repository does not know keeps an empty TargetSHA (unless written in
// full); a reverted commit it does not know stays as written.
func resolveShorts(ctx context.Context, repoDir string, rows []*store.CommitRow) error {
	var shorts []string
	for _, r := range rows {
		for _, f := range r.Fixes {
			shorts = append(shorts, f.Target)
		}
		if r.Reverts != "" && len(r.Reverts) < 40 {
			shorts = append(shorts, r.Reverts)
		}
	}
	full := map[string]string{}
	if len(shorts) > 0 {
		var err error
		if full, err = gitrepo.ResolveShort(ctx, repoDir, shorts); err != nil {
			return err
		}
	}
	for _, r := range rows {
		for i := range r.Fixes {
			f := &r.Fixes[i]
			switch {
			case full[f.Target] != "":
				f.TargetSHA = full[f.Target]
			case len(f.Target) == 40:
				f.TargetSHA = f.Target
			}
		}
		if s := full[r.Reverts]; s != "" {
			r.Reverts = s
		}
	}
	return nil
}
