package main

import (
	"context"
	"fmt"
	"time"

	"patchtrail/internal/radar"
	"patchtrail/internal/store"
)

func init() {
	register(&command{name: "radar", args: "[--json] [--list L] [--from DATE] [--to DATE] [--min-score S] [--no-cve] [--limit N] | train [--until DATE]",
		short: "patches ranked by how likely they fix a security bug, with the signals (doc/radar.md)", run: runRadar, reads: notTrain})
}

// notTrain is the reads of radar: listing reads, `radar train` writes.
func notTrain(args []string) bool { return len(args) == 0 || args[0] != "train" }

func runRadar(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "train" {
		return runRadarTrain(ctx, e, args[1:])
	}
	fs := e.flags("radar")
	var q radar.Query
	asJSON := fs.Bool("json", false, "print JSON")
	fs.StringVar(&q.List, "list", "", "only patches posted on list `L`")
	from := fs.String("from", "", "only patches whose newest version is dated from `DATE` (YYYY-MM-DD)")
	to := fs.String("to", "", "only patches whose newest version is dated before `DATE` (YYYY-MM-DD)")
	fs.Float64Var(&q.MinScore, "min-score", 0, "only scores of at least `S` (0..1)")
	fs.BoolVar(&q.NoCVE, "no-cve", false, "only patches no CVE names yet")
	limit := fs.Int("limit", -1, "patches to print, 0 = all (default 20 for the listing, all with --json)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("radar takes no arguments (or: radar train)")
	}
	var err error
	if q.From, err = flagDate("from", *from); err != nil {
		return err
	}
	if q.To, err = flagDate("to", *to); err != nil {
		return err
	}
	if q.MinScore < 0 || q.MinScore > 1 {
		return usageError(fmt.Sprintf("--min-score %v: want a score from 0 to 1", q.MinScore))
	}
	q.Limit = *limit
	if q.Limit < 0 {
		q.Limit = 20
		if *asJSON {
			q.Limit = 0
		}
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	items, err := radar.List(ctx, st, &q)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(e, items)
	}
	w := e.stdout
	for _, it := range items {
		cve := it.CVE
		if cve == "" {
			cve = "-"
		}
		fmt.Fprintf(w, "%.3f  %s  %-16s %s\n", it.Score, it.Date.Format(time.DateOnly), cve, it.Subject)
		fmt.Fprintf(w, "       <%s>", it.MessageID)
		if n := len(it.Versions); n > 1 {
			fmt.Fprintf(w, "  %d versions", n)
		}
		for _, c := range it.Commits {
			fmt.Fprintf(w, "  commit %.12s", c)
		}
		fmt.Fprintln(w)
		for _, s := range it.Signals {
			fmt.Fprintf(w, "       %+.2f  %s  <%s>\n", s.Weight, s.Words, s.Evidence)
		}
	}
	return nil
}

func runRadarTrain(ctx context.Context, e *env, args []string) error {
	fs := e.flags("radar train")
	until := fs.String("until", "", "use only CVEs published before `DATE` (YYYY-MM-DD) and the postings before it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("radar train takes no arguments")
	}
	u, err := flagDate("until", *until)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, e.data, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := radar.TrainStore(ctx, st, e.data, u)
	if err != nil {
		return err
	}
	n, err := radar.NewScorer(st, m, e.log).Update(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "trained on %d patch postings (%d with a CVE), wrote %s, rescored %d postings\n",
		m.Trained.Rows, m.Trained.Positives, radar.ModelFile, n)
	return nil
}

// flagDate parses a YYYY-MM-DD flag value ("" = no date).
func flagDate(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, usageError(fmt.Sprintf("--%s %q: want a date as YYYY-MM-DD", name, v))
	}
	return t, nil
}
