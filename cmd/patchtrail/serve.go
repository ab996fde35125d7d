package main

import (
	"context"

	"patchtrail/api"
)

func init() {
	register(&command{name: "serve", args: "[--addr 127.0.0.1:8080]", short: "serve the JSON API, lore endpoints and web pages", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	timeout := fs.Duration("timeout", 0, "deadline of a request (default 10s)")
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
	ix, err := openIndex(e, true)
	if err != nil {
		return err
	}
	defer ix.Close()
	srv := api.New(st, ix, &api.Options{Logger: e.log, RequestTimeout: *timeout})
	// ctx ends on SIGINT/SIGTERM (main); Serve then shuts down gracefully.
	return srv.Serve(ctx, *addr)
}
