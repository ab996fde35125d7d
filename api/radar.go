package api

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/radar"
	"patchtrail/internal/store"
)

// The security-fix radar (doc/radar.md): /api/v1/radar, the /radar/
// page and its feed /radar/new.atom answer from the scores stored at
// import; message and trace pages show the score of their posting.

// RadarPage is the answer of /api/v1/radar.
type RadarPage struct {
	Items []radar.Item `json:"items"`
}

// radarDefaultDays is the default window of the page and the feed.
const radarDefaultDays = 30

// radarPageLimit is the default number of rows of the page and the API.
const radarPageLimit = 100

var radarParams = []param{
	{Name: "list", In: "query", Type: "string", Doc: "only patches posted on this list"},
	{Name: "from", In: "query", Type: "string", Doc: "only patches whose newest version is dated from this day (YYYY-MM-DD)"},
	{Name: "to", In: "query", Type: "string", Doc: "only patches whose newest version is dated before this day (YYYY-MM-DD)"},
	{Name: "min_score", In: "query", Type: "string", Doc: "only scores of at least this (0..1)"},
	{Name: "no_cve", In: "query", Type: "boolean", Doc: "only patches no CVE names yet (1/true)"},
	{Name: "limit", In: "query", Type: "integer", Doc: "rows, highest score first (default 100; 0 = all)"},
}

// radarForm is the filter as the request gave it (the page's form).
type radarForm struct {
	List, From, To, MinScore, Limit string
	NoCVE                           bool
}

// parseRadarQuery reads the filter; with defaults (for the page and
// the feed, when the request names no filter) the last 30 days and no
// CVE yet.
func parseRadarQuery(c echo.Context, defaults bool) (radar.Query, radarForm, error) {
	var q radar.Query
	f := radarForm{List: c.QueryParam("list"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		MinScore: c.QueryParam("min_score"), Limit: c.QueryParam("limit"), NoCVE: boolParam(c, "no_cve")}
	if defaults && len(c.QueryParams()) == 0 {
		f.From = time.Now().UTC().AddDate(0, 0, -radarDefaultDays).Format(time.DateOnly)
		f.NoCVE = true
	}
	q.List, q.NoCVE = f.List, f.NoCVE
	var err error
	if q.From, err = radarDay("from", f.From); err != nil {
		return q, f, err
	}
	if q.To, err = radarDay("to", f.To); err != nil {
		return q, f, err
	}
	if f.MinScore != "" {
		if q.MinScore, err = strconv.ParseFloat(f.MinScore, 64); err != nil || q.MinScore < 0 || q.MinScore > 1 {
			return q, f, badRequest("min_score must be a number from 0 to 1")
		}
	}
	if q.Limit, err = intParam(c, "limit", radarPageLimit); err != nil {
		return q, f, err
	}
	return q, f, nil
}

func radarDay(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, badRequest(name + " must be a date as YYYY-MM-DD")
	}
	return t, nil
}

// radarList answers a query; a store never scored answers no rows.
func (s *Server) radarList(ctx context.Context, q *radar.Query) ([]radar.Item, error) {
	items, err := radar.List(ctx, s.st, q)
	if errors.Is(err, store.ErrNoRadar) {
		return []radar.Item{}, nil
	}
	return items, err
}

func (s *Server) apiRadar(c echo.Context, _ string) (any, error) {
	q, _, err := parseRadarQuery(c, false)
	if err != nil {
		return nil, err
	}
	items, err := s.radarList(c.Request().Context(), &q)
	if err != nil {
		return nil, err
	}
	return &RadarPage{Items: items}, nil
}

// radarRow is one row of the page.
type radarRow struct {
	radar.Item
	Trace string // the trace page of the posting
}

type radarData struct {
	pageBase
	F     radarForm
	Rows  []radarRow
	JSON  string
	Atom  string
	Empty bool // the store holds no scores yet
}

func (s *Server) pageRadar(c echo.Context) error {
	setRoute(c, "/radar/", kindHTML)
	q, f, err := parseRadarQuery(c, true)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	items, err := radar.List(ctx, s.st, &q)
	d := radarData{pageBase: s.base("all", "Radar"), F: f}
	switch {
	case errors.Is(err, store.ErrNoRadar):
		d.Empty = true
	case err != nil:
		return err
	}
	for _, it := range items {
		d.Rows = append(d.Rows, radarRow{Item: it, Trace: "/_/trace/" + url.PathEscape(it.MessageID)})
	}
	qs := radarQueryString(f)
	d.JSON = apiPrefix + "/radar" + qs
	d.Atom = "/radar/new.atom" + qs
	return s.render(c, http.StatusOK, "radar", d)
}

// radarQueryString is the query of a filter, for the links of the page.
func radarQueryString(f radarForm) string {
	v := url.Values{}
	for k, x := range map[string]string{"list": f.List, "from": f.From, "to": f.To, "min_score": f.MinScore, "limit": f.Limit} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if f.NoCVE {
		v.Set("no_cve", "1")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// atomRadar answers /radar/new.atom: the patches of the filter (by
// default the last 30 days, no CVE yet, score at least 0.5), newest
// first, each linking to its trace page.
func (s *Server) atomRadar(c echo.Context) error {
	setRoute(c, "/radar/new.atom", kindText)
	q, f, err := parseRadarQuery(c, true)
	if err != nil {
		return err
	}
	if f.MinScore == "" {
		q.MinScore = 0.5
	}
	q.Limit = 0
	items, err := s.radarList(c.Request().Context(), &q)
	if err != nil {
		return err
	}
	// Newest first; the list is ranked by score.
	sortItemsByDate(items)
	if len(items) > feedEntries {
		items = items[:feedEntries]
	}
	base := s.baseURL(c.Request())
	self := base + "/radar/new.atom" + radarQueryString(f)
	feed := &atomFeed{Title: s.o.Title + ": security-fix radar", ID: toUUID(self),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/radar/" + radarQueryString(f)}, {Rel: "self", Href: self}}}
	updated := time.Unix(0, 0)
	for _, it := range items {
		if it.Date.After(updated) {
			updated = it.Date
		}
		var b strings.Builder
		fmt.Fprintf(&b, "score %.3f", it.Score)
		if it.CVE != "" {
			fmt.Fprintf(&b, ", %s", it.CVE)
		}
		b.WriteString("\n")
		for _, sg := range it.Signals {
			fmt.Fprintf(&b, "%+.2f %s <%s>\n", sg.Weight, sg.Words, sg.Evidence)
		}
		feed.Entries = append(feed.Entries, atomEntry{Title: fmt.Sprintf("[%.2f] %s", it.Score, strings.Join(strings.Fields(it.Subject), " ")),
			Updated: atomTime(it.Date), Link: atomLink{Href: base + "/_/trace/" + url.PathEscape(it.MessageID)},
			ID: toUUID(it.MessageID), Content: atomContent{Type: "text", Text: b.String()}})
	}
	feed.Updated = atomTime(updated)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(feed); err != nil {
		return fmt.Errorf("api: atom: %w", err)
	}
	return c.Blob(http.StatusOK, "application/atom+xml", b.Bytes())
}

func sortItemsByDate(items []radar.Item) {
	sort.SliceStable(items, func(i, j int) bool { return items[i].Date.After(items[j].Date) })
}

// radarOf is the radar's view of one posting (nil when it is no scored
// patch posting, or the store holds no scores), for the message and
// trace pages.
func (s *Server) radarOf(ctx context.Context, mid string) *radar.Item {
	if mid == "" {
		return nil
	}
	it, ok, err := radar.OfMessage(ctx, s.st, mid)
	if err != nil || !ok {
		return nil
	}
	return it
}

// tracePostingID is the posting of a trace the radar scored: the final
// posting ("" when the trace found none).
func tracePostingID(t *Trace) string {
	if t == nil || t.Posting == nil {
		return ""
	}
	return t.Posting.MessageID
}
