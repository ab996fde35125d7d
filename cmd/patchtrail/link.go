package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"patchtrail/api"
	"patchtrail/indexer"
	"patchtrail/internal/cve"
	"patchtrail/internal/gap"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
	"patchtrail/internal/trace"
	"patchtrail/search"
)

func init() {
	register(&command{name: "repo", args: "add NAME PATH | list [--json]", short: "register code repositories to link commits from", run: runRepo, reads: listing})
	register(&command{name: "link", args: "[--repo NAME] [--ignore-link-trailers] [--full] [--score] [--no-index] [--json]", short: "read new commits, link them to messages and index them", run: runLink})
	register(&command{name: "commit", args: "[--json] SHA", short: "show a commit with its links, fixes, reverts and backports", run: runCommit, reads: always})
	register(&command{name: "cve", args: "import [--json] [--published-dates FILE] PATH | list [filters] [--json|--csv]", short: "import CVE records (kernel vulns repository layout); list them by kernel version", run: runCVE, reads: listing})
	register(&command{name: "trace", args: "[--json] CVE-ID|SHA|MSGID | --all --json", short: "the whole story of a fix: postings, reviews, commits, backports, timeline", run: runTrace, reads: always})
}

// listing is the reads of a command whose `list` subcommand reads.
func listing(args []string) bool { return len(args) > 0 && args[0] == "list" }

func runRepo(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("want a subcommand: add or list")
	}
	switch args[0] {
	case "add":
		fs := e.flags("repo add")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return usageError("want NAME and PATH")
		}
		st, err := openWrite(ctx, e)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := link.AddRepo(ctx, st, fs.Arg(0), fs.Arg(1)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "repository %s added; run `patchtrail link` to read its commits\n", fs.Arg(0))
		return nil
	case "list":
		fs := e.flags("repo list")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		st, err := openRead(ctx, e)
		if err != nil {
			return err
		}
		defer st.Close()
		v, err := st.Repos(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e, api.WireRepos(v))
		}
		for _, r := range v {
			last := "never"
			if !r.LastLink.IsZero() {
				last = r.LastLink.Format(time.RFC3339)
			}
			fmt.Fprintf(e.stdout, "%-16s %6d commits  linked %s  %s\n", r.Name, r.Commits, last, r.Path)
		}
		return nil
	}
	return usageError(fmt.Sprintf("unknown repo subcommand %q", args[0]))
}

func runLink(ctx context.Context, e *env, args []string) error {
	fs := e.flags("link")
	repo := fs.String("repo", "", "link only the repository called `NAME`")
	ignore := fs.Bool("ignore-link-trailers", false, "do not use Link:/Message-ID: trailers (to measure the other evidence)")
	full := fs.Bool("full", false, "link every stored commit again")
	score := fs.Bool("score", false, "then score the links against the Link: trailers (needs --ignore-link-trailers)")
	noIndex := fs.Bool("no-index", false, "do not update the search index now (the next link, import or reindex catches up)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("no arguments expected")
	}
	st, err := openWrite(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	lo := &link.Options{Repo: *repo, IgnoreLinkTrailers: *ignore, Full: *full, Logger: e.log}
	if !*noIndex {
		ix, err := openLinkIndex(e)
		if err != nil {
			return err
		}
		if ix != nil {
			defer ix.Close()
			lo.Hook = indexer.NewCommitIndexer(st, ix, e.log)
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(indexer.LinkMemoryLimit)
			}
		}
	}
	res, err := link.Link(ctx, st, lo)
	if err != nil {
		return err
	}
	if h, ok := lo.Hook.(*indexer.CommitIndexer); ok && !*asJSON {
		defer fmt.Fprintf(e.stdout, "search index: %d commits and %d messages indexed\n", h.Commits, h.Messages)
	}
	out := struct {
		Results  []*link.Result   `json:"results"`
		Accuracy []*link.Accuracy `json:"accuracy,omitempty"`
	}{Results: res}
	if *score {
		for _, r := range res {
			acc, err := link.Evaluate(ctx, st, r.Repo)
			if err != nil {
				return err
			}
			out.Accuracy = append(out.Accuracy, acc)
		}
	}
	if *asJSON {
		return writeJSON(e, out)
	}
	for _, r := range res {
		fmt.Fprintf(e.stdout, "%s: read %d new commits, relinked %d, linked %d %v in %s\n", r.Repo, r.Read, r.Relinked, r.Linked, r.Grades, r.Elapsed.Round(time.Millisecond))
		for _, p := range r.Problems {
			fmt.Fprintf(e.stdout, "  not read in full: %s\n", p)
		}
	}
	for _, a := range out.Accuracy {
		fmt.Fprintf(e.stdout, "%s: %d commits in %s..%s, %d with a Link: trailer to a stored patch\n", a.Repo, a.Commits,
			a.WindowStart.Format("2006-01-02"), a.WindowEnd.Format("2006-01-02"), a.Truth)
		fmt.Fprintf(e.stdout, "  best link: precision %.4f (%d/%d), recall %.4f (%d/%d); patch-id only recall %.4f (%d/%d)\n",
			a.Precision, a.Correct, a.Linked, a.Recall, a.Correct, a.Truth, a.PatchIDRecall, a.PatchIDHits, a.Truth)
		for _, m := range a.Misses {
			fmt.Fprintf(e.stdout, "  miss %.12s %s\n    want <%s>\n    got  <%s> %s %.3f\n", m.SHA, m.Subject, m.Want, m.Got, m.Grade, m.Score)
		}
	}
	return nil
}

// openLinkIndex opens the search index for link to update; nil (and the
// commits stay queued) when the data directory has no index yet (an
// import --no-index) or another process holds it.
func openLinkIndex(e *env) (*search.Index, error) {
	if _, err := os.Stat(filepath.Join(indexDir(e), search.MetaFile)); err != nil {
		e.log.Info("link: no search index yet; commits stay queued for the next import or reindex")
		return nil, nil
	}
	ix, err := search.Open(indexDir(e), &search.Options{Logger: e.log, MergeFloorDocs: indexer.LinkMergeFloorDocs})
	if errors.Is(err, search.ErrLocked) {
		e.log.Warn("link: the search index is held by another process; commits stay queued for the next link, import or reindex", "error", err)
		return nil, nil
	}
	return ix, reindexHint(e, err)
}

func runCommit(ctx context.Context, e *env, args []string) error {
	return runWireView(ctx, e, args, "commit", "SHA", "print JSON", trace.LoadCommit, api.WireCommit, printCommit)
}

// printCommit prints a commit for people.
func printCommit(e *env, v *trace.Commit) error {
	w := e.stdout
	fmt.Fprintf(w, "commit %s (%s)\n%s\nAuthor: %s <%s>  %s\nCommit: %s <%s>  %s\n", v.SHA, strings.Join(v.Repos, ", "), v.Subject,
		v.Author.Name, v.Author.Email, v.Row.AuthorDate.Format(time.RFC3339), v.Row.CommitterName, v.Row.CommitterEmail, v.CommitDate.Format(time.RFC3339))
	if v.Row.PatchID != "" {
		fmt.Fprintf(w, "patch-id %s\n", v.Row.PatchID)
	}
	for _, l := range v.Links {
		fmt.Fprintf(w, "\n%s %s %.3f  <%s>\n  %s  %s\n", l.Role, l.Grade, l.Score, l.MessageID, l.Date.Format("2006-01-02"), l.Subject)
		for _, ev := range l.Evidence {
			fmt.Fprintf(w, "    %-12s %s\n", ev.Kind, ev.Detail)
		}
	}
	printRefs := func(what string, refs []trace.CommitRef) {
		for _, r := range refs {
			fmt.Fprintf(w, "%s %.12s %s\n", what, r.SHA, r.Subject)
		}
	}
	fmt.Fprintln(w)
	for _, f := range v.Fixes {
		fmt.Fprintf(w, "fixes %s (%s)", f.Target, f.Title)
		if f.Commit != nil {
			fmt.Fprintf(w, " = %.12s", f.Commit.SHA)
		}
		fmt.Fprintln(w)
	}
	printRefs("fixed by", v.FixedBy)
	if v.Reverts != nil {
		printRefs("reverts", []trace.CommitRef{*v.Reverts})
	}
	printRefs("reverted by", v.RevertedBy)
	if v.Upstream != nil {
		printRefs("backport of", []trace.CommitRef{*v.Upstream})
	}
	printRefs("backported as", v.Backports)
	ids := make([]string, 0, len(v.CVEs))
	for id := range v.CVEs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "%s (%s)\n", id, v.CVEs[id])
	}
	return nil
}

func runCVE(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return runCVEList(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "import" {
		return usageError("want: cve import PATH | cve list")
	}
	fs := e.flags("cve import")
	asJSON := fs.Bool("json", false, "print JSON")
	datesFile := fs.String("published-dates", "", "publication dates `FILE` (CVE id, tab, RFC 3339 date per line); default: the git history of PATH when it is a clone")
	path, err := parseOne(fs, args[1:], "PATH")
	if err != nil {
		return err
	}
	var dates cve.Published
	if *datesFile != "" {
		if dates, err = cve.ReadPublishedFile(*datesFile); err != nil {
			return err
		}
	}
	st, err := openWrite(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := link.ImportCVEs(ctx, st, path, &link.CVEOptions{Logger: e.log, Published: dates})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, res)
	}
	fmt.Fprintf(e.stdout, "CVE records: %d added, %d updated, %d unchanged, %d malformed (skipped)\n", res.Added, res.Updated, res.Unchanged, len(res.Malformed))
	if res.DateSource != "" {
		fmt.Fprintf(e.stdout, "publication dates from %s: %d of the imported records dated\n", res.DateSource, res.Dated)
	}
	for _, m := range res.Malformed {
		fmt.Fprintf(e.stdout, "  %s\n", m)
	}
	return nil
}

func runTrace(ctx context.Context, e *env, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--all" || a == "-all" || strings.HasPrefix(a, "--all=") || strings.HasPrefix(a, "-all=") {
			return runTraceAll(ctx, e, args)
		}
	}
	return runWireView(ctx, e, args, "trace", "CVE-ID, SHA or MSGID", "print JSON", trace.Load, api.WireTrace, printTrace)
}

// runTraceAll is `trace --all --json`: the trace of every stored CVE, in
// id order, one JSON object a line (NDJSON), each written as soon as it
// is traced.
func runTraceAll(ctx context.Context, e *env, args []string) error {
	fs := e.flags("trace")
	fs.Bool("all", false, "trace every stored CVE (with --json: NDJSON, one trace a line)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("trace --all takes no CVE-ID, SHA or MSGID")
	}
	if !*asJSON {
		return usageError("trace --all needs --json (NDJSON, one trace a line)")
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = st.EachCVE(ctx, func(c *store.CVERow) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, err := trace.Load(ctx, st, c.ID)
		if err != nil {
			return fmt.Errorf("trace %s: %w", c.ID, err)
		}
		if err := enc.Encode(api.WireTrace(t)); err != nil {
			return err
		}
		return w.Flush()
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// printTrace prints a trace for people.
func printTrace(e *env, v *trace.Trace) error {
	w := e.stdout
	day := func(t *time.Time) string {
		if t == nil {
			return "????-??-??"
		}
		return t.Format("2006-01-02")
	}
	if c := v.CVE; c != nil {
		fmt.Fprintf(w, "%s  %s", c.ID, c.Title)
		if c.Severity != "" {
			fmt.Fprintf(w, "  (%s %.1f)", c.Severity, c.CVSS)
		}
		fmt.Fprintf(w, "\n  files: %s\n", strings.Join(c.Files, " "))
	}
	printBranches(w, v.Branches)
	for _, c := range v.FixCommits {
		if c.Known {
			fmt.Fprintf(w, "fix commit %.12s %s (%s)\n", c.SHA, c.Subject, strings.Join(c.Repos, ", "))
		} else {
			fmt.Fprintf(w, "fix commit %.12s (in no registered repository)\n", c.SHA)
		}
	}
	if p := v.Posting; p != nil {
		fmt.Fprintf(w, "\nposting (v%d, found by %s): %s\n  %s  %s  <%s>\n", p.Version, p.Found, p.Subject, p.Date.Format("2006-01-02"), formatName(p.From.Name, p.From.Email), p.MessageID)
	}
	for _, p := range v.Earlier {
		fmt.Fprintf(w, "earlier v%d  %s  <%s>\n", p.Version, p.Date.Format("2006-01-02"), p.MessageID)
	}
	if v.Thread != nil {
		fmt.Fprintf(w, "thread %d: %d messages\n", v.Thread.ID, len(v.Thread.Messages))
	}
	if len(v.People) > 0 {
		fmt.Fprintln(w, "\npeople:")
		for _, p := range v.People {
			fmt.Fprintf(w, "  %-12s %s <%s>  (v%d, %s, in <%s>)\n", p.Role, p.Name, p.Email, p.Version, p.Kind, p.MessageID)
		}
	}
	if len(v.Reviews) > 0 {
		fmt.Fprintln(w, "\nreviews:")
		for _, r := range v.Reviews {
			fmt.Fprintf(w, "  %s  v%d  %s  <%s>\n", r.Date.Format("2006-01-02"), r.Version, formatName(r.From.Name, r.From.Email), r.MessageID)
		}
	}
	for _, f := range v.Fixes {
		fmt.Fprintf(w, "\nfixes %.12s %s", f.Commit.SHA, f.Title)
		if f.Posting != nil {
			fmt.Fprintf(w, "\n  posted %s <%s>", f.Posting.Date.Format("2006-01-02"), f.Posting.MessageID)
		}
		fmt.Fprintln(w)
	}
	if len(v.Backports) > 0 {
		fmt.Fprintln(w, "\nbackports:")
		for _, b := range v.Backports {
			fmt.Fprintf(w, "  %-10s %.12s", b.Version, b.SHA)
			if b.Posting != nil {
				fmt.Fprintf(w, "  posted %s <%s>", b.Posting.Date.Format("2006-01-02"), b.Posting.MessageID)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "\ntimeline:")
	for _, ev := range v.Timeline {
		gap := ""
		if ev.DaysSincePrevious != nil {
			gap = fmt.Sprintf("+%.1fd", *ev.DaysSincePrevious)
		}
		if ev.DaysSinceFix != nil {
			gap += fmt.Sprintf(" (%.1fd after the fix)", *ev.DaysSinceFix)
		}
		fmt.Fprintf(w, "  %s  %-20s %-10s %s\n", day(ev.Date), ev.Event, gap, ev.Detail)
	}
	printMentions(w, "discussion of the CVE:", v.Discussion)
	printMentions(w, "bug reports against the Fixes: targets:", v.BugReports)
	printGap(w, v.Gap)
	for _, n := range v.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// printBranches prints a CVE per line of development: introduced in,
// fixed in (version and commit), or still vulnerable.
func printBranches(w io.Writer, bs []cve.BranchState) {
	if len(bs) == 0 {
		return
	}
	fmt.Fprintln(w, "  branch      introduced in           fixed in")
	for _, b := range bs {
		in := "(beginning)"
		if b.IntroducedVersion != "" {
			in = b.IntroducedVersion
		}
		if b.IntroducedSHA != "" {
			in += " " + short(b.IntroducedSHA)
		}
		fixed := "STILL VULNERABLE"
		if !b.Vulnerable {
			fixed = b.FixedVersion + " " + short(b.FixedSHA)
		}
		fmt.Fprintf(w, "  %-10s  %-22s  %s\n", cmp.Or(b.Branch, "?"), in, fixed)
	}
}

// printGap prints the patch gap of a trace: each step with the days
// from it to the CVE's publication.
func printGap(w io.Writer, g *gap.CVE) {
	if g == nil {
		return
	}
	fmt.Fprint(w, "\npatch gap: ")
	if g.Days != nil {
		fmt.Fprintf(w, "first posted %.1f days before the CVE\n", *g.Days)
	} else {
		fmt.Fprintln(w, "no publication date")
	}
	for _, s := range g.Steps {
		date, before := "????-??-??", ""
		if s.Date != nil {
			date = s.Date.Format("2006-01-02")
		}
		if s.DaysBeforeCVE != nil {
			before = fmt.Sprintf("%.1fd before", *s.DaysBeforeCVE)
		}
		what := strings.TrimSpace(s.Version + " " + short(s.SHA))
		if s.MessageID != "" {
			what = "<" + s.MessageID + ">"
		}
		fmt.Fprintf(w, "  %s  %-20s %-14s %s\n", date, s.Event, before, what)
	}
}

// printMentions prints threads around a fix, one line each.
func printMentions(w io.Writer, title string, ms []trace.Mention) {
	if len(ms) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	for _, m := range ms {
		extra := ""
		if m.Target != "" {
			extra = " against " + short(m.Target) + " (" + m.Found + ")"
		}
		if m.Messages > 1 {
			extra += fmt.Sprintf(", %d messages", m.Messages)
		}
		fmt.Fprintf(w, "  %s  %s  %s%s  <%s>\n", m.Date.Format("2006-01-02"), m.Subject, formatName(m.From.Name, m.From.Email), extra, m.MessageID)
	}
}

// short is the 12-digit abbreviation of a commit id.
func short(sha string) string { return sha[:min(12, len(sha))] }
