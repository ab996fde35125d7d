package main

import (
	"context"
	"time"

	"patchtrail/api"
	"patchtrail/search"
)

func init() {
	register(&command{name: "serve", args: "[--addr 127.0.0.1:8080] [--timeout 10s]", short: "serve the JSON API, lore endpoints and web pages", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline of a request (downloads get 2m)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("serve takes no arguments")
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	ix, err := openIndexWaiting(ctx, e)
	if err != nil {
		return err
	}
	defer ix.Close()
	srv := api.New(st, ix, &api.Options{Logger: e.log, RequestTimeout: *timeout})
	// ctx ends on SIGINT/SIGTERM (main); Serve then shuts down gracefully.
	return srv.Serve(ctx, *addr)
}

// openIndexWaiting opens the search index read-only. While an import
// holds the index for writing, the open waits for it (bolt's file lock);
// say so instead of hanging silently.
func openIndexWaiting(ctx context.Context, e *env) (*search.Index, error) {
	type result struct {
		ix  *search.Index
		err error
	}
	done := make(chan result, 1)
	go func() {
		ix, err := openIndex(e, true)
		done <- result{ix, err}
	}()
	select {
	case r := <-done:
		return r.ix, r.err
	case <-time.After(2 * time.Second):
		e.log.Warn("waiting for the search index: another process (an import?) has it open for writing; serving starts when it finishes", "data", e.data)
	}
	select {
	case r := <-done:
		return r.ix, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.ix != nil {
				r.ix.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
