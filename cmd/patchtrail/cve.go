package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"patchtrail/internal/exposure"
)

// runCVEList is `cve list`: the stored CVEs by kernel version, files,
// publication date and posting.
func runCVEList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("cve list")
	var f exposure.Filter
	fs.StringVar(&f.OpenIn, "open-in", "", "only CVEs still open in kernel `VERSION` (e.g. 6.6.20)")
	fs.StringVar(&f.FixedIn, "fixed-in", "", "only CVEs fixed by kernel `VERSION` (e.g. 6.1.77)")
	var files multiFlag
	fs.Var(&files, "file", "only CVEs touching a file or directory matching `GLOB` (repeatable)")
	fs.StringVar(&f.List, "list", "", "only CVEs whose fix was posted on list `L`")
	published := fs.String("published", "", "only CVEs published in `FROM..TO` (YYYY-MM-DD, either side optional)")
	traced := fs.Bool("traced", false, "only CVEs whose fix posting is in the archive")
	untraced := fs.Bool("untraced", false, "only CVEs whose fix posting is not in the archive")
	fs.BoolVar(&f.Postings, "postings", false, "look up the posting of every listed CVE")
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("cve list takes no arguments")
	}
	if *asJSON && *asCSV {
		return usageError("--json and --csv exclude each other")
	}
	if *traced && *untraced {
		return usageError("--traced and --untraced exclude each other")
	}
	if *traced || *untraced {
		f.Traced = traced
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
	list, err := exposure.List(ctx, st, &f)
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		return writeJSONLines(e, list)
	case *asCSV:
		w := csv.NewWriter(e.stdout)
		w.Write([]string{"id", "published", "severity", "cvss", "fixed_by", "posting", "title", "files", "branches"})
		for _, c := range list {
			w.Write([]string{c.ID, day(c), c.Severity, cvss(c), c.FixedBy, postingID(c), c.Title, strings.Join(c.Files, " "), branches(c)})
		}
		w.Flush()
		return w.Error()
	}
	for _, c := range list {
		fmt.Fprintf(e.stdout, "%-16s %s %-8s %s\n", c.ID, day(c), c.Severity, c.Title)
		if c.FixedBy != "" {
			fmt.Fprintf(e.stdout, "  fixed in %s by %.12s\n", f.FixedIn, c.FixedBy)
		}
		if c.Posting != nil {
			fmt.Fprintf(e.stdout, "  posted %s <%s>\n", c.Posting.Date.Format("2006-01-02"), c.Posting.MessageID)
		}
	}
	fmt.Fprintf(e.stderr, "%d CVEs\n", len(list))
	return nil
}

func day(c *exposure.Entry) string {
	if c.Published == nil {
		return "????-??-??"
	}
	return c.Published.Format("2006-01-02")
}

func cvss(c *exposure.Entry) string {
	if c.CVSS == 0 {
		return ""
	}
	return strconv.FormatFloat(c.CVSS, 'f', 1, 64)
}

func postingID(c *exposure.Entry) string {
	if c.Posting == nil {
		return ""
	}
	return c.Posting.MessageID
}

// branches is "6.6:6.6.17 6.4:open ..." for CSV.
func branches(c *exposure.Entry) string {
	var out []string
	for _, b := range c.Branches {
		s := b.FixedVersion
		if b.Vulnerable {
			s = "open"
		}
		out = append(out, b.Branch+":"+s)
	}
	return strings.Join(out, " ")
}

// writeJSONLines writes a JSON array with one compact element per
// line: long lists stay greppable and cost no indenting.
func writeJSONLines[T any](e *env, list []T) error {
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	w.WriteString("[")
	for i, v := range list {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n")
		w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	w.WriteString("\n]\n")
	return w.Flush()
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// setPublished sets the publication range of f from --published
// (FROM..TO; empty leaves it open).
func setPublished(f *exposure.Filter, published string) error {
	if published == "" {
		return nil
	}
	var err error
	if f.PublishedFrom, f.PublishedTo, err = exposure.ParsePublished(published); err != nil {
		return usageError(err.Error())
	}
	return nil
}
