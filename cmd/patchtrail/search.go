package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"patchtrail/api"
	"patchtrail/indexer"
	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

func init() {
	register(&command{name: "search", args: "[--json|--mbox] [--limit N] [--offset N] [--sort date|relevance] [--threads] [--list L] QUERY", short: "search with lore's query language (see `help search`)", run: runSearch, reads: always})
	register(&command{name: "reindex", args: "[--span year|quarter|month] [--memory MiB]", short: "rebuild the search index from the store", run: runReindex})
	register(&command{name: "compact", args: "[--memory MiB]", short: "merge the search index's closed partitions into one segment per shard (faster, smaller searches)", run: runCompact})
	helpTopics["search"] = search.HelpText
}

func indexDir(e *env) string { return indexer.IndexDir(e.data) }

// openIndex opens the search index of the data directory.
func openIndex(e *env, readOnly bool) (*search.Index, error) {
	ix, err := search.Open(indexDir(e), &search.Options{ReadOnly: readOnly, Logger: e.log})
	return ix, indexBusy(e, reindexHint(e, err))
}

// reindexHint adds the command that rebuilds the index to a schema
// mismatch.
func reindexHint(e *env, err error) error {
	var se *search.SchemaError
	if errors.As(err, &se) {
		return fmt.Errorf("%w\nrebuild it with: patchtrail --data %s reindex", err, e.data)
	}
	return err
}

// openWriter opens the data directory for writing (indexer.OpenWriter).
// openWriter opens the data directory for writing with o's NoIndex and
// NoRadar (o may be nil), after checking that no server holds what the
// write needs.
func openWriter(ctx context.Context, e *env, o *indexer.WriterOptions) (*indexer.Writer, error) {
	var wo indexer.WriterOptions
	if o != nil {
		wo = *o
	}
	if err := checkServed(ctx, e, !wo.NoIndex); err != nil {
		return nil, err
	}
	wo.Logger, wo.Progress = e.log, e.stderr
	w, err := indexer.OpenWriter(ctx, e.data, &wo)
	return w, reindexHint(e, err)
}

func runReindex(ctx context.Context, e *env, args []string) error {
	fs := e.flags("reindex")
	span := fs.String("span", search.SpanYear, "time span of an index partition: year, quarter or month (smaller for stores of more than ~50,000 messages a year; doc/scaling.md)")
	memory := newMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	budget, batchBytes, err := memory.apply()
	if err != nil {
		return err
	}
	if err := checkServed(ctx, e, true); err != nil {
		return err
	}
	st, err := store.Open(ctx, e.data, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := os.RemoveAll(indexDir(e)); err != nil {
		return err
	}
	sopts := indexer.SearchOptions(budget, e.log)
	sopts.Span = *span
	ix, err := search.Open(indexDir(e), sopts)
	if err != nil {
		return indexBusy(e, err)
	}
	defer ix.Close()
	if err := st.EnqueueAll(ctx); err != nil {
		return err
	}
	if err := st.EnqueueAllCommits(ctx); err != nil {
		return err
	}
	n, err := indexer.DrainWithProgress(ctx, st, ix, batchBytes, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "indexed %d messages and commits in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// runCompact merges every shard of the index's closed partitions into one
// segment and the newest partition's as far as the import's cap allows
// (search.CompactOptions), as public-inbox-compact does for Xapian.
func runCompact(ctx context.Context, e *env, args []string) error {
	fs := e.flags("compact")
	memory := newMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	budget, _, err := memory.apply()
	if err != nil {
		return err
	}
	w, err := openWriter(ctx, e, &indexer.WriterOptions{NoRadar: true, MemoryBudget: budget})
	if err != nil {
		return err
	}
	defer w.Store.Close()
	defer w.Index.Close()
	start := time.Now()
	before, err := w.Index.Segments()
	if err != nil {
		return err
	}
	if err := w.Index.Compact(ctx, &search.CompactOptions{Closed: true}); err != nil {
		return err
	}
	after, err := w.Index.Segments()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "compacted the search index from %d segments to %d in %s\n", before, after, time.Since(start).Round(time.Millisecond))
	return nil
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := e.flags("search")
	asJSON := fs.Bool("json", false, "print JSON")
	asMbox := fs.Bool("mbox", false, "print the matching messages as mboxrd")
	limit := fs.Int("limit", -1, "hits to print, 0 = all (default 20 for the listing, all with --json or --mbox)")
	offset := fs.Int("offset", 0, "hits to skip")
	sort := fs.String("sort", "date", "date (newest first) or relevance")
	threads := fs.Bool("threads", false, "one hit per thread")
	list := fs.String("list", "", "only this list")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("no QUERY given")
	}
	q := strings.Join(fs.Args(), " ")
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	ix, done, err := readIndex(e)
	if err != nil {
		return err
	}
	defer done()
	warnIncomplete(ctx, e, st)
	start := time.Now()
	opts := &search.SearchOptions{Limit: *limit, Offset: *offset, Sort: *sort, Threads: *threads, List: *list}
	if *asMbox || *asJSON {
		opts.Limit = max(opts.Limit, 0)
		opts.MessagesOnly = *asMbox // an mbox holds messages
		return streamSearch(ctx, e, st, ix, q, opts, *asMbox, start)
	}
	if opts.Limit < 0 {
		opts.Limit = 20
	}
	res, err := ix.Search(ctx, q, opts)
	if err != nil {
		return err
	}
	approx := ""
	if res.TotalApprox {
		approx = "~" // an estimate (search.Result.TotalApprox)
	}
	fmt.Fprintf(e.stdout, "%s%d results\n", approx, res.Total)
	hits := api.Hits(res.Hits)
	if err := api.LinkHits(ctx, st, hits); err != nil {
		return err
	}
	for _, h := range hits {
		if h.Kind == search.KindCommit {
			posted := "off-list"
			if len(h.Postings) > 0 {
				posted = fmt.Sprintf("%s %s <%s>", h.Postings[0].Role, h.Postings[0].Grade, h.Postings[0].MessageID)
			}
			fmt.Fprintf(e.stdout, "%s  %-60.60s  %-30.30s  commit %.12s (%s)  %s\n", h.Date.Format("2006-01-02"), h.Subject, h.From, h.SHA, h.Repo, posted)
			continue
		}
		fmt.Fprintf(e.stdout, "%s  %-60.60s  %-30.30s  <%s>", h.Date.Format("2006-01-02"), h.Subject, h.From, h.MessageID)
		for _, c := range h.Commits {
			if c.Role == "applied" {
				fmt.Fprintf(e.stdout, "  → %.12s (%s, %s)", c.SHA, c.Repo, c.Grade)
			}
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

// errEnough stops an Iterate at the --limit.
var errEnough = errors.New("search: limit reached")

// streamSearch prints every hit of q up to opts.Limit (0 = all) as mboxrd
// or JSON while the index is read page by page: nothing is capped and
// nothing but one page is held in memory. The JSON states the total
// number of matches first.
func streamSearch(ctx context.Context, e *env, st *store.Store, ix *search.Index, q string, opts *search.SearchOptions, asMbox bool, start time.Time) error {
	limit := opts.Limit
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	n := 0
	if !asMbox {
		count, err := ix.Search(ctx, q, &search.SearchOptions{Limit: 1, Sort: opts.Sort, Threads: opts.Threads, List: opts.List, MessagesOnly: opts.MessagesOnly})
		if err != nil {
			return err
		}
		qj, _ := json.Marshal(q)
		approx := ""
		if count.TotalApprox {
			approx = "\n  \"total_approx\": true,"
		}
		fmt.Fprintf(w, "{\n  \"query\": %s,\n  \"total\": %d,%s\n  \"hits\": [", qj, count.Total, approx)
	}
	err := ix.Iterate(ctx, q, opts, func(h search.Hit) error {
		if limit > 0 && n >= limit {
			return errEnough
		}
		n++
		if asMbox {
			id, err := st.Resolve(ctx, h.MessageID)
			if err != nil {
				return err
			}
			raw, err := st.Raw(ctx, id)
			if err != nil {
				return err
			}
			return mbox.WriteMboxrd(w, raw)
		}
		wh := api.Hits([]search.Hit{h})
		if err := api.LinkHits(ctx, st, wh); err != nil {
			return err
		}
		b, err := json.Marshal(wh[0])
		if err != nil {
			return err
		}
		if n > 1 {
			w.WriteString(",")
		}
		w.WriteString("\n    ")
		_, err = w.Write(b)
		return err
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	if !asMbox {
		took, _ := json.Marshal(api.Seconds(time.Since(start)))
		fmt.Fprintf(w, "\n  ],\n  \"took\": %s\n}\n", took)
	}
	return w.Flush()
}
