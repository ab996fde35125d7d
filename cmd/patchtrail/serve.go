package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"patchtrail/api"
	"patchtrail/internal/daemon"
	"patchtrail/search"
)

func init() {
	register(&command{name: "serve", args: "[--addr 127.0.0.1:8080] [--timeout 10s] [--cache MiB] [--sync INTERVAL] [--base-url URL] [--no-result-cache]", short: "serve the JSON API, lore endpoints and web pages", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := e.flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline of a request (downloads get 2m)")
	syncEvery := fs.Duration("sync", 0, "also sync every configured source every `INTERVAL` (e.g. 5m); the server then owns the store and index")
	baseURL := fs.String("base-url", "", "`URL` the site is reached at (e.g. https://lore.example.org), used in redirects and Atom feeds; default the address a request came in on, never its Host header")
	cacheMB := fs.Int64("cache", api.DefaultCacheBytes>>20, "MiB of memory for cached answers (whole thread answers, thread trees, rendered bodies, gzipped messages; doc/api.md); 0 caches nothing")
	commitURL := fs.String("commit-url", "", "web `URL` of a commit in no registered repository, {sha} standing for its id (default: the configuration's [serve] commit-url, else "+api.DefaultCommitURL+")")
	noResultCache := fs.Bool("no-result-cache", false, "keep no search results in memory (every search runs on the index; to measure query latency)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("serve takes no arguments")
	}
	if *commitURL == "" {
		cfg, err := loadConfig(e)
		if err != nil {
			return err
		}
		*commitURL = cfg.Serve.CommitURL
	}
	cacheEntries := 0 // search's default
	if *noResultCache {
		cacheEntries = -1
	}
	var ix *search.Index
	if *syncEvery > 0 {
		bg, err := startSync(ctx, e, *syncEvery, cacheEntries)
		if err != nil {
			return err
		}
		defer bg.stop()
		ix = bg.ix
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	if ix == nil {
		var wait func()
		if ix, wait, err = openServeIndex(ctx, e, st, cacheEntries); err != nil {
			return err
		}
		defer ix.Close()
		defer wait()
	}
	cacheBytes := *cacheMB << 20
	if cacheBytes <= 0 {
		cacheBytes = -1
	}
	srv := api.New(st, ix, &api.Options{Logger: e.log, RequestTimeout: *timeout, CacheBytes: cacheBytes, BaseURL: *baseURL, CommitURL: *commitURL})
	// Read commands of the CLI on this data directory run here, through
	// the socket (internal/daemon): the index can be open in one process.
	d, err := daemon.Listen(e.data, daemon.Info{PID: os.Getpid(), Sync: *syncEvery > 0}, commandHandler(e, ix), e.log)
	if err != nil {
		e.log.Warn("commands on this data directory will not run through this server", "err", err)
	} else {
		defer d.Close() // before the index and store close
		go func() {
			if err := d.Serve(ctx); err != nil {
				e.log.Error("command socket", "err", err)
			}
		}()
		e.log.Info("answering commands", "socket", d.Path())
	}
	// ctx ends on SIGINT/SIGTERM (main); Serve then shuts down gracefully.
	return srv.Serve(ctx, *addr)
}

// serveLockWait is how long serve waits for the search index before it
// names the process that writes it and gives up.
const serveLockWait = 500 * time.Millisecond

// openServedIndex opens the search index read-only for serve. While an
// import (or reindex, or `serve --sync`) writes it, serve fails at once,
// naming that process.
func openServedIndex(ctx context.Context, e *env, cacheEntries int) (*search.Index, error) {
	if info, err := daemon.Probe(ctx, e.data); err == nil && info.Sync {
		return nil, fmt.Errorf("the search index of %s is held for writing by `patchtrail serve --sync` (pid %d); it serves already", e.data, info.PID)
	}
	ix, err := search.Open(indexDir(e), &search.Options{ReadOnly: true, Logger: e.log, LockTimeout: serveLockWait, CacheEntries: cacheEntries})
	return ix, indexBusy(e, reindexHint(e, err))
}
