package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"patchtrail/indexer"
	"patchtrail/internal/config"
	"patchtrail/internal/link"
	"patchtrail/internal/mirror"
	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

func init() {
	register(&command{name: "sync", args: "[--no-index] [--json]", short: "bring every configured source up to date once, then link commits", run: runSync})
	register(&command{name: "sources", args: "[--json]", short: "show each source with its last sync, messages and last error", run: runSources})
}

// loadConfig reads --config, or DATA/patchtrail.toml when it exists.
func loadConfig(e *env) (*config.Config, error) {
	if e.config != "" {
		return config.Load(e.config, false)
	}
	return config.Load(config.DefaultPath(e.data), true)
}

// syncer builds and runs the jobs of a sync round over one writable
// store and its import hooks.
type syncer struct {
	e     *env
	st    *store.Store
	hooks []indexer.Hook
	cfg   *config.Config

	details map[string]string // job name → what it did (jobs run one at a time)
}

func (s *syncer) note(job, detail string) {
	if s.details == nil {
		s.details = map[string]string{}
	}
	s.details[job] = detail
}

// mirrorDir is where the i-th mirror source of list lives.
func (s *syncer) mirrorDir(list string, i int) string {
	if i == 0 {
		return filepath.Join(mirrorsDir(s.e), list)
	}
	return filepath.Join(mirrorsDir(s.e), fmt.Sprintf("%s.%d", list, i+1))
}

// jobs lists the work of one round: every configured source, the
// mirrors made by `clone` that the configuration does not name, and
// linking when there are code repositories.
func (s *syncer) jobs(ctx context.Context) ([]mirror.Job, error) {
	var jobs []mirror.Job
	seen := map[string]bool{} // mirror directories with a job
	for _, l := range s.cfg.Lists {
		nm := 0
		for _, src := range l.Sources {
			switch src.Kind() {
			case "mirror":
				dir := s.mirrorDir(l.Name, nm)
				nm++
				seen[dir] = true
				jobs = append(jobs, s.mirrorJob(l.Name, src.Mirror, dir))
			case "imap":
				jobs = append(jobs, s.importJob(l.Name, src.IMAP, &mbox.IMAPOptions{PasswordFile: src.PasswordFile}))
			default:
				jobs = append(jobs, s.importJob(l.Name, src.Path, nil))
			}
		}
	}
	ms, err := mirror.List(mirrorsDir(s.e))
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !seen[m.Dir] {
			jobs = append(jobs, s.mirrorJob(m.List, m.URL, m.Dir))
		}
	}
	repos, err := s.st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	if len(repos) > 0 || len(s.cfg.Repos) > 0 {
		jobs = append(jobs, s.linkJob())
	}
	return jobs, nil
}

// record notes the outcome of a job on its source in the store; an
// interrupted job (Ctrl-C, SIGTERM) is no outcome.
func (s *syncer) record(path, list string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if rerr := s.st.RecordSync(context.Background(), path, list, time.Now(), msg); rerr != nil {
		s.e.log.Warn("cannot record the sync of a source", "source", path, "err", rerr)
	}
}

func (s *syncer) imported(job string, res *indexer.Result) {
	if res != nil {
		s.note(job, fmt.Sprintf("read %d, added %d, duplicates %d, rejected %d", res.Read, res.Added, res.Duplicates, res.Rejected))
	}
}

// mirrorJob clones (the first time) or fetches a public-inbox mirror,
// then imports what is new.
func (s *syncer) mirrorJob(list, url, dir string) mirror.Job {
	name := list + " mirror " + url
	abs, _ := filepath.Abs(dir)
	return mirror.Job{Name: name, Run: func(ctx context.Context) (err error) {
		defer func() { s.record(abs, list, err) }()
		_, fr, err := mirror.Clone(ctx, url, dir, list, &mirror.Options{Logger: s.e.log})
		if err != nil {
			return err
		}
		res, err := indexer.Import(ctx, s.st, dir, &indexer.Options{List: list, Logger: s.e.log, Hooks: s.hooks})
		s.imported(name, res)
		if fr != nil && len(fr.Cloned) > 0 {
			s.note(name, fmt.Sprintf("%s; cloned epochs %v", s.details[name], fr.Cloned))
		}
		return err
	}}
}

// importJob imports a local path or polls an IMAP mailbox.
func (s *syncer) importJob(list, source string, imapOpts *mbox.IMAPOptions) mirror.Job {
	kind, key := "path", source
	if mbox.IsIMAPURL(source) {
		kind = "imap"
	} else if abs, err := filepath.Abs(source); err == nil {
		key = abs
	}
	name := list + " " + kind + " " + source
	return mirror.Job{Name: name, Run: func(ctx context.Context) (err error) {
		defer func() { s.record(key, list, err) }()
		res, err := indexer.Import(ctx, s.st, source, &indexer.Options{List: list, Logger: s.e.log, Hooks: s.hooks, IMAP: imapOpts})
		s.imported(name, res)
		return err
	}}
}

// linkJob registers the configured repositories, fetches those marked
// fetch = true, and links the new commits of every registered one.
func (s *syncer) linkJob() mirror.Job {
	const name = "link commits"
	return mirror.Job{Name: name, Run: func(ctx context.Context) error {
		for _, r := range s.cfg.Repos {
			if r.Fetch {
				out, err := exec.CommandContext(ctx, "git", "-C", r.Path, "fetch", "--quiet", "--all", "--prune").CombinedOutput()
				if err != nil {
					return fmt.Errorf("git fetch in %s: %w: %s", r.Path, err, strings.TrimSpace(string(out)))
				}
			}
			if err := link.AddRepo(ctx, s.st, r.Name, r.Path); err != nil {
				return err
			}
		}
		res, err := link.Link(ctx, s.st, &link.Options{Logger: s.e.log})
		var parts []string
		for _, r := range res {
			parts = append(parts, fmt.Sprintf("%s: %d new commits, %d linked", r.Repo, r.Read, r.Linked))
		}
		s.note(name, strings.Join(parts, "; "))
		return err
	}}
}

// round runs jobs with the configured retries and backoff.
func (s *syncer) round(ctx context.Context, jobs []mirror.Job) []mirror.JobResult {
	return mirror.Round(ctx, jobs, &mirror.RoundOptions{
		Retries: s.cfg.Sync.Retries, Backoff: time.Duration(s.cfg.Sync.Backoff), Logger: s.e.log,
	})
}

// report prints one line per job and returns an error naming the jobs
// that failed.
func (s *syncer) report(results []mirror.JobResult) error {
	var failed []string
	for _, r := range results {
		status, detail := "ok", s.details[r.Name]
		if r.Err != nil {
			status, detail = "FAILED", r.Err.Error()
			failed = append(failed, r.Name)
		}
		fmt.Fprintf(s.e.stdout, "%-6s %s (%d attempts, %s): %s\n", status, r.Name, r.Attempts, r.Elapsed.Round(time.Millisecond), detail)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d sync jobs failed: %s", len(failed), len(results), strings.Join(failed, "; "))
	}
	return nil
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs := flags("sync")
	noIndex := fs.Bool("no-index", false, "do not update the search index now")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	st, hooks, done, err := openWriter(ctx, e, *noIndex)
	if err != nil {
		return err
	}
	defer done()
	s := &syncer{e: e, st: st, hooks: hooks, cfg: cfg}
	jobs, err := s.jobs(ctx)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return errors.New("nothing to sync: no sources in " + config.DefaultPath(e.data) + " (see doc/config.md) and no mirrors")
	}
	results := s.round(ctx, jobs)
	if *asJSON {
		if err := writeJSON(e, results); err != nil {
			return err
		}
		for _, r := range results {
			if r.Err != nil {
				return fmt.Errorf("some sources failed")
			}
		}
		return nil
	}
	return s.report(results)
}

// syncLoop runs a sync round every interval (measured from the end of
// the previous one) until ctx ends, over the store and search index the
// serving process owns.
func syncLoop(ctx context.Context, e *env, st *store.Store, ix *search.Index, interval time.Duration) {
	hooks := []indexer.Hook{indexer.NewSearchHook(st, ix, e.log)}
	for {
		start := time.Now()
		cfg, err := loadConfig(e)
		if err != nil {
			e.log.Error("sync: configuration unusable, skipping the round", "err", err)
		} else {
			s := &syncer{e: e, st: st, hooks: hooks, cfg: cfg}
			if n, err := indexer.Drain(ctx, st, ix, nil); err != nil {
				e.log.Error("sync: indexing queued messages", "err", err)
			} else if n > 0 {
				e.log.Info("sync: indexed queued messages", "messages", n)
			}
			jobs, err := s.jobs(ctx)
			if err != nil {
				e.log.Error("sync: listing sources", "err", err)
			}
			failed := 0
			for _, r := range s.round(ctx, jobs) {
				if r.Err != nil {
					failed++
				}
			}
			e.log.Info("sync: round done", "sources", len(jobs), "failed", failed, "elapsed", time.Since(start).Round(time.Millisecond))
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backgroundSync is the sync loop of `serve --sync`: it owns the
// writable store and the search index, which the server searches too
// (a bleve index can be open in one process only), so new messages are
// searchable as soon as a batch commits.
type backgroundSync struct {
	st     *store.Store
	ix     *search.Index
	cancel context.CancelFunc
	done   chan struct{}
}

// startSync opens the store and index for writing and starts syncing.
func startSync(ctx context.Context, e *env, interval time.Duration) (*backgroundSync, error) {
	if _, err := loadConfig(e); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, e.data, nil)
	if err != nil {
		return nil, err
	}
	ix, err := openIndex(e, false)
	if err != nil {
		st.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	bg := &backgroundSync{st: st, ix: ix, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(bg.done)
		syncLoop(ctx, e, st, ix, interval)
	}()
	e.log.Info("syncing while serving", "interval", interval)
	return bg, nil
}

// stop ends the loop (an import in progress commits what it applied)
// and closes the index and store.
func (b *backgroundSync) stop() {
	b.cancel()
	<-b.done
	b.ix.Close()
	b.st.Close()
}

// sourceView is one line of `patchtrail sources`.
type sourceView struct {
	List       string    `json:"list"`
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	Path       string    `json:"path"`
	Configured bool      `json:"configured"`
	LastSync   time.Time `json:"last_sync"`
	Messages   int64     `json:"messages"`
	Problems   int64     `json:"problems"`
	LastError  string    `json:"last_error,omitempty"`
}

func runSources(ctx context.Context, e *env, args []string) error {
	fs := flags("sources")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	states := map[string]store.SourceState{}
	if st, err := openRead(ctx, e); err == nil {
		ss, err := st.SourceStates(ctx)
		st.Close()
		if err != nil {
			return err
		}
		for _, s := range ss {
			states[s.Path] = s
		}
	}
	s := &syncer{e: e, cfg: cfg}
	var views []sourceView
	add := func(list, kind, source, path string, configured bool) {
		v := sourceView{List: list, Kind: kind, Source: source, Path: path, Configured: configured}
		if st, ok := states[path]; ok {
			v.LastSync, v.Messages, v.Problems, v.LastError = st.LastSync, st.Messages, st.Problems, st.LastError
			delete(states, path)
		}
		views = append(views, v)
	}
	mirrors, err := mirror.List(mirrorsDir(e))
	if err != nil {
		return err
	}
	mirrorURL := map[string]string{}
	for _, m := range mirrors {
		abs, _ := filepath.Abs(m.Dir)
		mirrorURL[abs] = m.URL
	}
	for _, l := range cfg.Lists {
		nm := 0
		for _, src := range l.Sources {
			switch src.Kind() {
			case "mirror":
				abs, _ := filepath.Abs(s.mirrorDir(l.Name, nm))
				nm++
				add(l.Name, "mirror", src.Mirror, abs, true)
				delete(mirrorURL, abs)
			case "imap":
				add(l.Name, "imap", src.IMAP, src.IMAP, true)
			default:
				abs, _ := filepath.Abs(src.Path)
				add(l.Name, "path", src.Path, abs, true)
			}
		}
	}
	var rest []string
	for p := range states {
		rest = append(rest, p)
	}
	sort.Strings(rest)
	for _, p := range rest {
		kind, source := "path", p
		if u, ok := mirrorURL[p]; ok {
			kind, source = "mirror", u
		} else if mbox.IsIMAPURL(p) {
			kind = "imap"
		}
		add(states[p].List, kind, source, p, false)
	}
	if *asJSON {
		return writeJSON(e, views)
	}
	if len(views) == 0 {
		fmt.Fprintln(e.stdout, "no sources (import something, or configure lists: see doc/config.md)")
		return nil
	}
	for _, v := range views {
		last := "never"
		if !v.LastSync.IsZero() {
			last = v.LastSync.Local().Format("2006-01-02 15:04:05")
		}
		mark := ""
		if !v.Configured {
			mark = " (not in the configuration)"
		}
		fmt.Fprintf(e.stdout, "%-16s %-6s %s%s\n    last sync %s, %d messages, %d problems", v.List, v.Kind, v.Source, mark, last, v.Messages, v.Problems)
		if v.LastError != "" {
			fmt.Fprintf(e.stdout, "\n    last error: %s", v.LastError)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

// imapOptions returns the IMAP options for source: the password file of
// --password-file, else the one the configuration gives for the mailbox.
func imapOptions(e *env, source, passwordFile string) (*mbox.IMAPOptions, error) {
	if passwordFile != "" || !mbox.IsIMAPURL(source) {
		return &mbox.IMAPOptions{PasswordFile: passwordFile}, nil
	}
	canon, err := mbox.CanonicalIMAPURL(source)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	for _, l := range cfg.Lists {
		for _, src := range l.Sources {
			if src.IMAP == canon {
				return &mbox.IMAPOptions{PasswordFile: src.PasswordFile}, nil
			}
		}
	}
	return nil, nil
}
