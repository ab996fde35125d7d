package indexer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
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
// store.Tx.Enqueue); Flush indexes what is queued and only then removes
// the queue entries. A crash in between leaves them queued for the next
// run, import or reindex (DrainAll).
//
// The work runs beside the link loop: after each store transaction
// (Committed) a background round reads what the queues hold, builds and
// analyses its documents (search.Analyze) on the other core while
// link matches the next commits, and writes the commits' documents to the
// index once commitChunkBytes of them wait. Flush, at the end of the run,
// prepares what the last transactions queued, reads every queued commit
// and message again and writes, in one last batch, the messages (their
// link fields are final only now) with the commits no round wrote and
// those whose documents changed since a round wrote them (their links
// changed later in the run; the analysed text is reused where it is the
// same); then it dequeues them all. Rounds never dequeue, so a crash at
// any point leaves every document not known to be current queued.
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

	// prep is held by whoever prepares documents: a background round or
	// Flush.
	prep     sync.Mutex
	commits  map[int64]*preparedCommit  // by commit row id; nil: not stored
	messages map[int64]*preparedMessage // by message row id
	// waiting counts the commits read or prepared and not yet indexed,
	// msgBytes the raw mail of the messages prepared (Committed flushes
	// beyond flushAt and batchBytes).
	waiting, msgBytes atomic.Int64
	// running is set while a background round runs (Committed starts
	// one at a time; Flush waits for it in rounds); again asks it for one
	// more round.
	running, again atomic.Bool
	rounds         sync.WaitGroup
	batchBytes     int64
	// pendingBytes is the text of the commits prepared and not yet
	// written (preparedCommit.textBytes); a round writes them once it
	// reaches chunkBytes.
	pendingBytes, chunkBytes int64

	// Commits and Messages count the documents written.
	Commits, Messages int
}

type commitDiff struct {
	diff  string
	hunks []string
}

// preparedCommit is the analysed document of a queued commit (nil once
// writeChunk wrote it), and the row and diff it was built from.
type preparedCommit struct {
	doc  *search.Doc
	an   *search.Analysis
	row  *store.CommitDoc
	diff commitDiff
}

// textBytes is about the text of the commit's document.
func (p *preparedCommit) textBytes() int64 {
	n := len(p.row.Subject) + len(p.row.Body) + len(p.diff.diff)
	for _, h := range p.diff.hunks {
		n += len(h)
	}
	for _, f := range p.row.Files {
		n += len(f)
	}
	return int64(n)
}

// sameCommitDoc reports whether the documents of a and b, two reads of
// one commit, are the same (commitDoc's fields).
func sameCommitDoc(a, b *store.CommitDoc) bool {
	return a.SHA == b.SHA && a.Subject == b.Subject && a.Body == b.Body && a.AuthorName == b.AuthorName &&
		a.AuthorEmail == b.AuthorEmail && a.AuthorDate.Equal(b.AuthorDate) && a.PatchID == b.PatchID &&
		(a.Upstream != "") == (b.Upstream != "") && a.Applied == b.Applied && a.Linked == b.Linked &&
		slices.Equal(a.Files, b.Files) && slices.Equal(a.Repos, b.Repos) && slices.Equal(a.CVEs, b.CVEs)
}

// preparedMessage is the analysed document of a queued message, which
// Flush finishes with what the store holds then (storedDoc.finish); nil
// for a message deleted when it was prepared.
type preparedMessage = storedDoc

// NewCommitIndexer returns the link hook writing to ix.
func NewCommitIndexer(st *store.Store, ix *search.Index, logger *slog.Logger) *CommitIndexer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &CommitIndexer{st: st, ix: ix, logger: logger, diffs: map[string]commitDiff{},
		commits: map[int64]*preparedCommit{}, messages: map[int64]*preparedMessage{}, batchBytes: DefaultBatchBytes,
		chunkBytes: commitChunkBytes}
}

// Read keeps the diff of a commit read from git until it is indexed.
func (h *CommitIndexer) Read(c *gitrepo.Commit) {
	h.mu.Lock()
	if _, ok := h.diffs[c.SHA]; !ok {
		h.waiting.Add(1)
	}
	h.diffs[c.SHA] = commitDiff{diff: c.Diff, hunks: c.HunkHeaders}
	h.mu.Unlock()
}

func (h *CommitIndexer) take(sha string) (commitDiff, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.diffs[sha]
	if ok {
		delete(h.diffs, sha)
		h.waiting.Add(-1)
	}
	return d, ok
}

// flushAt is how many commits read from git Committed lets wait before
// indexing: one index batch per few thousand commits rather than one per
// store transaction of 500 (each index batch is a segment of every shard,
// synced to disk), while the diffs and documents kept for them stay
// bounded (at most flushAt of each). The messages prepared with them are
// bounded by DefaultBatchBytes of raw mail.
const flushAt = 5000

// commitChunkBytes is how much commit text (subject, message, diff, hunk
// headers, file names) a round gathers before writing it to the index
// beside the link loop. Written in one batch at the end, liburing's 3,847
// commits (6.5 MB of text) with the 1,216 messages link relinks (8.4 MB
// of raw mail) took 600 MB of live heap; in batches of 4 MiB the first
// batch is written while link still runs and the last one (the rest of
// the commits with the messages) stays within an import batch
// (DefaultBatchBytes), at 475 MB. Each batch is a segment of every shard
// it reaches; batches of 1 or 2 MiB took the same CPU within the noise,
// for more segments (doc/bench.md, "Commits in the search index").
const commitChunkBytes = 4 << 20

// LinkMemoryLimit is the soft limit of the Go heap for a link run that
// indexes (the link command sets it, unless GOMEMLIMIT is set). The
// batches above bound what the heap holds live (475 MB at most for
// liburing); without a limit the heap grows to twice that before a
// collection and link peaked at 1.0-1.2 GB of RSS, with this one at
// 780-790 MB for about the same CPU time. The import's budget (384 MiB)
// is below that live peak: with it the collector ran all the time (41 s
// of CPU instead of 23 s). See doc/bench.md, "Indexing beside the link
// loop".
const LinkMemoryLimit = 640 << 20

// Committed starts a background round preparing the documents of what
// is queued now, or indexes everything queued once flushAt commits or
// DefaultBatchBytes of messages wait.
func (h *CommitIndexer) Committed(ctx context.Context) error {
	if h.waiting.Load() >= flushAt || h.msgBytes.Load() >= h.batchBytes {
		return h.Flush(ctx)
	}
	h.again.Store(true)
	if h.running.Load() {
		return nil // the running round goes once more
	}
	h.running.Store(true)
	h.rounds.Add(1)
	go func() {
		defer h.rounds.Done()
		for h.again.Swap(false) {
			h.prep.Lock()
			err := h.round(ctx)
			h.prep.Unlock()
			if err != nil {
				// Flush does what is left and meets the error again.
				h.logger.Debug("link: documents not prepared beside the link", "error", err)
				break
			}
		}
		h.running.Store(false)
	}()
	return nil
}

// round prepares the documents of what is queued and writes the commits'
// in batches of chunkBytes of text as they fill. The caller holds h.prep.
func (h *CommitIndexer) round(ctx context.Context) error {
	for {
		more, err := h.prepareCommits(ctx)
		if err != nil {
			return err
		}
		if h.pendingBytes < h.chunkBytes {
			break
		}
		if err := h.writeChunk(ctx); err != nil {
			return err
		}
		if !more {
			break
		}
	}
	_, err := h.prepareMessages(ctx)
	return err
}

// Flush indexes every queued commit and message: it prepares what no
// round did, writes the commits no round wrote (in batches of chunkBytes
// of text) and the messages in one last batch with the commits whose
// documents changed since a round wrote them, and dequeues them all.
func (h *CommitIndexer) Flush(ctx context.Context) error {
	h.again.Store(false)
	h.rounds.Wait()
	h.prep.Lock()
	defer h.prep.Unlock()
	for {
		start := time.Now()
		cmore, err := h.prepareCommits(ctx)
		if err != nil {
			return err
		}
		if cmore && h.pendingBytes >= h.chunkBytes && len(h.commits) < flushAt {
			if err := h.writeChunk(ctx); err != nil {
				return err
			}
			continue
		}
		mmore, err := h.prepareMessages(ctx)
		if err != nil {
			return err
		}
		if h.pendingBytes > 0 && h.pendingBytes+h.msgBytes.Load() > h.batchBytes {
			// The last batch holds the messages; the commits go first.
			if err := h.writeChunk(ctx); err != nil {
				return err
			}
		}
		nc, nm, err := h.write(ctx)
		h.Commits += nc
		h.Messages += nm
		if err != nil {
			return err
		}
		if nc+nm > 0 {
			h.logger.Info("link: search index updated", "commits", nc, "messages", nm, "elapsed", time.Since(start).Round(time.Millisecond))
		}
		if !cmore && !mmore {
			return nil
		}
	}
}

// prepareCommits builds and analyses the documents of queued commits that
// have none yet, until the queue is done, flushAt commits are held or
// chunkBytes of text wait to be written; more reports that the queue
// holds more. The caller holds h.prep.
func (h *CommitIndexer) prepareCommits(ctx context.Context) (more bool, err error) {
	var ids []int64
	for after := int64(0); len(h.commits)+len(ids) < flushAt; {
		page, err := h.st.QueuedCommits(ctx, after, flushAt)
		if err != nil {
			return false, err
		}
		if len(page) == 0 {
			break
		}
		for _, id := range page {
			if _, ok := h.commits[id]; !ok {
				ids = append(ids, id)
			}
		}
		after = page[len(page)-1]
	}
	if len(h.commits)+len(ids) > flushAt {
		ids, more = ids[:flushAt-len(h.commits)], true
	}
	// In slices, so that a chunk is written as soon as it is full.
	const slice = 250
	for len(ids) > 0 {
		if h.pendingBytes >= h.chunkBytes {
			return true, nil
		}
		n := min(len(ids), slice)
		rows, diffs, err := commitRows(ctx, h.st, ids[:n], h.take, h.logger)
		if err != nil {
			return false, err
		}
		byID := make(map[int64]*store.CommitDoc, len(rows))
		for _, c := range rows {
			byID[c.ID] = c
		}
		for _, id := range ids[:n] {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			c := byID[id]
			if c == nil {
				h.commits[id] = nil // not stored: dequeued with the rest
				continue
			}
			p := &preparedCommit{row: c, diff: diffs[c.SHA], doc: commitDoc(c, diffs[c.SHA])}
			if p.an, err = search.Analyze(p.doc); err != nil {
				return false, err
			}
			h.commits[id] = p
			h.pendingBytes += p.textBytes()
			h.waiting.Add(1)
		}
		ids = ids[n:]
	}
	return more, nil
}

// writeChunk writes the commits prepared and not yet written, as a round
// built them; write checks them against the store before they are
// dequeued. The caller holds h.prep.
func (h *CommitIndexer) writeChunk(ctx context.Context) error {
	start := time.Now()
	b := h.ix.Batch()
	var done []*preparedCommit
	for _, id := range sortedKeys(h.commits) {
		if p := h.commits[id]; p != nil && p.doc != nil {
			if err := b.IndexAnalysed(p.doc, p.an); err != nil {
				return err
			}
			done = append(done, p)
		}
	}
	if err := b.Execute(ctx); err != nil {
		return err
	}
	for _, p := range done {
		p.doc, p.an = nil, nil // written; its analysis is no longer needed
	}
	h.pendingBytes = 0
	h.logger.Debug("link: commits written to the search index", "commits", len(done), "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// prepareMessages builds and analyses the documents of queued messages
// that have none yet, up to batchBytes of raw mail; more reports that the
// queue holds more. The caller holds h.prep.
func (h *CommitIndexer) prepareMessages(ctx context.Context) (more bool, err error) {
	for after := int64(0); ; {
		page, err := h.st.Queued(ctx, after, 2000)
		if err != nil {
			return false, err
		}
		if len(page) == 0 {
			return false, nil
		}
		for _, id := range page {
			if _, ok := h.messages[id]; ok {
				continue
			}
			if h.msgBytes.Load() >= h.batchBytes {
				return true, nil
			}
			if err := ctx.Err(); err != nil {
				return false, err
			}
			sd, err := h.prepareMessage(ctx, id)
			if err != nil {
				return false, err
			}
			h.messages[id] = sd
		}
		after = page[len(page)-1]
	}
}

// prepareMessage parses and analyses the document of message row id;
// nil for a deleted message.
func (h *CommitIndexer) prepareMessage(ctx context.Context, id int64) (*storedDoc, error) {
	m, err := h.st.Message(ctx, id)
	if err != nil || m.Deleted {
		return nil, err
	}
	sd, err := parseStored(ctx, h.st, m)
	if err != nil {
		return nil, err
	}
	if sd.an, err = search.Analyze(sd.doc); err != nil {
		return nil, err
	}
	h.msgBytes.Add(int64(m.Size))
	return sd, nil
}

// write indexes the prepared documents as the store has them now (link
// fields read again, the analysed text reused where it is the same) in
// one batch, then dequeues them. The caller holds h.prep.
func (h *CommitIndexer) write(ctx context.Context) (commits, messages int, err error) {
	if len(h.commits)+len(h.messages) == 0 {
		return 0, 0, nil
	}
	b := h.ix.Batch()
	cids := sortedKeys(h.commits)
	rows, err := h.st.CommitDocs(ctx, cids)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range rows {
		p := h.commits[c.ID]
		switch {
		case p == nil:
			continue // not stored when prepared: dequeued, as DrainCommits does
		case p.doc == nil && sameCommitDoc(p.row, c):
			commits++ // written by writeChunk as it is now
			continue
		}
		if err := b.IndexAnalysed(commitDoc(c, p.diff), p.an); err != nil {
			return 0, 0, err
		}
		commits++
	}
	mids := sortedKeys(h.messages)
	for _, id := range mids {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		m, err := h.st.Message(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		if m.Deleted {
			b.Delete(m.MessageID)
			continue
		}
		sd := h.messages[id]
		if sd == nil {
			// Deleted when prepared, restored since.
			if sd, err = parseStored(ctx, h.st, m); err != nil {
				return 0, 0, err
			}
		}
		d, err := sd.finish(ctx, h.st, m)
		if err != nil {
			return 0, 0, err
		}
		if err := b.IndexAnalysed(d, sd.an); err != nil {
			return 0, 0, err
		}
	}
	if err := b.Execute(ctx); err != nil {
		return 0, 0, err
	}
	if err := h.st.DequeueCommits(ctx, cids); err != nil {
		return 0, 0, err
	}
	if err := h.st.Dequeue(ctx, mids); err != nil {
		return 0, 0, err
	}
	for _, p := range h.commits {
		if p != nil {
			h.waiting.Add(-1)
		}
	}
	h.commits = map[int64]*preparedCommit{}
	h.messages = map[int64]*preparedMessage{}
	h.msgBytes.Store(0)
	h.pendingBytes = 0
	return commits, len(mids), nil
}

func sortedKeys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
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
	for {
		ids, err := st.QueuedCommits(ctx, after, flushAt)
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		rows, got, err := commitRows(ctx, st, ids, diffs, logger)
		if err != nil {
			return total, err
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

// commitRows loads the stored commits with row ids (one query for their
// rows, links and CVEs) and their diffs: from diffs (Read's) when it has
// them, else read again from their repositories.
func commitRows(ctx context.Context, st *store.Store, ids []int64, diffs func(string) (commitDiff, bool), logger *slog.Logger) ([]*store.CommitDoc, map[string]commitDiff, error) {
	rows, err := st.CommitDocs(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	got := map[string]commitDiff{}
	missing := map[string][]string{} // repository path → commits to read again
	var paths map[string]string      // repository name → path
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
				return nil, nil, err
			}
		}
		if p := paths[c.Repos[0]]; p != "" {
			missing[p] = append(missing[p], c.SHA)
		}
	}
	for path, shas := range missing {
		if err := readDiffs(ctx, path, shas, got, logger); err != nil {
			return nil, nil, err
		}
	}
	return rows, got, nil
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
