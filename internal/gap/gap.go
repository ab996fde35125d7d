// Package gap measures the patch gap of kernel CVEs: how long a fix was
// public — posted to a mailing list, applied, committed to mainline,
// backported to stable — before its CVE was published. The posting side
// comes from the archive (internal/link: the fix commit's links or the
// posting found by the CVE title), the CVE side from the stored vulns
// records (publication dates: internal/cve.Published).
//
// The headline figure of the field ("more than 40 % of fixes were public
// before the CVE, with an average delay of over 3 months") is, here:
// the share of CVEs whose first posting predates publication, and the
// mean, median and 90th percentile of the days from first posting to
// publication, overall and by list, subsystem, publication year,
// severity and era (fix posted before or after the kernel became its
// own CVE numbering authority on 2024-02-13).
package gap

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"patchtrail/internal/cve"
	"patchtrail/internal/exposure"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

// CNADate is the day the Linux kernel became a CVE Numbering Authority
// (announced 2024-02-13); CVEs for older fixes were assigned afterwards
// from the backlog.
var CNADate = time.Date(2024, 2, 13, 0, 0, 0, 0, time.UTC)

// Step is one dated event in the life of a fix.
type Step struct {
	Event     string     `json:"event"` // first_posted, last_version_posted, applied, mainline_fix, backport, cve_published
	Date      *time.Time `json:"date"`  // nil when unknown (a commit in no registered repository)
	Version   string     `json:"version,omitempty"`
	SHA       string     `json:"sha,omitempty"`
	MessageID string     `json:"message_id,omitempty"`
	// DaysBeforeCVE is the time from this step to the CVE's publication.
	DaysBeforeCVE *float64 `json:"days_before_cve,omitempty"`
}

// CVE is the gap of one traced CVE.
type CVE struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Severity  string     `json:"severity"` // "unscored" when the record has no CVSS
	Subsystem string     `json:"subsystem"`
	Lists     []string   `json:"lists"`
	Published *time.Time `json:"published"`
	Year      int        `json:"year"` // of publication, 0 when undated
	Era       string     `json:"era"`  // "before-cna" or "cna": the first posting before or after CNADate
	Steps     []Step     `json:"steps"`
	// Days is the patch gap: first posting to publication, nil when the
	// CVE has no publication date.
	Days *float64 `json:"days"`
	// PublicBefore: the fix was posted before the CVE was published.
	PublicBefore bool `json:"public_before_cve"`
}

// Stats aggregates the gaps of a group of CVEs (those with a Days).
type Stats struct {
	Group        string  `json:"group"`
	CVEs         int     `json:"cves"`
	PublicBefore int     `json:"public_before_cve"`
	Share        float64 `json:"share_public_before"` // PublicBefore / CVEs
	// Over90 is the share of CVEs published more than 90 days after the
	// first posting ("over 3 months").
	Over90     float64 `json:"share_over_90_days"`
	MeanDays   float64 `json:"mean_days"`
	MedianDays float64 `json:"median_days"`
	P90Days    float64 `json:"p90_days"`
}

// Report is the whole measurement.
type Report struct {
	CVEs        []*CVE  `json:"cves"`
	Overall     Stats   `json:"overall"`
	ByList      []Stats `json:"by_list"`
	BySubsystem []Stats `json:"by_subsystem"`
	ByYear      []Stats `json:"by_year"`
	BySeverity  []Stats `json:"by_severity"`
	ByEra       []Stats `json:"by_era"`
	// Histogram counts the gaps in HistogramBins; Cumulative is, per
	// publication year, the share of CVEs published within d days of
	// the posting.
	Histogram  []Bin   `json:"histogram"`
	Cumulative []Curve `json:"cumulative"`
}

// Bin is one bar of the histogram: gaps in [From, To) days (To 0: no
// upper bound).
type Bin struct {
	From  float64 `json:"from_days"`
	To    float64 `json:"to_days"`
	Count int     `json:"cves"`
}

// HistogramBins are the bin edges in days: a week, two, a month, two,
// three, six, a year, two, three.
var HistogramBins = []float64{0, 7, 14, 30, 60, 90, 180, 365, 730, 1095}

// Curve is the cumulative distribution of the gaps of one group.
type Curve struct {
	Group  string  `json:"group"`
	Points []Point `json:"points"` // by Days ascending; Share reaches 1
}

// Point: a Share of the group had a gap of at most Days.
type Point struct {
	Days  float64 `json:"days"`
	Share float64 `json:"share"`
}

// Measure computes the gap of every CVE that f selects and whose fix
// posting the archive holds (f.Traced is forced to true).
func Measure(ctx context.Context, st *store.Store, f *exposure.Filter) (*Report, error) {
	var sel exposure.Filter
	if f != nil {
		sel = *f
	}
	traced := true
	sel.Traced = &traced
	list, err := exposure.List(ctx, st, &sel)
	if err != nil {
		return nil, err
	}
	rep := &Report{CVEs: []*CVE{}}
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gap: %w", err)
		}
		rec, err := st.CVE(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		c, err := measureOne(ctx, st, rec, e)
		if err != nil {
			return nil, err
		}
		if c != nil {
			rep.CVEs = append(rep.CVEs, c)
		}
	}
	rep.aggregate()
	return rep, nil
}

func ptr[T any](v T) *T { return &v }

func measureOne(ctx context.Context, st *store.Store, rec *store.CVERow, e *exposure.Entry) (*CVE, error) {
	p, err := link.FindCVEPosting(ctx, st, rec)
	if err != nil || p == nil {
		return nil, err
	}
	var lists []string
	if e.Posting != nil {
		lists = e.Posting.Lists
	}
	return Of(ctx, st, rec, p, lists)
}

// Of is the gap of one CVE whose fix was posted as p (on lists): the
// steps from the first posting to the publication, as Measure reports
// them. A trace calls it with the posting it found.
func Of(ctx context.Context, st *store.Store, rec *store.CVERow, p *link.CVEPosting, lists []string) (*CVE, error) {
	c := &CVE{ID: rec.ID, Title: rec.Title, Severity: strings.ToLower(rec.Severity), Subsystem: Subsystem(rec.Files), Steps: []Step{}, Lists: lists}
	if c.Severity == "" {
		c.Severity = "unscored"
	}
	if c.Lists == nil {
		c.Lists = []string{}
	}
	first := p.First()
	c.Steps = append(c.Steps, Step{Event: "first_posted", Date: ptr(first.Date), MessageID: first.MessageID},
		Step{Event: "last_version_posted", Date: ptr(p.Final.Date), MessageID: p.Final.MessageID})
	c.Era = "cna"
	if first.Date.Before(CNADate) {
		c.Era = "before-cna"
	}
	shas := rec.FixSHAs
	if m, err := link.FindApplied(ctx, st, p.Final, shas); err != nil {
		return nil, err
	} else if m != nil {
		c.Steps = append(c.Steps, Step{Event: "applied", Date: ptr(m.Date), MessageID: m.MessageID})
	}
	commitDate := func(sha string) *time.Time {
		if sha == "" {
			return nil
		}
		if cm, err := st.Commit(ctx, sha); err == nil && !cm.CommitDate.IsZero() {
			return ptr(cm.CommitDate)
		}
		return nil
	}
	// The mainline fix first, then the stable fixes in file order, so
	// that undated steps keep the order of the story.
	branches := cve.Branches(exposure.Backports(rec))
	for _, mainline := range []bool{true, false} {
		for _, b := range branches {
			if b.Vulnerable || (b.Branch == cve.MainlineBranch) != mainline {
				continue
			}
			ev := "backport"
			if mainline {
				ev = "mainline_fix"
			}
			c.Steps = append(c.Steps, Step{Event: ev, Date: commitDate(b.FixedSHA), Version: b.FixedVersion, SHA: b.FixedSHA})
		}
	}
	if !rec.Published.IsZero() {
		c.Published = ptr(rec.Published)
		c.Year = rec.Published.Year()
		c.Steps = append(c.Steps, Step{Event: "cve_published", Date: c.Published})
		c.Days = ptr(days(rec.Published.Sub(first.Date)))
		c.PublicBefore = first.Date.Before(rec.Published)
		for i := range c.Steps {
			if d := c.Steps[i].Date; d != nil {
				c.Steps[i].DaysBeforeCVE = ptr(days(rec.Published.Sub(*d)))
			}
		}
	}
	sort.SliceStable(c.Steps, func(i, j int) bool {
		a, b := c.Steps[i].Date, c.Steps[j].Date
		if a == nil || b == nil {
			return a != nil
		}
		return a.Before(*b)
	})
	return c, nil
}

// days is d in days, rounded to a tenth.
func days(d time.Duration) float64 { return math.Round(d.Hours()/24*10) / 10 }

// Subsystem is the top directory of the files a fix touches, the most
// frequent one (the first on a tie); "" for no files.
func Subsystem(files []string) string {
	count := map[string]int{}
	best := ""
	for _, f := range files {
		top, _, _ := strings.Cut(f, "/")
		count[top]++
		if best == "" || count[top] > count[best] {
			best = top
		}
	}
	return best
}

func (r *Report) aggregate() {
	var dated []*CVE
	for _, c := range r.CVEs {
		if c.Days != nil {
			dated = append(dated, c)
		}
	}
	r.Overall = stats("all", dated)
	r.ByList = groupBy(dated, func(c *CVE) []string { return c.Lists })
	r.BySubsystem = groupBy(dated, func(c *CVE) []string { return []string{c.Subsystem} })
	r.ByYear = groupBy(dated, func(c *CVE) []string { return []string{strconv.Itoa(c.Year)} })
	r.BySeverity = groupBy(dated, func(c *CVE) []string { return []string{c.Severity} })
	r.ByEra = groupBy(dated, func(c *CVE) []string { return []string{c.Era} })
	r.Histogram = histogram(dated)
	r.Cumulative = []Curve{}
	years := map[string][]float64{}
	for _, c := range dated {
		y := strconv.Itoa(c.Year)
		years[y] = append(years[y], *c.Days)
	}
	for _, s := range r.ByYear {
		r.Cumulative = append(r.Cumulative, cumulative(s.Group, years[s.Group]))
	}
}

func histogram(cs []*CVE) []Bin {
	bins := make([]Bin, len(HistogramBins))
	for i, from := range HistogramBins {
		bins[i].From = from
		if i+1 < len(HistogramBins) {
			bins[i].To = HistogramBins[i+1]
		}
	}
	for _, c := range cs {
		i := sort.SearchFloat64s(HistogramBins, *c.Days)
		// SearchFloat64s finds the first edge >= d: d belongs to the bin
		// before it unless it equals the edge.
		if i == len(HistogramBins) || HistogramBins[i] > *c.Days {
			i--
		}
		if i < 0 {
			i = 0 // a negative gap (posted after publication) counts in the first bin
		}
		bins[i].Count++
	}
	return bins
}

func cumulative(group string, ds []float64) Curve {
	sort.Float64s(ds)
	c := Curve{Group: group, Points: []Point{}}
	for i, d := range ds {
		p := Point{Days: d, Share: math.Round(float64(i+1)/float64(len(ds))*1000) / 1000}
		if n := len(c.Points); n > 0 && c.Points[n-1].Days == d {
			c.Points[n-1] = p
			continue
		}
		c.Points = append(c.Points, p)
	}
	return c
}

func groupBy(cs []*CVE, keys func(*CVE) []string) []Stats {
	groups := map[string][]*CVE{}
	for _, c := range cs {
		for _, k := range keys(c) {
			groups[k] = append(groups[k], c)
		}
	}
	names := make([]string, 0, len(groups))
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]Stats, 0, len(names))
	for _, k := range names {
		out = append(out, stats(k, groups[k]))
	}
	return out
}

func stats(group string, cs []*CVE) Stats {
	s := Stats{Group: group, CVEs: len(cs)}
	if len(cs) == 0 {
		return s
	}
	ds := make([]float64, len(cs))
	sum := 0.0
	for i, c := range cs {
		ds[i] = *c.Days
		sum += ds[i]
		if c.PublicBefore {
			s.PublicBefore++
		}
	}
	sort.Float64s(ds)
	over := 0
	for _, d := range ds {
		if d > 90 {
			over++
		}
	}
	s.Over90 = math.Round(float64(over)/float64(len(cs))*1000) / 1000
	s.Share = math.Round(float64(s.PublicBefore)/float64(len(cs))*1000) / 1000
	s.MeanDays = math.Round(sum/float64(len(cs))*10) / 10
	s.MedianDays = Quantile(ds, 0.5)
	s.P90Days = Quantile(ds, 0.9)
	return s
}

// Quantile is the q-quantile of sorted values, interpolated linearly
// between the closest ranks (the "R-7" definition spreadsheets use).
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	h := q * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(sorted)-1)
	v := sorted[lo] + (h-float64(lo))*(sorted[hi]-sorted[lo])
	return math.Round(v*10) / 10
}
