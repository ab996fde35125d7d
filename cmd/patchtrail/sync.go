package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"patchtrail/indexer"
	"patchtrail/internal/config"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

func init() {
	register(&command{name: "sync", args: "[--no-index] [--json]", short: "bring every configured source up to date once, then link commits", run: runSync})
	register(&command{name: "sources", args: "[--json]", short: "show each source with its last sync, messages and last error", run: runSources, reads: always})
}

// loadConfig reads --config, or DATA/patchtrail.toml when it exists.
func loadConfig(e *env) (*config.Config, error) {
	if e.config != "" {
		return config.Load(e.config, false)
	}
	return config.Load(config.DefaultPath(e.data), true)
}

// syncOptions are the options of the Syncer of every command. The link
// job gets package link from here: indexer cannot import it.
func syncOptions(e *env) *indexer.SyncOptions {
	return &indexer.SyncOptions{MirrorsDir: mirrorsDir(e), Logger: e.log, AddRepo: link.AddRepo, Link: linkCommits}
}

// linkCommits links the new commits of every registered repository and
// says what it did, per repository.
func linkCommits(ctx context.Context, st *store.Store, log *slog.Logger) (string, error) {
	res, err := link.Link(ctx, st, &link.Options{Logger: log})
	var parts []string
	for _, r := range res {
		parts = append(parts, fmt.Sprintf("%s: %d new commits, %d linked", r.Repo, r.Read, r.Linked))
	}
	return strings.Join(parts, "; "), err
}

// printReport prints one line per job and returns an error naming the
// jobs that failed.
func printReport(e *env, rep *indexer.SyncReport) error {
	for _, r := range rep.Results {
		status, detail := "ok", r.Detail
		if r.Err != nil {
			status, detail = "FAILED", r.Err.Error()
		}
		fmt.Fprintf(e.stdout, "%-6s %s (%d attempts, %s): %s\n", status, r.Name, r.Attempts, r.Elapsed.Round(time.Millisecond), detail)
	}
	return rep.Err()
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs := e.flags("sync")
	noIndex := fs.Bool("no-index", false, "do not update the search index now")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	w, err := openWriter(ctx, e, &indexer.WriterOptions{NoIndex: *noIndex})
	if err != nil {
		return err
	}
	defer w.Close()
	st, hooks := w.Store, w.Hooks
	s := indexer.NewSyncer(st, hooks, cfg, syncOptions(e))
	jobs, err := s.Jobs(ctx)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return errors.New("nothing to sync: no sources in " + config.DefaultPath(e.data) + " (see doc/config.md) and no mirrors")
	}
	rep := s.Round(ctx, jobs)
	if *asJSON {
		if err := writeJSON(e, rep.Results); err != nil {
			return err
		}
		if len(rep.Failed()) > 0 {
			return fmt.Errorf("some sources failed")
		}
		return nil
	}
	return printReport(e, rep)
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
// cacheEntries sizes the index's result cache (search.Options).
func startSync(ctx context.Context, e *env, interval time.Duration, cacheEntries int) (*backgroundSync, error) {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	if err := checkServed(ctx, e, true); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, e.data, nil)
	if err != nil {
		return nil, err
	}
	ix, err := search.Open(indexDir(e), &search.Options{Logger: e.log, CacheEntries: cacheEntries})
	if err = indexBusy(e, reindexHint(e, err)); err != nil {
		st.Close()
		return nil, err
	}
	opts := syncOptions(e)
	opts.Reload = func() (*config.Config, error) { return loadConfig(e) }
	opts.Index = ix
	rh, err := indexer.OpenRadarHook(ctx, st, e.data, &indexer.WriterOptions{Logger: e.log})
	if err != nil {
		ix.Close()
		st.Close()
		return nil, err
	}
	s := indexer.NewSyncer(st, []indexer.Hook{indexer.NewSearchHook(st, ix, e.log), rh}, cfg, opts)
	ctx, cancel := context.WithCancel(ctx)
	bg := &backgroundSync{st: st, ix: ix, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(bg.done)
		s.Loop(ctx, interval)
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

func runSources(ctx context.Context, e *env, args []string) error {
	fs := e.flags("sources")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	var st *store.Store
	if s, err := openRead(ctx, e); err == nil {
		defer s.Close()
		st = s
	}
	views, err := indexer.Sources(ctx, st, cfg, mirrorsDir(e))
	if err != nil {
		return err
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
