package api

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/exposure"
	"patchtrail/internal/store"
)

// The CVE index: /api/v1/cves and the /_/cves/ page. Both read the
// filters of `patchtrail cve list` from the query string and list with
// internal/exposure; this file only converts.

// cveQuery is a parsed CVE index request.
type cveQuery struct {
	Filter        exposure.Filter
	Sort          string
	Offset, Limit int
}

const (
	defaultCVELimit = 100
	maxCVELimit     = 1000
)

var cveParams = []param{
	{Name: "open_in", In: "query", Type: "string", Doc: "only CVEs still open in this kernel release (e.g. 6.6.20)"},
	{Name: "fixed_in", In: "query", Type: "string", Doc: "only CVEs fixed by this kernel release (e.g. 6.1.77)"},
	{Name: "file", In: "query", Type: "string", Doc: "only CVEs touching a file or directory matching this glob (repeatable)"},
	{Name: "list", In: "query", Type: "string", Doc: "only CVEs whose fix was posted on this list"},
	{Name: "published", In: "query", Type: "string", Doc: "only CVEs published in FROM..TO (YYYY-MM-DD, either side optional)"},
	{Name: "traced", In: "query", Type: "string", Doc: "yes: only CVEs whose fix posting is in the archive; no: only those without"},
	{Name: "postings", In: "query", Type: "boolean", Doc: "look up the posting of every listed CVE"},
	{Name: "sort", In: "query", Type: "string", Doc: "id (default), published, severity, cvss or title; a leading - reverses"},
	{Name: "offset", In: "query", Type: "integer", Doc: "CVEs to skip"},
	{Name: "limit", In: "query", Type: "integer", Doc: "CVEs per page (default 100, at most 1000)"},
}

// parseCVEQuery reads the filters, order and page of a request. The
// HTML form sends empty fields, which do not filter.
func parseCVEQuery(c echo.Context) (*cveQuery, error) {
	q := &cveQuery{Sort: c.QueryParam("sort")}
	f := &q.Filter
	f.OpenIn = strings.TrimSpace(c.QueryParam("open_in"))
	f.FixedIn = strings.TrimSpace(c.QueryParam("fixed_in"))
	f.List = strings.TrimSpace(c.QueryParam("list"))
	for _, g := range c.QueryParams()["file"] {
		for _, g := range strings.Fields(g) {
			f.Files = append(f.Files, g)
		}
	}
	if p := strings.TrimSpace(c.QueryParam("published")); p != "" {
		var err error
		if f.PublishedFrom, f.PublishedTo, err = exposure.ParsePublished(p); err != nil {
			return nil, badRequest(strings.TrimPrefix(err.Error(), "exposure: "))
		}
	}
	switch strings.ToLower(c.QueryParam("traced")) {
	case "":
	case "1", "true", "yes":
		t := true
		f.Traced = &t
	case "0", "false", "no":
		f.Traced = new(bool)
	default:
		return nil, badRequest("traced must be yes or no")
	}
	f.Postings = boolParam(c, "postings")
	var err error
	if q.Offset, err = intParam(c, "offset", 0); err != nil {
		return nil, err
	}
	if q.Limit, err = intParam(c, "limit", defaultCVELimit); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		q.Limit = defaultCVELimit
	}
	q.Limit = min(q.Limit, maxCVELimit)
	return q, nil
}

// LoadCVEs lists the CVEs that f selects in order sort, the page
// [offset, offset+limit) of them, in wire form.
func LoadCVEs(ctx context.Context, st *store.Store, f *exposure.Filter, sort string, offset, limit int) (*CVEPage, error) {
	all, err := exposure.List(ctx, st, f)
	if err != nil {
		return nil, cveFilterError(err)
	}
	if err := exposure.Sort(all, sort); err != nil {
		return nil, badRequest(strings.TrimPrefix(err.Error(), "exposure: "))
	}
	p := &CVEPage{Total: len(all), Offset: offset, Limit: limit, Sort: sort, CVEs: []CVEEntry{}}
	if offset < len(all) {
		for _, e := range all[offset:min(len(all), offset+limit)] {
			p.CVEs = append(p.CVEs, WireCVEEntry(e))
		}
	}
	return p, nil
}

// cveFilterError makes a bad filter a client error.
func cveFilterError(err error) error {
	if errors.Is(err, exposure.ErrBadFilter) {
		return badRequest(strings.TrimPrefix(err.Error(), "exposure: "))
	}
	return err
}

// WireCVEEntry converts one listed CVE.
func WireCVEEntry(e *exposure.Entry) CVEEntry {
	w := CVEEntry{ID: e.ID, Title: e.Title, Severity: e.Severity, CVSS: e.CVSS, Published: e.Published,
		Files: e.Files, FixCommits: e.FixSHAs, FixedBy: e.FixedBy, Branches: []CVEBranch{}, Trace: "/_/trace/" + e.ID}
	for _, b := range e.Branches {
		w.Branches = append(w.Branches, CVEBranch{Branch: b.Branch, IntroducedVersion: b.IntroducedVersion, IntroducedSHA: b.IntroducedSHA,
			FixedVersion: b.FixedVersion, FixedSHA: b.FixedSHA, Vulnerable: b.Vulnerable})
	}
	if p := e.Posting; p != nil {
		w.Posting = &CVEPosting{MessageID: p.MessageID, Subject: p.Subject, Date: p.Date, Lists: p.Lists, Found: p.Found}
	}
	return w
}

func (s *Server) apiCVEs(c echo.Context, _ string) (any, error) {
	q, err := parseCVEQuery(c)
	if err != nil {
		return nil, err
	}
	p, err := LoadCVEs(c.Request().Context(), s.st, &q.Filter, q.Sort, q.Offset, q.Limit)
	if err != nil {
		return nil, err
	}
	if p.Offset+len(p.CVEs) < p.Total {
		qs := c.QueryParams()
		qs.Set("offset", strconv.Itoa(p.Offset+p.Limit))
		qs.Set("limit", strconv.Itoa(p.Limit))
		p.Next = apiPrefix + "/cves?" + qs.Encode()
	}
	return p, nil
}

// cvesData is the /_/cves/ page.
type cvesData struct {
	pageBase
	F          cveForm
	P          *CVEPage
	Columns    []cveColumn
	Prev, Next string
	JSON       string
}

// cveForm is the filter form as the request gave it.
type cveForm struct {
	OpenIn, FixedIn, Files, List, Published, Traced string
}

// cveColumn is a table header; URL sorts by it (or reverses the sort).
type cveColumn struct {
	Name, URL, Arrow string
}

func (s *Server) pageCVEs(c echo.Context) error {
	setRoute(c, "/_/cves/", kindHTML)
	q, err := parseCVEQuery(c)
	if err != nil {
		return err
	}
	q.Filter.Postings = true
	p, err := LoadCVEs(c.Request().Context(), s.st, &q.Filter, q.Sort, q.Offset, q.Limit)
	if err != nil {
		return err
	}
	d := cvesData{pageBase: s.base("all", "CVEs"), P: p, JSON: apiPrefix + "/cves?" + c.QueryParams().Encode()}
	d.F = cveForm{OpenIn: q.Filter.OpenIn, FixedIn: q.Filter.FixedIn, Files: strings.Join(q.Filter.Files, " "),
		List: q.Filter.List, Published: strings.TrimSpace(c.QueryParam("published"))}
	if q.Filter.Traced != nil {
		d.F.Traced = map[bool]string{true: "yes", false: "no"}[*q.Filter.Traced]
	}
	link := func(set map[string]string) string {
		qs := c.QueryParams()
		for k, v := range set {
			if v == "" {
				qs.Del(k)
			} else {
				qs.Set(k, v)
			}
		}
		return "/_/cves/?" + qs.Encode()
	}
	cur := strings.TrimPrefix(q.Sort, "-")
	if cur == "" {
		cur = "id"
	}
	for _, col := range []struct{ name, key string }{{"CVE", "id"}, {"published", "published"}, {"severity", "severity"},
		{"CVSS", "cvss"}, {"title", "title"}, {"branches", ""}, {"posting", ""}} {
		h := cveColumn{Name: col.name}
		if col.key != "" {
			next := col.key
			if col.key == cur {
				if strings.HasPrefix(q.Sort, "-") {
					h.Arrow = " ▼"
				} else {
					h.Arrow, next = " ▲", "-"+col.key
				}
			}
			h.URL = link(map[string]string{"sort": next, "offset": ""})
		}
		d.Columns = append(d.Columns, h)
	}
	if p.Offset > 0 {
		d.Prev = link(map[string]string{"offset": strconv.Itoa(max(0, p.Offset-p.Limit))})
	}
	if p.Offset+len(p.CVEs) < p.Total {
		d.Next = link(map[string]string{"offset": strconv.Itoa(p.Offset + p.Limit)})
	}
	return s.render(c, 200, "cves", d)
}
