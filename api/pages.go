package api

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/radar"
	"patchtrail/search"
)

// The HTML pages: server-rendered with html/template (which escapes
// every piece of mail text for its context), no JavaScript.

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one template set per page, each with the shared layout.
type pages struct {
	t map[string]*template.Template
}

var pageNames = []string{"home", "search", "message", "thread", "series", "commit", "trace", "cves", "gap", "help", "error", "radar"}

var pageFuncs = template.FuncMap{
	"msgurl": func(list, mid string) string { return messageURL(list, mid) },
	"date":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"addr": func(a Address) string {
		if a.Name == "" {
			return a.Email
		}
		return a.Name + " <" + a.Email + ">"
	},
	"addrp": func(a *Address) string {
		if a == nil {
			return ""
		}
		if a.Name == "" {
			return a.Email
		}
		return a.Name
	},
	"join":   strings.Join,
	"deref":  func(t *time.Time) time.Time { return *t },
	"derefF": func(f *float64) float64 { return *f },
	"add":    func(a, b int) int { return a + b },
	"pct":    func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
	"desc":   descBlocks,
	"day":    func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}

func loadPages() *pages {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range pageNames {
		p.t[name] = template.Must(template.New(name).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", "templates/became.html", "templates/radarbox.html", "templates/"+name+".html"))
	}
	return p
}

// helpHTML is the search syntax, escaped once: every search page shows it.
var helpHTML = sync.OnceValue(func() template.HTML { return template.HTML(template.HTMLEscapeString(search.HelpText())) })

// pageBase is what the layout needs.
type pageBase struct {
	Title string
	Site  string
	List  string // the list of the URL ("all" for every list)
	Q     string // the query in the search box
}

func (s *Server) base(list, title string) pageBase {
	if list == "" {
		list = allLists
	}
	return pageBase{Title: title, Site: s.o.Title, List: list}
}

// render writes page name with data.
func (s *Server) render(c echo.Context, status int, name string, data any) error {
	var b bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&b, "layout", data); err != nil {
		return fmt.Errorf("api: render %s: %w", name, err)
	}
	return c.HTMLBlob(status, b.Bytes())
}

// pageRoutes registers the pages outside the lore URL space (the lore
// ones are dispatched in lore.go); commit, trace and CVE pages go here.
func (s *Server) pageRoutes(e *echo.Echo) {
	e.Match([]string{http.MethodGet, http.MethodHead}, "/", s.pageHome)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/_/commit/*", s.pageCommit)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/_/trace/*", s.pageTrace)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/_/cves/", s.pageCVEs)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/_/gap/", s.pageGap)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/radar/", s.pageRadar)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/radar/new.atom", s.atomRadar)
}

type commitData struct {
	pageBase
	C *Commit
}

func (s *Server) pageCommit(c echo.Context) error {
	setRoute(c, "/_/commit/SHA", kindHTML)
	sha, err := tail(c.Request(), "/_/commit/")
	if err != nil {
		return err
	}
	cm, err := LoadCommit(c.Request().Context(), s.st, sha)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "commit", commitData{pageBase: s.base("all", cm.Subject), C: cm})
}

type traceData struct {
	pageBase
	T *Trace
	// known are the commits a registered repository holds; the others
	// link to the web (Options.CommitURL).
	known     map[string]bool
	commitURL string
	Radar     *radar.Item // the radar's score of the final posting
}

// CommitURL is the link of a commit of the trace: its page when a
// registered repository holds it, else its web address.
func (d traceData) CommitURL(sha string) string {
	if d.known[sha] {
		return "/_/commit/" + url.PathEscape(sha)
	}
	return commitWebURL(d.commitURL, sha)
}

// commitWebURL fills the pattern of Options.CommitURL.
func commitWebURL(pattern, sha string) string {
	if strings.Contains(pattern, "{sha}") {
		return strings.ReplaceAll(pattern, "{sha}", url.PathEscape(sha))
	}
	return pattern + url.PathEscape(sha)
}

// knownCommits are the commits of a trace that a registered repository
// holds.
func knownCommits(t *Trace) map[string]bool {
	known := map[string]bool{}
	add := func(r *CommitRef) {
		if r != nil && r.Known {
			known[r.SHA] = true
		}
	}
	for i := range t.FixCommits {
		add(&t.FixCommits[i])
	}
	for i := range t.Fixes {
		add(&t.Fixes[i].Commit)
	}
	for i := range t.Backports {
		add(t.Backports[i].Commit)
	}
	return known
}

func (s *Server) pageTrace(c echo.Context) error {
	setRoute(c, "/_/trace/ID", kindHTML)
	id, err := tail(c.Request(), "/_/trace/")
	if err != nil {
		return err
	}
	tr, err := LoadTrace(c.Request().Context(), s.st, id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "trace", traceData{pageBase: s.base("all", "Trace of "+tr.Query), T: tr, known: knownCommits(tr), commitURL: s.o.CommitURL,
		Radar: s.radarOf(c.Request().Context(), tracePostingID(tr))})
}

type errorData struct {
	pageBase
	Status   int
	Message  string
	Position int
}

func (s *Server) renderError(c echo.Context, status int, msg string, pos int) error {
	return s.render(c, status, "error", errorData{pageBase: s.base("", http.StatusText(status)), Status: status, Message: msg, Position: pos})
}

type homeData struct {
	pageBase
	Lists []ListInfo
	Stats *StatsPage
}

func (s *Server) pageHome(c echo.Context) error {
	setRoute(c, "/", kindHTML)
	ctx := c.Request().Context()
	lists, err := s.apiLists(c, "")
	if err != nil {
		return err
	}
	st, err := s.stats(ctx)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "home", homeData{pageBase: s.base("", s.o.Title), Lists: lists.(*ListsPage).Lists, Stats: st})
}

type searchData struct {
	pageBase
	Page      *SearchPage
	Newest    bool // no query: the newest messages
	Commits   bool // commits among the hits (a query with is:commit)
	Threads   bool
	Relevance bool
	Err       string
	Caret     string        // points at the column of a query syntax error
	Help      template.HTML // helpHTML
	Prev      string
	Next      string
	From, To  int
	MboxURL   string
	ThreadURL string
	AtomURL   string
	Table     template.HTML // the rows of the results table (rowsHTML)
	All       bool          // the page of every list: rows name their list
}

// searchRow is one row of the results table, with what it shows worked
// out per hit (the date's text, the links), written by rowsHTML: a
// template's function calls, field lookups and escapers go through
// reflection, and a page has up to 200 rows.
type searchRow struct {
	Commit   bool
	Date     string
	Href     string // the message's page under the page's list, or the commit's page
	Subject  string
	From     string
	Where    string // a message's list, a commit's repository
	SHA12    string // a commit's abbreviated id
	Commits  []HitCommit
	Postings []HitPosting
}

func searchRows(list string, hits []Hit) []searchRow {
	rows := make([]searchRow, len(hits))
	for i, h := range hits {
		r := searchRow{Date: h.Date.UTC().Format("2006-01-02 15:04"), Subject: h.Subject, From: h.From,
			Where: h.List, Commits: h.Commits, Postings: h.Postings}
		if h.Kind == search.KindCommit {
			r.Commit, r.Href, r.Where, r.SHA12 = true, h.URL, h.Repo, h.SHA[:min(12, len(h.SHA))]
		} else {
			r.Href = messageURL(list, h.MessageID)
		}
		rows[i] = r
	}
	return rows
}

// pageSearch shows the search page of a list: the newest messages without
// q, else one page of results (public-inbox's o= offset and l= limit).
func (s *Server) pageSearch(c echo.Context, list string, qp map[string]string) error {
	setRoute(c, "/LIST/", kindHTML)
	q := strings.TrimSpace(qp["q"])
	d := searchData{pageBase: s.base(list, list), Threads: loreFlag(qp, "t"), Relevance: loreFlag(qp, "r"), Help: helpHTML()}
	d.Q = q
	off, _ := strconv.Atoi(qp["o"])
	lim, _ := strconv.Atoi(qp["l"])
	if lim <= 0 {
		lim = search.DefaultLimit
	}
	o := &search.SearchOptions{Limit: lim, Offset: max(off, 0), Threads: d.Threads, List: searchList(list)}
	if d.Relevance {
		o.Sort = search.SortRelevance
	}
	query := q
	if q == "" {
		query, d.Newest, o.Offset = everything, true, 0
	} else {
		d.Title = q + " - search results"
	}
	p, err := s.searchPage(c.Request().Context(), query, o)
	status := http.StatusOK
	if err != nil {
		st, msg, pos := statusOf(err)
		if st != http.StatusBadRequest {
			return err
		}
		status, d.Err = st, msg
		if pos > 0 && pos <= len([]rune(q))+1 {
			d.Caret = strings.Repeat(" ", pos-1) + "^"
		}
	} else {
		d.Page = p
		d.From, d.To = p.Offset+1, p.Offset+len(p.Hits)
		d.All = d.List == allLists
		d.Table = rowsHTML(searchRows(d.List, p.Hits), d.All)
		for _, h := range p.Hits {
			d.Commits = d.Commits || h.Kind == search.KindCommit
		}
	}
	if q != "" {
		page := func(off int) string {
			v := url.Values{"q": {q}}
			if off > 0 {
				v.Set("o", strconv.Itoa(off))
			}
			if lim != search.DefaultLimit {
				v.Set("l", strconv.Itoa(lim))
			}
			if d.Threads {
				v.Set("t", "1")
			}
			if d.Relevance {
				v.Set("r", "1")
			}
			return "?" + v.Encode()
		}
		if p != nil && p.Offset > 0 {
			d.Prev = page(max(p.Offset-p.Limit, 0))
		}
		if p != nil && len(p.Hits) == p.Limit && (d.Threads || uint64(p.Offset+p.Limit) < p.Total) {
			d.Next = page(p.Offset + p.Limit)
		}
		d.MboxURL = "?" + url.Values{"q": {q}, "x": {"m"}}.Encode()
		d.ThreadURL = "?" + url.Values{"q": {q}, "x": {"m"}, "t": {"1"}}.Encode()
		d.AtomURL = "?" + url.Values{"q": {q}, "x": {"A"}}.Encode()
	}
	return s.render(c, status, "search", d)
}

type helpData struct {
	pageBase
	Help string
}

// pageHelp shows the search syntax: /LIST/_/text/help/ (and /raw as text).
func (s *Server) pageHelp(c echo.Context, list string, raw bool) error {
	if raw {
		setRoute(c, "/LIST/_/text/help/raw", kindText)
		return c.String(http.StatusOK, search.HelpText())
	}
	setRoute(c, "/LIST/_/text/help/", kindHTML)
	return s.render(c, http.StatusOK, "help", helpData{pageBase: s.base(list, "search help"), Help: search.HelpText()})
}

type messageData struct {
	pageBase
	M         *MessageDetail
	Blocks    []bodyBlock
	Cut       bool
	ParentURL string
	Became    []*Became   // what the message, a patch, became
	Radar     *radar.Item // the radar's score, for a patch posting
}

func (s *Server) pageMessage(c echo.Context, list, mid string) error {
	setRoute(c, "/LIST/MSGID/", kindHTML)
	m, err := LoadMessageDetail(c.Request().Context(), s.st, mid)
	if err != nil {
		return err
	}
	d := messageData{pageBase: s.base(list, m.Subject), M: m, Radar: s.radarOf(c.Request().Context(), m.MessageID)}
	d.Blocks, d.Cut = renderBody(m.Body)
	if m.Parent != "" {
		d.ParentURL = messageURL(list, m.Parent)
	}
	if d.Became, err = becameOf(c.Request().Context(), s.st, []string{m.MessageID}); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "message", d)
}

// threadItem is one message of the thread page, in tree order.
type threadItem struct {
	MessageID string
	URL       string
	Anchor    string
	Ghost     bool
	Subject   string
	From      string
	Date      time.Time
	Depth     int
	Indent    int // em, capped
	Body      renderedBody
	Selected  bool
}

type threadData struct {
	pageBase
	T           *Thread
	Items       []threadItem
	SameSubject []ThreadSummary
	MboxURL     string
	Omitted     int       // bodies not shown
	Became      []*Became // what the patches of the thread became
}

// Thread page limits: bodies are shown for the first maxThreadBodies
// messages; indentation stops growing at maxIndent levels.
const (
	maxThreadBodies = 50
	maxIndent       = 16
)

func (s *Server) pageThread(c echo.Context, list, mid string) error {
	setRoute(c, "/LIST/MSGID/t/", kindHTML)
	ctx := c.Request().Context()
	tv, err := s.threadView(ctx, mid)
	if err != nil {
		return err
	}
	t := threadOf(tv)
	rowID := map[string]int64{}
	for _, m := range tv.Messages {
		rowID[m.MessageID] = m.ID
	}
	self := tv.Message
	d := threadData{pageBase: s.base(list, "thread"), T: t, SameSubject: t.SameSubject,
		MboxURL: "/" + url.PathEscape(list) + "/" + escapeMID(self.MessageID) + "/t.mbox.gz"}
	for _, n := range t.Nodes {
		it := threadItem{MessageID: n.MessageID, URL: messageURL(list, n.MessageID), Anchor: "m" + strconv.Itoa(len(d.Items)),
			Ghost: n.Ghost, Subject: n.Subject, From: pageFuncs["addrp"].(func(*Address) string)(n.From),
			Depth: n.Depth, Indent: min(n.Depth, maxIndent) * 2, Selected: n.MessageID == self.MessageID}
		if n.Date != nil {
			it.Date = *n.Date
		}
		if d.Title == "thread" && !n.Ghost {
			d.Title = n.Subject
		}
		if !n.Ghost {
			if id, ok := rowID[n.MessageID]; ok && len(d.Items) < maxThreadBodies {
				b, err := s.body(ctx, id, n.MessageID)
				if err != nil {
					return err
				}
				it.Body = b
			} else {
				d.Omitted++
			}
		}
		d.Items = append(d.Items, it)
	}
	mids := make([]string, 0, len(tv.Messages))
	for _, m := range tv.Messages {
		mids = append(mids, m.MessageID)
	}
	if d.Became, err = becameOf(ctx, s.st, mids); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "thread", d)
}

type seriesData struct {
	pageBase
	S *Series
}

func (s *Server) pageSeries(c echo.Context, list, mid string) error {
	setRoute(c, "/LIST/MSGID/series/", kindHTML)
	sr, err := LoadSeries(c.Request().Context(), s.st, mid)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "series", seriesData{pageBase: s.base(list, sr.Subject), S: sr})
}
