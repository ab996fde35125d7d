package main

import (
	"context"
	"fmt"
	"strings"

	"patchtrail/api"
	"patchtrail/internal/store"
	"patchtrail/internal/trace"
)

func init() {
	register(&command{name: "series", args: "[--json] MSGID", short: "show a patch series, its parts, versions and trailers", run: runSeries, reads: always})
}

func runSeries(ctx context.Context, e *env, args []string) error {
	return runWireView(ctx, e, args, "series", "MSGID", "print JSON", trace.LoadSeries, api.WireSeries, printSeries)
}

// printSeries prints a series for people.
func printSeries(e *env, v *trace.Series) error {
	w := e.stdout
	state := "complete"
	if !v.Complete {
		state = fmt.Sprintf("missing %v", v.Missing)
	}
	fmt.Fprintf(w, "series %d: v%d, %d patches (%s) by %s\n%s\n", v.ID, v.Version, v.Total, state, v.Author, v.Subject)
	for i, p := range v.Parts {
		fmt.Fprintf(w, "\n  %d/%d  %s\n        <%s>  %s\n", p.Counter, v.Total, p.Subject, p.MessageID, p.Date.Format("2006-01-02"))
		if len(p.PatchIDs) > 0 {
			fmt.Fprintf(w, "        patch-id %s\n", strings.Join(p.PatchIDs, " "))
		}
		if i < len(v.Commits) {
			for _, c := range v.Commits[i] {
				what := "became"
				if c.Role != store.RoleApplied {
					what = "earlier version of"
				}
				fmt.Fprintf(w, "        %s commit %s %s\n", what, short(c.SHA), c.Subject)
			}
		}
		if i < len(v.CVEs) {
			for _, c := range v.CVEs[i] {
				fmt.Fprintf(w, "        fixes %s (by %s)\n", c.ID, c.How)
			}
		}
		for _, t := range p.Trailers {
			fmt.Fprintf(w, "        %s: %s  (%s, in <%s>)\n", t.Key, t.Value, t.Kind, t.MessageID)
		}
	}
	fmt.Fprintf(w, "\nfiles: %s\n", strings.Join(v.Files, " "))
	if len(v.Versions) > 0 {
		fmt.Fprintf(w, "\nversions:\n")
		for _, sv := range v.Versions {
			fmt.Fprintf(w, "  v%d  %s  %d/%d parts  <%s>  %s\n", sv.Version, sv.Date.Format("2006-01-02"), sv.Parts, sv.Total, sv.MessageID, sv.Subject)
			if sv.PatchesSame+sv.PatchesChanged > 0 || len(sv.FilesAdded)+len(sv.FilesRemoved) > 0 {
				fmt.Fprintf(w, "       vs previous: %d patches unchanged, %d changed", sv.PatchesSame, sv.PatchesChanged)
				if len(sv.FilesAdded) > 0 {
					fmt.Fprintf(w, ", files added %s", strings.Join(sv.FilesAdded, " "))
				}
				if len(sv.FilesRemoved) > 0 {
					fmt.Fprintf(w, ", files dropped %s", strings.Join(sv.FilesRemoved, " "))
				}
				fmt.Fprintln(w)
			}
		}
	}
	return nil
}
