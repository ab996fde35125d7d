package indexer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"patchtrail/internal/gitrepo"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// CommitIndexer keeps the search index current during a link run
// (link.Hook), in the way SearchHook does during an import: link queues
// every commit it stores and every commit and message whose links change
// in the store transaction that changes them (store.Tx.EnqueueCommits,
// store.Tx.Enqueue); once that transaction is durable, Committed indexes
// what is queued and only then removes the queue entries. A crash in
// between leaves them queued for the next run, import or reindex
// (DrainAll).
//
// A commit's diff is not stored, so Read keeps the + and - lines and hunk
// headers of each commit as git gives them during the run until its
// document is written; a commit queued without them (after a crash, a
// reindex, a commit relinked without being read again) is read again from
// its repository with one `git log --no-walk` per batch.
type CommitIndexer struct {
	st     *store.Store
	ix     *search.Index
	logger *slog.Logger

	mu    sync.Mutex
	diffs map[string]commitDiff // by commit id, from Read

	// Commits and Messages count the documents written.
	Commits, Messages int
}

type commitDiff struct {
	diff  string
	hunks []string
}

// NewCommitIndexer returns the link hook writing to ix.
func NewCommitIndexer(st *store.Store, ix *search.Index, logger *slog.Logger) *CommitIndexer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &CommitIndexer{st: st, ix: ix, logger: logger, diffs: map[string]commitDiff{}}
}

// Read keeps the diff of a commit read from git until it is indexed.
func (h *CommitIndexer) Read(c *gitrepo.Commit) {
	h.mu.Lock()
	h.diffs[c.SHA] = commitDiff{diff: c.Diff, hunks: c.HunkHeaders}
	h.mu.Unlock()
}

func (h *CommitIndexer) take(sha string) (commitDiff, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.diffs[sha]
	if ok {
		delete(h.diffs, sha)
	}
	return d, ok
}

// flushAt is how many commits read from git Committed lets wait before
// indexing: one index batch per few thousand commits rather than one per
// store transaction of 500 (each index batch is synced to disk), while
// the diffs kept for them stay bounded (at most flushAt compact diffs).
const flushAt = 5000

// Committed indexes the queued commits and messages once flushAt commits
// wait.
func (h *CommitIndexer) Committed(ctx context.Context) error {
	h.mu.Lock()
	n := len(h.diffs)
	h.mu.Unlock()
	if n < flushAt {
		return nil
	}
	return h.Flush(ctx)
}

// Flush indexes every queued commit and message.
func (h *CommitIndexer) Flush(ctx context.Context) error {
	start := time.Now()
	nc, err := drainCommits(ctx, h.st, h.ix, h.take, nil, h.logger)
	h.Commits += nc
	if err != nil {
		return err
	}
	nm, err := Drain(ctx, h.st, h.ix, nil)
	h.Messages += nm
	if nc+nm > 0 {
		h.logger.Info("link: search index updated", "commits", nc, "messages", nm, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	return err
}

// DrainCommits indexes every commit still queued (after a crash, or
// after a reindex queued them all), reading their diffs again from their
// repositories.
func DrainCommits(ctx context.Context, st *store.Store, ix *search.Index, progress func(n int), logger *slog.Logger) (int, error) {
	return drainCommits(ctx, st, ix, nil, progress, logger)
}

func drainCommits(ctx context.Context, st *store.Store, ix *search.Index, diffs func(string) (commitDiff, bool), progress func(n int), logger *slog.Logger) (int, error) {
	total := 0
	var after int64
	var paths map[string]string // repository name → path
	for {
		ids, err := st.QueuedCommits(ctx, after, flushAt)
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		// One query for the batch's rows, links and CVEs.
		rows, err := st.CommitDocs(ctx, ids)
		if err != nil {
			return total, err
		}
		got := map[string]commitDiff{}
		missing := map[string][]string{} // repository path → commits to read again
		for _, c := range rows {
			if diffs != nil {
				if d, ok := diffs(c.SHA); ok {
					got[c.SHA] = d
					continue
				}
			}
			if len(c.Files) == 0 || len(c.Repos) == 0 {
				continue // a merge, or stored without its changes
			}
			if paths == nil {
				if paths, err = repoPaths(ctx, st); err != nil {
					return total, err
				}
			}
			if p := paths[c.Repos[0]]; p != "" {
				missing[p] = append(missing[p], c.SHA)
			}
		}
		for path, shas := range missing {
			if err := readDiffs(ctx, path, shas, got, logger); err != nil {
				return total, err
			}
		}
		b := ix.Batch()
		for _, c := range rows {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			if err := b.Index(commitDoc(c, got[c.SHA])); err != nil {
				return total, err
			}
		}
		if err := b.Execute(ctx); err != nil {
			return total, err
		}
		if err := st.DequeueCommits(ctx, ids); err != nil {
			return total, err
		}
		total += len(rows)
		after = ids[len(ids)-1]
		if progress != nil {
			progress(len(ids))
		}
	}
}

func repoPaths(ctx context.Context, st *store.Store) (map[string]string, error) {
	repos, err := st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(repos))
	for _, r := range repos {
		out[r.Name] = r.Path
	}
	return out, nil
}

// readDiffs reads the diffs of commits shas of the repository at path
// with one git log --no-walk. A repository that is gone or lacks a commit
// leaves those commits without their diff (their documents still carry
// everything else, and dfn: their files); that is logged, not fatal.
func readDiffs(ctx context.Context, path string, shas []string, into map[string]commitDiff, logger *slog.Logger) error {
	lr, err := gitrepo.Log(ctx, path, &gitrepo.LogOptions{Refs: shas, NoWalk: true, WithDiff: true})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("indexer: read commits of %s again: %w", path, ctx.Err())
		}
		if logger != nil {
			logger.Warn("indexer: commits indexed without their diffs: the repository cannot give them", "repo", path, "commits", len(shas), "error", err)
		}
		return nil
	}
	defer lr.Close()
	for {
		c, err := lr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if logger != nil {
				logger.Warn("indexer: commits indexed without their diffs", "repo", path, "error", err)
			}
			return nil // what was read is kept
		}
		into[c.SHA] = commitDiff{diff: c.Diff, hunks: c.HunkHeaders}
	}
}

// commitDoc builds the search document of a stored commit.
func commitDoc(c *store.CommitDoc, d commitDiff) *search.Doc {
	return search.NewCommitDoc(&search.Commit{
		SHA: c.SHA, Repos: c.Repos, Subject: c.Subject, Body: c.Body,
		Author:     search.Address{Name: c.AuthorName, Addr: c.AuthorEmail},
		AuthorDate: c.AuthorDate, Files: c.Files, Diff: d.diff, HunkHeaders: d.hunks,
		PatchID: c.PatchID, CVEs: c.CVEs, Applied: c.Applied, Linked: c.Linked, Backport: c.Upstream != "",
	})
}

// setLinks fills the link fields of a message's document (commit:,
// repo:, cve:, is:applied, is:unapplied, is:backport) from the store.
func setLinks(ctx context.Context, st *store.Store, id int64, doc *search.Doc, a *patch.Analysis) error {
	mcs, err := st.MessageCommits(ctx, id)
	if err != nil {
		return err
	}
	applied := false
	for _, mc := range mcs {
		doc.SHAs = append(doc.SHAs, mc.SHA)
		if mc.Role != store.RoleApplied {
			continue
		}
		applied = true
		doc.Repos = append(doc.Repos, mc.Repos...)
		cves, err := st.CommitCVEs(ctx, mc.SHA)
		if err != nil {
			return err
		}
		doc.CVEs = append(doc.CVEs, cves...)
	}
	up, err := st.BackportOf(ctx, id)
	if err != nil {
		return err
	}
	doc.States = messageStates(a, applied, len(mcs) > 0, up != "")
	return nil
}

// messageStates are the is: states of a message: applied (an applied
// link), unapplied (a patch mail carrying a patch, linked to nothing),
// backport (a posting that names its upstream commit).
func messageStates(a *patch.Analysis, applied, linked, backport bool) []string {
	var out []string
	switch {
	case applied:
		out = append(out, search.StateApplied)
	case !linked && isPatchPosting(a):
		out = append(out, search.StateUnapplied)
	}
	if backport {
		out = append(out, search.StateBackport)
	}
	return out
}

// isPatchPosting: a mail carrying a patch, not a reply and not a bare
// cover letter.
func isPatchPosting(a *patch.Analysis) bool {
	return a != nil && a.IsPatchMail && len(a.Patches) > 0
}
