package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"patchtrail/indexer"
	"patchtrail/internal/config"
	"patchtrail/internal/mirror"
	"patchtrail/internal/store"
)

func init() {
	register(&command{name: "clone", args: "[--list NAME] [--no-index] URL", short: "mirror a public-inbox over HTTP(S) (all epochs) and import it", run: runClone})
	register(&command{name: "fetch", args: "[--no-index] [LIST...]", short: "update the mirrors (following new epochs) and import what is new", run: runFetch})
}

// mirrorsDir holds the mirrors of the data directory.
func mirrorsDir(e *env) string { return filepath.Join(e.data, indexer.MirrorsDirName) }

func runClone(ctx context.Context, e *env, args []string) error {
	fs := e.flags("clone")
	list := fs.String("list", "", "list name (default: the last element of URL)")
	noIndex := fs.Bool("no-index", false, "do not update the search index now")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one URL")
	}
	url, err := mirror.NormalizeURL(fs.Arg(0))
	if err != nil {
		return usageError(err.Error())
	}
	name := *list
	if name == "" {
		name = mirror.ListName(url)
	}
	if !config.ValidName(name) {
		return usageError(fmt.Sprintf("cannot name a list %q after %s; give --list", name, url))
	}
	w, err := openWriter(ctx, e, &indexer.WriterOptions{NoIndex: *noIndex})
	if err != nil {
		return err
	}
	defer w.Close()
	st, hooks := w.Store, w.Hooks
	dir := indexer.MirrorDir(mirrorsDir(e), name, 0)
	m, fr, err := mirror.Clone(ctx, url, dir, name, &mirror.Options{Logger: e.log})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d epochs cloned into %s\n", url, len(fr.Cloned), dir)
	return importMirror(ctx, e, st, hooks, m)
}

// importMirror imports a mirror directory (a v2 inbox: every epoch in
// order, from the checkpoints) and reports it.
func importMirror(ctx context.Context, e *env, st *store.Store, hooks []indexer.Hook, m *mirror.Mirror) error {
	res, err := indexer.Import(ctx, st, m.Dir, &indexer.Options{List: m.List, Logger: e.log, Progress: e.stderr, Hooks: hooks})
	if res != nil {
		fmt.Fprintf(e.stdout, "%s (%s): read %d, added %d, duplicates %d, deleted %d, rejected %d in %s\n",
			m.URL, res.List, res.Read, res.Added, res.Duplicates, res.Deleted, res.Rejected, res.Elapsed.Round(1e6))
	}
	return err
}

func runFetch(ctx context.Context, e *env, args []string) error {
	fs := e.flags("fetch")
	noIndex := fs.Bool("no-index", false, "do not update the search index now")
	if err := parse(fs, args); err != nil {
		return err
	}
	mirrors, err := mirror.List(mirrorsDir(e))
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		want := map[string]bool{}
		for _, a := range fs.Args() {
			want[a] = true
		}
		var pick []*mirror.Mirror
		for _, m := range mirrors {
			if want[m.List] || want[filepath.Base(m.Dir)] {
				pick = append(pick, m)
				delete(want, m.List)
				delete(want, filepath.Base(m.Dir))
			}
		}
		if len(want) > 0 {
			var names []string
			for n := range want {
				names = append(names, n)
			}
			return usageError("no mirror for " + strings.Join(names, ", "))
		}
		mirrors = pick
	}
	if len(mirrors) == 0 {
		return errors.New("no mirrors (make one with `patchtrail clone URL`)")
	}
	w, err := openWriter(ctx, e, &indexer.WriterOptions{NoIndex: *noIndex})
	if err != nil {
		return err
	}
	defer w.Close()
	st, hooks := w.Store, w.Hooks
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	s := indexer.NewSyncer(st, hooks, cfg, syncOptions(e))
	var jobs []mirror.Job
	for _, m := range mirrors {
		jobs = append(jobs, s.MirrorJob(m.List, m.URL, m.Dir))
	}
	return printReport(e, s.Round(ctx, jobs))
}
