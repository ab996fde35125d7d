package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{name: "problems", args: "[--json]", short: "list the problems recorded while importing, with source and position", run: runProblems, reads: always})
}

func runProblems(ctx context.Context, e *env, args []string) error {
	fs := e.flags("problems")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("problems takes no arguments")
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	ps, err := st.Problems(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, ps)
	}
	for _, p := range ps {
		where := p.Source
		if p.Repo != "" {
			where = "repo " + p.Repo
		}
		if p.Location != "" {
			where += " " + p.Location
		}
		if p.MessageID != "" {
			where += fmt.Sprintf(" <%s> (%s)", p.MessageID, p.Date.Format("2006-01-02"))
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", where, p.Problem)
	}
	fmt.Fprintf(e.stderr, "%d problems\n", len(ps))
	return nil
}
