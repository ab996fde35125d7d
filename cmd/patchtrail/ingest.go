package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"patchtrail/indexer"
	"patchtrail/internal/store"
	"patchtrail/search"
)

func init() {
	register(&command{name: "import", args: "[--list NAME] [--json] [--password-file FILE] SOURCE...", short: "import mbox files, Maildirs, public-inbox archives and IMAP mailboxes", run: runImport})
	register(&command{name: "stats", args: "[--json]", short: "count what the store holds", run: runStats, reads: always})
}

// memoryFlag is the --memory flag of the commands that write the index
// (import, reindex, compact): the budget in MiB.
type memoryFlag struct{ mib *int64 }

func newMemoryFlag(fs *flag.FlagSet) memoryFlag {
	return memoryFlag{fs.Int64("memory", indexer.DefaultMemoryBudget>>20, "memory budget in `MiB`: sizes the batches and sets the Go runtime's soft memory limit (doc/scaling.md)")}
}

// apply checks the parsed budget, makes the Go runtime's soft memory
// limit fit it (unless GOMEMLIMIT is set; then the collector's percent
// too, unless GOGC is set), and returns it in bytes with the batch size
// in bytes that fits it.
func (f memoryFlag) apply() (budget, batchBytes int64, err error) {
	if *f.mib < 64 {
		return 0, 0, usageError("--memory must be at least 64 (MiB)")
	}
	budget = *f.mib << 20
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(indexer.GoMemoryLimit(budget))
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(indexer.GCPercent)
		}
	}
	return budget, indexer.BatchBytesFor(budget), nil
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("import")
	list := fs.String("list", "", "list name (default: the inbox name or List-Id)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	workers := fs.Int("workers", 0, "parse workers (default: one per CPU)")
	batch := fs.Int("batch-size", 0, "messages per store transaction (default 2000)")
	skipPatches := fs.Bool("skip-patches", false, "leave out the patch analysis (to measure its cost)")
	noIndex := fs.Bool("no-index", false, "do not update the search index now (the next import or reindex catches up)")
	noRadar := fs.Bool("no-radar", false, "do not score for the radar now (the next import or sync catches up)")
	passwordFile := fs.String("password-file", "", "`FILE` whose first line is the IMAP password (else the configuration, $PATCHTRAIL_IMAP_PASSWORD or ~/.netrc)")
	memory := newMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("no SOURCE given")
	}
	budget, batchBytes, err := memory.apply()
	if err != nil {
		return err
	}
	w, err := openWriter(ctx, e, &indexer.WriterOptions{NoIndex: *noIndex, NoRadar: *noRadar, MemoryBudget: budget})
	if err != nil {
		return err
	}
	defer w.Close()
	st, hooks := w.Store, w.Hooks
	var results []*indexer.Result
	var errs []error
	for _, src := range fs.Args() {
		imapOpts, err := imapOptions(e, src, *passwordFile)
		if err != nil {
			return err
		}
		res, err := indexer.Import(ctx, st, src, &indexer.Options{
			List: *list, Workers: *workers, BatchSize: *batch, BatchBytes: batchBytes, SkipPatches: *skipPatches, Logger: e.log, Progress: e.stderr, Hooks: hooks,
			IMAP: imapOpts, DeferFinish: true,
		})
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			e.log.Error("import failed", "source", src, "err", err)
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	// The radar scores what every source stored, once (it reads the
	// evidence of every stored message).
	if ctx.Err() == nil {
		if err := indexer.FinishHooks(ctx, hooks); err != nil {
			e.log.Error("scoring the radar failed", "err", err)
			errs = append(errs, err)
		}
	}
	if w.Index != nil && ctx.Err() == nil {
		// The batches' small segments, merged once now rather than after
		// every batch (search.Index.Compact).
		start := time.Now()
		if err := w.Index.Compact(ctx, nil); err != nil {
			e.log.Error("compacting the search index failed", "err", err)
			errs = append(errs, err)
		} else {
			e.log.Debug("search index compacted", "elapsed", time.Since(start).Round(time.Millisecond))
			noteCompaction(e, w.Index)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			fmt.Fprintf(e.stdout, "%s (%s): read %d, added %d, duplicates %d, deleted %d, rejected %d, %.1f MB in %s\n",
				r.Source, r.List, r.Read, r.Added, r.Duplicates, r.Deleted, r.Rejected, float64(r.Bytes)/1e6, r.Elapsed.Round(1e6))
		}
	}
	return errors.Join(errs...)
}

func runStats(ctx context.Context, e *env, args []string) error {
	fs := e.flags("stats")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	pc, err := st.PatchCounts(ctx)
	if err != nil {
		return err
	}
	notIndexed, err := st.QueueLen(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, struct {
			*store.Stats
			Patches    *store.PatchCounts `json:"patches"`
			NotIndexed int64              `json:"not_indexed"`
		}{s, pc, notIndexed})
	}
	fmt.Fprintf(e.stdout, "messages  %d\nthreads   %d\nghosts    %d\nlists     %d\nsources   %d\nproblems  %d (%d messages, %d source items)\ndeleted   %d\n",
		s.Messages, s.Threads, s.Ghosts, s.Lists, s.Sources, s.Problems, s.MessagesWithProblems, s.SourceProblems, s.Deleted)
	fmt.Fprintf(e.stdout, "patch mails %d\ncover letters %d\nseries    %d (%d of several patches, %d of them complete)\nversion chains %d (series with two or more versions)\npatch-ids %d\ntrailers  %d (%d given in replies)\n",
		pc.PatchMails, pc.CoverLetters, pc.Series, pc.MultiSeries, pc.Complete, pc.VersionChains, pc.PatchIDs, pc.Trailers, pc.ReplyTrailers)
	fmt.Fprintf(e.stdout, "not indexed %d%s\n", notIndexed, incompleteHint(notIndexed))
	return nil
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// compactDue is how many segments `patchtrail compact` must take off
// the closed partitions for an import to say it is due. A search reads
// every segment of the partitions it visits, and a count over all of
// them reads each one's dictionary: at 433,541 messages as imported the
// closed partitions held over 100 segments more than compact leaves (162
// segments in all, 23 after it), and body words took 110–270 ms where
// the compacted index answers in under 10 (doc/bench.md, "The scale run
// of session 20"); at 143k, 42 more cost next to nothing (12.8 ms at
// most against 6.0 compacted).
const compactDue = 64

// noteCompaction logs, once an import has compacted what it wrote, that
// `patchtrail compact` would take compactDue segments or more off the
// closed partitions, and what it would leave.
func noteCompaction(e *env, ix *search.Index) {
	segs, shards, err := ix.ClosedSegments()
	if err != nil || segs < shards+compactDue {
		return
	}
	e.log.Info("the closed partitions of the search index hold many segments, which every search over them reads; `patchtrail compact` merges them",
		"segments", segs, "after_compact", shards)
}
