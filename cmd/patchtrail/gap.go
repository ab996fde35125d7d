package main

import (
	"context"
	"fmt"

	"patchtrail/internal/exposure"
	"patchtrail/internal/gap"
)

func init() {
	register(&command{name: "gap", args: "[--file GLOB] [--list L] [--published FROM..TO] [--json]", short: "the patch gap: how long CVE fixes were public before their CVE", run: runGap, reads: always})
}

func runGap(ctx context.Context, e *env, args []string) error {
	fs := e.flags("gap")
	var f exposure.Filter
	var files multiFlag
	fs.Var(&files, "file", "only CVEs touching a file or directory matching `GLOB` (repeatable)")
	fs.StringVar(&f.List, "list", "", "only CVEs whose fix was posted on list `L`")
	published := fs.String("published", "", "only CVEs published in `FROM..TO` (YYYY-MM-DD)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("gap takes no arguments")
	}
	f.Files = files
	if err := setPublished(&f, *published); err != nil {
		return err
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := gap.Measure(ctx, st, &f)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, rep)
	}
	w := e.stdout
	for _, c := range rep.CVEs {
		d := "?"
		if c.Days != nil {
			d = fmt.Sprintf("%.0f", *c.Days)
		}
		fmt.Fprintf(w, "%-16s %6s days  %-10s %-9s %s\n", c.ID, d, c.Era, c.Severity, c.Title)
	}
	fmt.Fprintf(w, "\ndays from first posting to CVE publication:\n%-22s %5s %7s %8s %8s %8s\n", "group", "CVEs", "public", "mean", "median", "p90")
	row := func(kind string, s gap.Stats) {
		fmt.Fprintf(w, "%-22s %5d %6.0f%% %8.1f %8.1f %8.1f\n", kind+s.Group, s.CVEs, s.Share*100, s.MeanDays, s.MedianDays, s.P90Days)
	}
	row("", rep.Overall)
	for _, g := range []struct {
		kind string
		s    []gap.Stats
	}{{"list ", rep.ByList}, {"era ", rep.ByEra}, {"year ", rep.ByYear}, {"severity ", rep.BySeverity}, {"subsystem ", rep.BySubsystem}} {
		for _, s := range g.s {
			row(g.kind, s)
		}
	}
	return nil
}
