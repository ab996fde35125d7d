package main

import (
	"context"
	"errors"
	"time"

	"patchtrail/api"
	"patchtrail/search"
)

func init() {
	register(&command{name: "serve", args: "[--addr 127.0.0.1:8080] [--timeout 10s] [--cache MiB] [--sync INTERVAL] [--base-url URL]", short: "serve the JSON API, lore endpoints and web pages", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline of a request (downloads get 2m)")
	syncEvery := fs.Duration("sync", 0, "also sync every configured source every `INTERVAL` (e.g. 5m); the server then owns the store and index")
	baseURL := fs.String("base-url", "", "`URL` the site is reached at (e.g. https://lore.example.org), used in redirects and Atom feeds; default the address a request came in on, never its Host header")
	cacheMB := fs.Int64("cache", api.DefaultCacheBytes>>20, "MiB of memory for cached answers (whole thread answers, thread trees, rendered bodies, gzipped messages; doc/api.md); 0 caches nothing")
	commitURL := fs.String("commit-url", "", "web `URL` of a commit in no registered repository, {sha} standing for its id (default: the configuration's [serve] commit-url, else "+api.DefaultCommitURL+")")
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
	var ix *search.Index
	if *syncEvery > 0 {
		bg, err := startSync(ctx, e, *syncEvery)
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
		if ix, wait, err = openServeIndex(ctx, e, st); err != nil {
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
	// ctx ends on SIGINT/SIGTERM (main); Serve then shuts down gracefully.
	return srv.Serve(ctx, *addr)
}

// openIndexWaiting opens the search index read-only. While an import
// has it open for writing, Open fails with search.ErrLocked after its lock
// timeout; serve then keeps waiting for the import to end (or ctx).
func openIndexWaiting(ctx context.Context, e *env) (*search.Index, error) {
	for warned := false; ; warned = true {
		ix, err := openIndex(e, true)
		if !errors.Is(err, search.ErrLocked) {
			return ix, err
		}
		if !warned {
			e.log.Warn("waiting for the search index: another process (an import?) has it open for writing; serving starts when it is done", "data", e.data)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
