package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/gitrepo"
	"patchtrail/internal/store"
)

// ErrUnknownRepo is returned for a repository name that was never added.
var ErrUnknownRepo = errors.New("link: unknown repository")

// Options tune Link. A nil *Options means defaults.
type Options struct {
	// Repo restricts the run to the repository with this name.
	Repo string
	// IgnoreLinkTrailers skips rung 1 (Link:/Message-ID: trailers), so
	// the other rungs can be measured against those trailers.
	IgnoreLinkTrailers bool
	// Full links every stored commit again, not only new and unlinked ones.
	Full bool
	// Window is how long before a commit a posting may have been sent
	// to be a fuzzy candidate; 0 means DefaultWindow.
	Window time.Duration
	// BatchSize is the number of commits per store transaction; 0 means 500.
	BatchSize int
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// Hook, when set, takes part in the run (the search index).
	// Whatever the hook, every commit stored and every commit or message
	// whose links changed is queued for the index in the transaction
	// that changes it (store.Tx.EnqueueCommits, store.Tx.Enqueue).
	Hook Hook
}

// Hook lets the search index follow a link run, as indexer.Hook does an
// import: it sees each commit as git gave it (with its diff, which the
// store does not keep) and is told when a batch is durable, so it can
// index what the batch queued.
type Hook interface {
	// Read is called for every commit read from git, in the reader
	// goroutine, before the commit is stored.
	Read(c *gitrepo.Commit)
	// Committed is called after each store transaction of the run; the
	// hook may index what is queued now or wait for more.
	Committed(ctx context.Context) error
	// Flush is called at the end of the run (and before it, for what an
	// interrupted run left queued): everything queued must be indexed.
	Flush(ctx context.Context) error
}

// DefaultWindow is the default Options.Window.
const DefaultWindow = 365 * 24 * time.Hour

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Window <= 0 {
		out.Window = DefaultWindow
	}
	if out.BatchSize <= 0 {
		out.BatchSize = 500
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// Result reports a link run over one repository.
type Result struct {
	Repo     string         `json:"repo"`
	Read     int            `json:"read"`     // new commits read from git
	Relinked int            `json:"relinked"` // stored commits linked again
	Linked   int            `json:"linked"`   // of those read or relinked, commits with an applied link
	Grades   map[string]int `json:"grades"`   // grade of the best link → commits
	Dropped  []string       `json:"dropped_heads,omitempty"`
	// Problems lists the commits whose changes could not be read
	// ("commit <id>: <kind>: <what git said>"); they are stored with the
	// problems of the store (store.SourceProblems) and the run goes on.
	Problems []string      `json:"problems,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// AddRepo registers the git repository at path (bare or not) as name.
func AddRepo(ctx context.Context, st *store.Store, name, path string) error {
	if name == "" {
		return errors.New("link: empty repository name")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if _, err := gitrepo.Heads(ctx, abs); err != nil {
		return fmt.Errorf("link: %s: %w", abs, err)
	}
	tx, err := st.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.EnsureRepo(name, abs); err != nil {
		return err
	}
	return tx.Commit()
}

// Link reads the new commits of every registered repository (or of
// opts.Repo), stores them and links them to messages; commits stored
// earlier are linked again when they have no link and newer messages
// arrived (or all of them with opts.Full). It also records which posted
// patches are stable backports.
func Link(ctx context.Context, st *store.Store, opts *Options) ([]*Result, error) {
	o := opts.withDefaults()
	repos, err := st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	if o.Repo != "" {
		var pick []*store.RepoRow
		for _, r := range repos {
			if r.Name == o.Repo {
				pick = append(pick, r)
			}
		}
		if len(pick) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownRepo, o.Repo)
		}
		repos = pick
	}
	// What an interrupted run left queued is indexed first; what this
	// run queues (the backport postings found now included) waits for
	// the hook's batches, so a run adds as few index segments as it can.
	if o.Hook != nil {
		if err := o.Hook.Flush(ctx); err != nil {
			return nil, err
		}
	}
	if err := scanBackportPostings(ctx, st); err != nil {
		return nil, err
	}
	m := newMatcher(st, o.Window, o.IgnoreLinkTrailers)
	var out []*Result
	for _, r := range repos {
		res, err := linkRepo(ctx, st, m, r, &o)
		if res != nil {
			out = append(out, res)
		}
		if err != nil {
			return out, err
		}
	}
	if o.Hook != nil {
		if err := o.Hook.Flush(ctx); err != nil {
			return out, err
		}
	}
	return out, nil
}

// linkRepo runs one repository: new commits from git, then the stored
// commits that need linking again.
func linkRepo(ctx context.Context, st *store.Store, m *matcher, r *store.RepoRow, o *Options) (*Result, error) {
	start := time.Now()
	res := &Result{Repo: r.Name, Grades: map[string]int{}}
	mark, err := st.MaxMessage(ctx)
	if err != nil {
		return nil, err
	}
	since := make([]string, 0, len(r.Heads))
	for _, sha := range r.Heads {
		since = append(since, sha)
	}
	sort.Strings(since)
	// git produces the log while the commits before are matched: a
	// reader goroutine feeds converted commits through a buffer.
	rctx, cancel := context.WithCancel(ctx)
	lr, err := gitrepo.Log(rctx, r.Path, &gitrepo.LogOptions{Since: since, WithDiff: true, Logger: o.Logger})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("link: repo %s: %w", r.Name, err)
	}
	type item struct {
		row     *store.CommitRow
		problem bool // its changes could not be read
		err     error
	}
	ch := make(chan item, 256)
	go func() {
		defer close(ch)
		for {
			c, err := lr.Next()
			if err == io.EOF {
				return
			}
			it := item{err: err}
			if err == nil {
				it.row, it.problem = CommitRow(c), c.Problem != nil
				if o.Hook != nil {
					o.Hook.Read(c)
				}
			}
			select {
			case ch <- it:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range ch {
		}
		lr.Close()
	}()
	read := map[string]bool{}
	var batch []*store.CommitRow
	for it := range ch {
		if it.err != nil {
			return res, fmt.Errorf("link: repo %s: %w", r.Name, it.err)
		}
		row := it.row
		read[row.SHA] = true
		if it.problem {
			// Another repository may hold this commit in full: keep
			// what it read rather than the empty changes.
			if err := keepStoredChanges(ctx, st, row); err != nil {
				return res, err
			}
		}
		batch = append(batch, row)
		if len(batch) >= o.BatchSize {
			if err := resolveShorts(ctx, r.Path, batch); err != nil {
				return res, err
			}
			if err := writeBatch(ctx, st, m, r.ID, batch, res, nil, o.Hook); err != nil {
				return res, err
			}
			res.Read += len(batch)
			o.Logger.Info("link: commits stored", "repo", r.Name, "read", res.Read)
			batch = batch[:0]
		}
	}
	if err := ctx.Err(); err != nil {
		// The reader stopped early: the heads must not be stored.
		return res, fmt.Errorf("link: repo %s: %w", r.Name, err)
	}
	res.Dropped = lr.Dropped()
	if err := resolveShorts(ctx, r.Path, batch); err != nil {
		return res, err
	}
	res.Read += len(batch)
	var again []*store.CommitRow
	if o.Full || mark > r.MessageMark {
		stored, err := st.RepoCommits(ctx, r.ID, !o.Full)
		if err != nil {
			return res, err
		}
		for _, c := range stored {
			if !read[c.SHA] {
				again = append(again, c)
			}
		}
	}
	res.Relinked = len(again)
	// The heads are stored with the last batch, so an interrupted run
	// reads the same commits again (writes are idempotent).
	problems := lr.Problems()
	for _, p := range problems {
		loc := "commit " + p.Commit
		if p.Commit == "" {
			loc = "history"
		}
		res.Problems = append(res.Problems, loc+": "+p.String())
		o.Logger.Warn("link: commit not read in full", "repo", r.Name, "at", loc, "problem", p.String())
	}
	state := func(tx *store.Tx) error {
		for i, p := range problems {
			loc, _, _ := strings.Cut(res.Problems[i], ": ")
			if err := tx.AddRepoProblem(r.ID, loc, p.String()); err != nil {
				return err
			}
		}
		return tx.SetRepoState(r.ID, lr.Heads(), mark, time.Now())
	}
	for len(again) > o.BatchSize {
		if err := writeBatch(ctx, st, m, 0, again[:o.BatchSize], res, nil, o.Hook); err != nil {
			return res, err
		}
		again = again[o.BatchSize:]
	}
	if err := writeBatch(ctx, st, m, r.ID, batch, res, nil, o.Hook); err != nil {
		return res, err
	}
	if err := writeBatch(ctx, st, m, 0, again, res, state, o.Hook); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	o.Logger.Info("link: repository linked", "repo", r.Name, "read", res.Read, "relinked", res.Relinked, "linked", res.Linked, "elapsed", res.Elapsed.Round(time.Millisecond))
	return res, nil
}

// keepStoredChanges copies the changes (files, patch-id, sketch) of the
// stored commit with row's id into row, when the store has them: a
// commit this repository cannot read in full may have been read in full
// from another one.
func keepStoredChanges(ctx context.Context, st *store.Store, row *store.CommitRow) error {
	c, err := st.Commit(ctx, row.SHA)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.SHA == row.SHA && (c.PatchID != "" || len(c.Files) > 0) {
		row.Files, row.PatchID, row.Sketch = c.Files, c.PatchID, c.Sketch
	}
	return nil
}

// writeBatch links the commits (reading the store), then stores them
// (when repo is not 0) and their links in one transaction, running
// extra inside it before the commit. The same transaction queues for the
// search index the commits stored and every commit and message whose
// links changed; hook (if any) is told once it is durable.
func writeBatch(ctx context.Context, st *store.Store, m *matcher, repo int64, rows []*store.CommitRow, res *Result, extra func(*store.Tx) error, hook Hook) error {
	links := make([][]store.LinkRow, len(rows))
	for i, c := range rows {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("link: %w", err)
		}
		ls, err := m.links(ctx, c)
		if err != nil {
			return fmt.Errorf("link: commit %s: %w", c.SHA, err)
		}
		links[i] = ls
		if len(ls) > 0 && ls[0].Role == store.RoleApplied {
			res.Linked++
			res.Grades[ls[0].Grade]++
		}
	}
	tx, err := st.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, c := range rows {
		if repo != 0 {
			if _, err := tx.PutCommit(repo, c); err != nil {
				return err
			}
		}
		for j := range links[i] {
			links[i][j].Commit = c.ID
		}
		old, err := tx.CommitLinkKeys(c.ID)
		if err != nil {
			return err
		}
		if err := tx.SetLinks(c.ID, links[i]); err != nil {
			return err
		}
		changed := changedMessages(old, links[i])
		if err := tx.Enqueue(changed...); err != nil {
			return err
		}
		if repo != 0 || len(changed) > 0 {
			if err := tx.EnqueueCommits(c.ID); err != nil {
				return err
			}
		}
	}
	if extra != nil {
		if err := extra(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if hook != nil {
		return hook.Committed(ctx)
	}
	return nil
}

// changedMessages lists the messages whose link to a commit appeared,
// disappeared or changed role: their search documents (is:, commit:,
// repo:, cve:) and the commit's (is:applied, is:offlist) must be
// rebuilt. A link whose grade or score alone changed leaves both
// documents as they are (hits read grades from the store), so a relink
// that only regrades reindexes nothing.
func changedMessages(old []store.LinkKey, now []store.LinkRow) []int64 {
	was := make(map[int64]store.LinkKey, len(old))
	for _, k := range old {
		was[k.Message] = k
	}
	var out []int64
	for _, l := range now {
		k, ok := was[l.Message]
		delete(was, l.Message)
		if !ok || k.Role != l.Role {
			out = append(out, l.Message)
		}
	}
	for id := range was {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
