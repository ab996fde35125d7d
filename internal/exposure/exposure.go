// Package exposure answers "is my kernel exposed?" over the stored CVE
// records of the kernel vulns repository: which CVEs a kernel release
// still carries, which a release fixed, filtered by the files they touch,
// their publication date and whether the archive holds the posting of
// their fix. The version rules are those of the vulns repository's strak
// tool (internal/cve: Exposed, FixedIn; doc/cve.md).
package exposure

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"patchtrail/internal/cve"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

// ErrBadFilter is a filter that cannot be applied (a bad version, glob
// or date range).
var ErrBadFilter = errors.New("exposure: bad filter")

// Filter selects CVEs; zero fields do not filter.
type Filter struct {
	OpenIn  string   // a release still vulnerable to the CVE (strak VERSION)
	FixedIn string   // a release that fixed it (strak --fixed VERSION)
	Files   []string // globs; a CVE matches when one of its files or their directories matches one
	List    string   // the fix was posted on this list (implies postings)
	// Published bounds the publication date, both ends inclusive by
	// day; a CVE without a date never matches a bounded range.
	PublishedFrom, PublishedTo time.Time
	// Traced keeps CVEs with (true) or without (false) a posting in the
	// archive; nil keeps both.
	Traced *bool
	// Postings looks up the posting of every listed CVE even when no
	// filter needs it.
	Postings bool
}

// needPostings reports whether the filter reads the archive.
func (f *Filter) needPostings() bool { return f.Postings || f.List != "" || f.Traced != nil }

// Posting is the final posting of a CVE's fix in the archive.
type Posting struct {
	MessageID string    `json:"message_id"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`
	Lists     []string  `json:"lists"`
	Found     string    `json:"found"` // "link" or "subject"
}

// Entry is one listed CVE.
type Entry struct {
	ID        string            `json:"id"`
	Title     string            `json:"title"`
	Severity  string            `json:"severity,omitempty"`
	CVSS      float64           `json:"cvss,omitempty"`
	Published *time.Time        `json:"published,omitempty"`
	Files     []string          `json:"files"`
	FixSHAs   []string          `json:"fix_commits"`
	Branches  []cve.BranchState `json:"branches"`
	// FixedBy is the commit that fixed it in Filter.FixedIn.
	FixedBy string `json:"fixed_by,omitempty"`
	// Posting is set when postings were looked up and one was found.
	Posting *Posting `json:"posting,omitempty"`
}

// ParsePublished parses a "FROM..TO" range of days (YYYY-MM-DD, either
// side may be empty; a single day means that day).
func ParsePublished(s string) (from, to time.Time, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		b = a
	}
	day := func(x string) (time.Time, error) {
		if x == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", x)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: --published %q: %q is not YYYY-MM-DD", ErrBadFilter, s, x)
		}
		return t, nil
	}
	if from, err = day(strings.TrimSpace(a)); err != nil {
		return
	}
	if to, err = day(strings.TrimSpace(b)); err != nil {
		return
	}
	if !to.IsZero() {
		to = to.Add(24*time.Hour - time.Nanosecond)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		err = fmt.Errorf("%w: --published %q ends before it starts", ErrBadFilter, s)
	}
	return
}

// matchFiles reports whether one of files, or a directory holding it,
// matches one of globs (path.Match syntax).
func matchFiles(globs, files []string) bool {
	for _, f := range files {
		for p := f; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			for _, g := range globs {
				if ok, _ := path.Match(g, p); ok {
					return true
				}
			}
		}
	}
	return false
}

// List returns the stored CVEs that pass f, in id order.
func List(ctx context.Context, st *store.Store, f *Filter) ([]*Entry, error) {
	if f == nil {
		f = &Filter{}
	}
	var open cve.Version
	if f.OpenIn != "" {
		v, err := cve.ParseVersion(f.OpenIn)
		if err != nil {
			return nil, fmt.Errorf("%w: --open-in: %v", ErrBadFilter, err)
		}
		open = v
	}
	fixedIn := strings.TrimPrefix(strings.TrimSpace(f.FixedIn), "v")
	if fixedIn != "" {
		if _, err := cve.ParseVersion(fixedIn); err != nil {
			return nil, fmt.Errorf("%w: --fixed-in: %v", ErrBadFilter, err)
		}
	}
	for _, g := range f.Files {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("%w: --file %q: %v", ErrBadFilter, g, err)
		}
	}
	var candidates map[string]bool
	if f.needPostings() {
		var err error
		if candidates, err = st.CVEsWithPostingCandidates(ctx); err != nil {
			return nil, err
		}
	}
	out := []*Entry{}
	versions := make(cve.Versions)
	// The version filters run on the .dyad lines before the rest of a
	// record is read (store.EachCVEWhere): most records fail them.
	var keep func([]store.CVEBackport) bool
	if !open.IsZero() || fixedIn != "" {
		var bps []cve.Backport
		keep = func(lines []store.CVEBackport) bool {
			bps = bps[:0]
			for _, l := range lines {
				bps = append(bps, cve.Backport(l))
			}
			if !open.IsZero() && !cve.ExposedCached(bps, open, versions) {
				return false
			}
			if fixedIn != "" {
				if _, ok := cve.FixedIn(bps, fixedIn); !ok {
					return false
				}
			}
			return true
		}
	}
	err := st.EachCVEWhere(ctx, keep, func(c *store.CVERow) error {
		bps := Backports(c)
		e := &Entry{ID: c.ID, Title: c.Title, Severity: c.Severity, CVSS: c.CVSS, Files: nonNil(c.Files), FixSHAs: nonNil(c.FixSHAs)}
		if fixedIn != "" {
			e.FixedBy, _ = cve.FixedIn(bps, fixedIn)
		}
		if len(f.Files) > 0 && !matchFiles(f.Files, c.Files) {
			return nil
		}
		if !c.Published.IsZero() {
			p := c.Published
			e.Published = &p
		}
		if !f.PublishedFrom.IsZero() || !f.PublishedTo.IsZero() {
			if c.Published.IsZero() || !f.PublishedFrom.IsZero() && c.Published.Before(f.PublishedFrom) || !f.PublishedTo.IsZero() && c.Published.After(f.PublishedTo) {
				return nil
			}
		}
		if f.needPostings() && candidates[c.ID] {
			p, err := posting(ctx, st, c)
			if err != nil {
				return err
			}
			e.Posting = p
		}
		if f.Traced != nil && *f.Traced != (e.Posting != nil) {
			return nil
		}
		if f.List != "" && (e.Posting == nil || !slices.Contains(e.Posting.Lists, f.List)) {
			return nil
		}
		e.Branches = cve.Branches(bps)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// posting looks up the final posting of a CVE's fix.
func posting(ctx context.Context, st *store.Store, c *store.CVERow) (*Posting, error) {
	p, err := link.FindCVEPosting(ctx, st, c)
	if err != nil || p == nil {
		return nil, err
	}
	m, err := st.Message(ctx, p.Final.Message)
	if err != nil {
		return nil, err
	}
	return &Posting{MessageID: p.Final.MessageID, Subject: p.Final.Subject, Date: p.Final.Date, Lists: nonNil(m.Lists), Found: p.Found}, nil
}

// Backports converts a stored record's .dyad lines.
func Backports(c *store.CVERow) []cve.Backport {
	out := make([]cve.Backport, len(c.Backports))
	for i, b := range c.Backports {
		out[i] = cve.Backport{IntroducedVersion: b.IntroducedVersion, IntroducedSHA: b.IntroducedSHA, FixedVersion: b.FixedVersion, FixedSHA: b.FixedSHA}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SortKeys are the orders Sort knows; a leading '-' reverses one.
var SortKeys = []string{"id", "published", "severity", "cvss", "title"}

// severityRank orders severities from least to most severe.
var severityRank = map[string]int{"": 0, "none": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// Sort orders entries by key ("id", "published", "severity", "cvss",
// "title"; "-key" descending; "" is "id"). Ties keep id order; undated
// CVEs sort before dated ones by "published".
func Sort(entries []*Entry, key string) error {
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	var cmp func(a, b *Entry) int
	switch key {
	case "", "id":
		cmp = func(a, b *Entry) int { return compareIDs(a.ID, b.ID) }
	case "published":
		cmp = func(a, b *Entry) int {
			switch {
			case a.Published == nil && b.Published == nil:
				return 0
			case a.Published == nil:
				return -1
			case b.Published == nil:
				return 1
			}
			return a.Published.Compare(*b.Published)
		}
	case "severity":
		cmp = func(a, b *Entry) int {
			return severityRank[strings.ToLower(a.Severity)] - severityRank[strings.ToLower(b.Severity)]
		}
	case "cvss":
		cmp = func(a, b *Entry) int {
			switch {
			case a.CVSS < b.CVSS:
				return -1
			case a.CVSS > b.CVSS:
				return 1
			}
			return 0
		}
	case "title":
		cmp = func(a, b *Entry) int { return strings.Compare(a.Title, b.Title) }
	default:
		return fmt.Errorf("%w: sort %q: want one of %s (prefix - to reverse)", ErrBadFilter, key, strings.Join(SortKeys, ", "))
	}
	slices.SortStableFunc(entries, func(a, b *Entry) int {
		c := cmp(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = compareIDs(a.ID, b.ID)
		}
		return c
	})
	return nil
}

// compareIDs orders CVE ids by year, then number (CVE-2024-9999 before
// CVE-2024-10000).
func compareIDs(a, b string) int {
	pa, pb := strings.Split(a, "-"), strings.Split(b, "-")
	if len(pa) == 3 && len(pb) == 3 {
		if c := strings.Compare(pa[1], pb[1]); c != 0 {
			return c
		}
		if c := len(pa[2]) - len(pb[2]); c != 0 {
			return c
		}
		return strings.Compare(pa[2], pb[2])
	}
	return strings.Compare(a, b)
}
