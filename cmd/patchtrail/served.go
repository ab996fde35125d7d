package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"patchtrail/internal/daemon"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// runInServer runs the command line args (a command that only reads) in
// the server of the data directory, when one answers on its socket, and
// returns its exit status; ok is false when there is no server and the
// command is to run here.
func runInServer(ctx context.Context, e *env, args []string, verbose, quiet bool) (code int, ok bool) {
	c, err := daemon.Dial(ctx, e.data)
	if errors.Is(err, daemon.ErrNoServer) {
		return 0, false
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "patchtrail %s: %v\n", args[0], err)
		return 1, true
	}
	req := &daemon.Request{Args: args, Config: e.config, Verbose: verbose, Quiet: quiet}
	if req.Config != "" {
		if abs, err := filepath.Abs(req.Config); err == nil {
			req.Config = abs
		}
	}
	code, err = c.Run(ctx, req, e.stdout, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "patchtrail %s: %v\n", args[0], err)
		if ctx.Err() != nil {
			return 130, true
		}
		return 1, true
	}
	return code, true
}

// commandHandler runs the read commands clients send to `serve` over the
// socket, with the server's index and the client's outputs, global flags
// and configuration file.
func commandHandler(e *env, ix *search.Index) daemon.Handler {
	return func(ctx context.Context, req *daemon.Request, stdout, stderr io.Writer) (code int) {
		cmd := lookup(req.Args[0])
		if cmd == nil || cmd.reads == nil || !cmd.reads(req.Args[1:]) {
			fmt.Fprintf(stderr, "patchtrail: the server (pid %d) runs only commands that read, not %q\n", os.Getpid(), req.Args[0])
			return 2
		}
		level := slog.LevelInfo
		if req.Verbose {
			level = slog.LevelDebug
		}
		if req.Quiet {
			level = slog.LevelWarn
		}
		ce := &env{
			data:   e.data,
			config: req.Config,
			stdout: stdout,
			stderr: stderr,
			log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
			served: ix,
		}
		defer func() {
			if p := recover(); p != nil {
				e.log.Error("command panicked", "args", req.Args, "panic", p)
				fmt.Fprintf(stderr, "patchtrail %s: internal error in the server (pid %d): %v\n", cmd.name, os.Getpid(), p)
				code = 1
			}
		}()
		return dispatch(ctx, ce, cmd, req.Args[1:])
	}
}

// readIndex opens the search index for reading; in a command the server
// runs it is the server's (done then leaves it open).
func readIndex(e *env) (ix *search.Index, done func(), err error) {
	if e.served != nil {
		return e.served, func() {}, nil
	}
	ix, err = openIndex(e, true)
	if err != nil {
		return nil, nil, err
	}
	return ix, func() { ix.Close() }, nil
}

// checkServed fails at once when a server of the data directory holds
// what a write needs: the store, which a server that syncs holds for
// writing, or (index) the search index, which every server holds. The
// message names the server's pid and what to do.
func checkServed(ctx context.Context, e *env, index bool) error {
	info, err := daemon.Probe(ctx, e.data)
	if err != nil {
		return nil // no server (or none we can ask): the locks decide
	}
	switch {
	case info.Sync:
		return fmt.Errorf("%s is held for writing by `patchtrail serve --sync` (pid %d); stop it (kill %d) and run this again; "+
			"to import mail while serving, add the source to the configuration (doc/config.md): the server imports it at its next sync round", e.data, info.PID, info.PID)
	case index:
		return fmt.Errorf("the search index of %s is held by `patchtrail serve` (pid %d); stop it (kill %d), run this and start the server again, "+
			"or serve with --sync and add the source to the configuration (doc/config.md) to import while serving", e.data, info.PID, info.PID)
	}
	return nil
}

// openWrite opens the store of the data directory for writing, failing at
// once while a server holds it.
func openWrite(ctx context.Context, e *env) (*store.Store, error) {
	if err := checkServed(ctx, e, false); err != nil {
		return nil, err
	}
	return store.Open(ctx, e.data, nil)
}

// indexBusy explains a search index that stayed locked: the process that
// writes the data directory (an import, reindex or sync) holds it.
func indexBusy(e *env, err error) error {
	if !errors.Is(err, search.ErrLocked) {
		return err
	}
	if pid := store.LockHolder(e.data); pid > 0 {
		return fmt.Errorf("%w\nprocess %d (an import, reindex, link or sync) is writing %s; run this when it is done", err, pid, e.data)
	}
	return err
}
