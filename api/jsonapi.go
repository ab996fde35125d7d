package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchtrail/search"
)

// apiPrefix is where the JSON API lives.
const apiPrefix = "/api/v1"

// endpoint is one JSON API operation. The table below is the single
// source of the routes and of the OpenAPI document: to add an operation
// (commit/{sha}, trace/{id}, cve/{id}, ...), add a row with its handler
// and the zero value of its wire type, and both follow; a test checks
// that every row is documented and answers with its schema.
type endpoint struct {
	Method  string
	Path    string // under apiPrefix; a {param} may only end the path and takes the rest of it, '/' included
	ID      string // OpenAPI operationId
	Summary string
	Params  []param
	Result  any // zero value of the answer's wire type
	Run     func(s *Server, c echo.Context, arg string) (any, error)
}

// param is a query (or the trailing path) parameter of an endpoint.
type param struct {
	Name, In, Type, Doc string // In: "query" or "path"; Type: string, integer or boolean
	Required            bool
}

var searchParams = []param{
	{Name: "q", In: "query", Type: "string", Required: true, Doc: "query in lore's language (see /all/_/text/help/)"},
	{Name: "limit", In: "query", Type: "integer", Doc: "hits per page (default 50, capped by the server's maximum)"},
	{Name: "offset", In: "query", Type: "integer", Doc: "hits (threads when threads=1) to skip; any depth (pages beyond 10000 take longer)"},
	{Name: "sort", In: "query", Type: "string", Doc: "date (newest first, default) or relevance"},
	{Name: "threads", In: "query", Type: "boolean", Doc: "one hit per thread (1/true)"},
	{Name: "list", In: "query", Type: "string", Doc: "only this list"},
}

var shaParam = []param{{Name: "sha", In: "path", Type: "string", Required: true, Doc: "a commit id, full or abbreviated (7+ hex)"}}

func midParam(doc string) []param {
	return []param{{Name: "mid", In: "path", Type: "string", Required: true, Doc: doc + "; percent-encoded, without <>"}}
}

var endpoints = []endpoint{
	{Method: http.MethodGet, Path: "/search", ID: "search", Summary: "Search messages", Params: searchParams,
		Result: SearchPage{}, Run: (*Server).apiSearch},
	{Method: http.MethodGet, Path: "/message/{mid}", ID: "message", Summary: "One message with its patches and trailers",
		Params: midParam("any Message-ID of the message"), Result: MessageDetail{}, Run: (*Server).apiMessage},
	{Method: http.MethodGet, Path: "/thread/{mid}", ID: "thread", Summary: "The thread of a message as a tree, and same-subject messages",
		Params: midParam("any message of the thread"), Result: Thread{}, Run: (*Server).apiThread},
	{Method: http.MethodGet, Path: "/series/{mid}", ID: "series", Summary: "The patch series of a message with its versions and trailers",
		Params: midParam("the cover letter, a patch or a reply to a patch"), Result: Series{}, Run: (*Server).apiSeries},
	{Method: http.MethodGet, Path: "/commit/{sha}", ID: "commit", Summary: "A commit of a code repository with its links to postings, best first, and the evidence of each",
		Params: shaParam, Result: Commit{}, Run: (*Server).apiCommit},
	{Method: http.MethodGet, Path: "/trace/{id}", ID: "trace", Summary: "Why a fix landed: CVE, fix commits, postings, versions, reviewers, Fixes target, backports and a timeline",
		Params: []param{{Name: "id", In: "path", Type: "string", Required: true, Doc: "a CVE id, a commit sha (7+ hex) or a Message-ID; percent-encoded"}},
		Result: Trace{}, Run: (*Server).apiTrace},
	{Method: http.MethodGet, Path: "/cve/{id}", ID: "cve", Summary: "The trace of a CVE (same answer as /trace/{id})",
		Params: []param{{Name: "id", In: "path", Type: "string", Required: true, Doc: "a CVE id such as CVE-2024-26626"}},
		Result: Trace{}, Run: (*Server).apiTrace},
	{Method: http.MethodGet, Path: "/cves", ID: "cves", Summary: "The CVE index: CVEs by kernel release (open in, fixed in), files, list, publication date and posting, paged",
		Params: cveParams, Result: CVEPage{}, Run: (*Server).apiCVEs},
	{Method: http.MethodGet, Path: "/repos", ID: "repos", Summary: "The code repositories linked to the lists", Result: ReposPage{}, Run: (*Server).apiRepos},
	{Method: http.MethodGet, Path: "/lists", ID: "lists", Summary: "The mailing lists", Result: ListsPage{}, Run: (*Server).apiLists},
	{Method: http.MethodGet, Path: "/radar", ID: "radar", Summary: "Patches ranked by how likely they fix a security bug, with the signals that moved each score (doc/radar.md)",
		Params: radarParams, Result: RadarPage{}, Run: (*Server).apiRadar},
	{Method: http.MethodGet, Path: "/stats", ID: "stats", Summary: "Counts of what the archive holds", Result: StatsPage{}, Run: (*Server).apiStats},
}

// routes registers every route of the server.
func (s *Server) routes(e *echo.Echo) {
	for _, ep := range endpoints {
		ep := ep
		path, prefix := apiPrefix+ep.Path, ""
		if i := strings.IndexByte(path, '{'); i >= 0 {
			path, prefix = path[:i]+"*", path[:i]
		}
		e.Match([]string{ep.Method, http.MethodHead}, path, func(c echo.Context) error {
			setRoute(c, apiPrefix+ep.Path, kindJSON)
			var arg string
			if prefix != "" {
				var err error
				if arg, err = tail(c.Request(), prefix); err != nil {
					return err
				}
			}
			v, err := ep.Run(s, c, arg)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, v)
		})
	}
	e.GET(apiPrefix+"/openapi.json", s.handleOpenAPI)
	e.Any(apiPrefix+"/*", func(c echo.Context) error {
		setRoute(c, apiPrefix+"/*", kindJSON)
		if allow := allowedMethods(c.Request().URL.Path); allow != "" {
			c.Response().Header().Set("Allow", allow)
			return echo.NewHTTPError(http.StatusMethodNotAllowed, "api: method "+c.Request().Method+" not allowed; use "+allow)
		}
		return echo.NewHTTPError(http.StatusNotFound, "api: no such endpoint; see "+apiPrefix+"/openapi.json")
	})
	e.GET("/metrics", s.handleMetrics)
	s.pageRoutes(e)
	s.loreRoutes(e)
}

// tail returns the percent-decoded rest of the request path after
// prefix (which must match the escaped path).
func tail(r *http.Request, prefix string) (string, error) {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, prefix) {
		return "", errNotFound
	}
	v, err := url.PathUnescape(strings.TrimSuffix(p[len(prefix):], "/"))
	if err != nil || v == "" {
		return "", badRequest("bad or empty Message-ID in path")
	}
	return v, nil
}

// intParam reads an integer query parameter (def when absent).
func intParam(c echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest(name + " must be a non-negative integer")
	}
	return n, nil
}

// boolParam reads a boolean query parameter: 1/true/yes/on.
func boolParam(c echo.Context, name string) bool {
	switch strings.ToLower(c.QueryParam(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// searchPage runs one page of a search for the API and the pages.
func (s *Server) searchPage(ctx context.Context, q string, o *search.SearchOptions) (*SearchPage, error) {
	if s.ix == nil {
		return nil, errNoIndex
	}
	if strings.TrimSpace(q) == "" {
		return nil, badRequest("empty query (q=)")
	}
	if o.Limit <= 0 {
		o.Limit = search.DefaultLimit
	}
	o.Limit = min(o.Limit, s.o.MaxLimit)
	if o.Sort == "" {
		o.Sort = search.SortDate
	}
	start := time.Now()
	var res *search.Result
	var err error
	if o.Offset > deepOffset {
		res, err = s.deepPage(ctx, q, o)
	} else {
		res, err = s.ix.Search(ctx, q, o)
	}
	if err != nil {
		return nil, err
	}
	hits := Hits(res.Hits)
	if err := LinkHits(ctx, s.st, hits); err != nil {
		return nil, err
	}
	return &SearchPage{Query: q, Total: res.Total, TotalApprox: res.TotalApprox, Offset: o.Offset, Limit: o.Limit, Sort: o.Sort,
		Threads: o.Threads, List: o.List, Hits: hits, Took: Seconds(time.Since(start)),
		NotIndexed: s.notIndexed(ctx)}, nil
}

// deepOffset is the deepest offset a page is searched at directly
// (search.MaxOffset); deeper pages are read by deepPage.
var deepOffset = search.MaxOffset

// errPageFull ends the Iterate of deepPage.
var errPageFull = errors.New("api: page full")

// deepPage is a page deeper than the index searches at once: the hits
// are read in order up to the page (Iterate pages through the index with
// a sort-key cursor, so the cost grows with the offset but nothing is
// held but the page), and the total is counted apart. No offset is
// refused: the request deadline bounds the walk.
func (s *Server) deepPage(ctx context.Context, q string, o *search.SearchOptions) (*search.Result, error) {
	count, err := s.ix.Search(ctx, q, &search.SearchOptions{Limit: 1, Sort: o.Sort, Threads: o.Threads, List: o.List})
	if err != nil {
		return nil, err
	}
	res := &search.Result{Total: count.Total, TotalApprox: count.TotalApprox}
	if !o.Threads && uint64(o.Offset) >= count.Total {
		return res, nil
	}
	err = s.ix.Iterate(ctx, q, o, func(h search.Hit) error {
		res.Hits = append(res.Hits, h)
		if len(res.Hits) == o.Limit {
			return errPageFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, err
	}
	return res, nil
}

func (s *Server) apiSearch(c echo.Context, _ string) (any, error) {
	limit, err := intParam(c, "limit", search.DefaultLimit)
	if err != nil {
		return nil, err
	}
	offset, err := intParam(c, "offset", 0)
	if err != nil {
		return nil, err
	}
	o := &search.SearchOptions{Limit: limit, Offset: offset, Sort: c.QueryParam("sort"),
		Threads: boolParam(c, "threads"), List: c.QueryParam("list")}
	p, err := s.searchPage(c.Request().Context(), c.QueryParam("q"), o)
	if err != nil {
		return nil, err
	}
	more := uint64(p.Offset+len(p.Hits)) < p.Total
	if p.Threads {
		more = len(p.Hits) == p.Limit
	}
	if more {
		qs := c.QueryParams()
		qs.Set("offset", strconv.Itoa(p.Offset+p.Limit))
		qs.Set("limit", strconv.Itoa(p.Limit))
		p.Next = apiPrefix + "/search?" + qs.Encode()
	}
	return p, nil
}

func (s *Server) apiMessage(c echo.Context, mid string) (any, error) {
	return LoadMessageDetail(c.Request().Context(), s.st, mid)
}

func (s *Server) apiThread(c echo.Context, mid string) (any, error) {
	tv, err := s.threadView(c.Request().Context(), mid)
	if err != nil {
		return nil, err
	}
	return threadOf(tv), nil
}

func (s *Server) apiSeries(c echo.Context, mid string) (any, error) {
	return LoadSeries(c.Request().Context(), s.st, mid)
}

func (s *Server) apiCommit(c echo.Context, sha string) (any, error) {
	return LoadCommit(c.Request().Context(), s.st, sha)
}

func (s *Server) apiTrace(c echo.Context, id string) (any, error) {
	return LoadTrace(c.Request().Context(), s.st, id)
}

func (s *Server) apiRepos(c echo.Context, _ string) (any, error) {
	rs, err := LoadRepos(c.Request().Context(), s.st)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		rs = []RepoInfo{}
	}
	return &ReposPage{Repos: rs}, nil
}

func (s *Server) apiLists(c echo.Context, _ string) (any, error) {
	ls, err := s.knownLists(c.Request().Context())
	if err != nil {
		return nil, err
	}
	out := &ListsPage{Lists: []ListInfo{}}
	for _, l := range ls {
		out.Lists = append(out.Lists, ListInfo{Name: l.Name, ListID: l.ListID, Messages: l.Messages, URL: "/" + url.PathEscape(l.Name) + "/"})
	}
	return out, nil
}

func (s *Server) apiStats(c echo.Context, _ string) (any, error) {
	p, err := s.stats(c.Request().Context())
	if err != nil {
		return nil, err
	}
	// The counts are cached; whether the index is complete is not.
	fresh := *p
	fresh.NotIndexed = s.notIndexed(c.Request().Context())
	return &fresh, nil
}

// stats counts the archive. The counts scan tables (seconds on a big
// archive), so they are cached: a stale answer is served while one
// goroutine recounts in the background.
func (s *Server) stats(ctx context.Context) (*StatsPage, error) {
	s.mu.Lock()
	cached, at := s.statsCache, s.statsTime
	refresh := cached != nil && time.Since(at) >= statsTTL && !s.statsBusy
	if refresh {
		s.statsBusy = true
	}
	s.mu.Unlock()
	if cached != nil {
		if refresh {
			s.bg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if _, err := s.countStats(ctx); err != nil {
					s.log.Warn("counting stats", "err", err)
				}
			})
		}
		return cached, nil
	}
	return s.countStats(ctx)
}

func (s *Server) countStats(ctx context.Context) (*StatsPage, error) {
	defer func() {
		s.mu.Lock()
		s.statsBusy = false
		s.mu.Unlock()
	}()
	st, err := s.st.Stats(ctx)
	if err != nil {
		return nil, err
	}
	pc, err := s.st.PatchCounts(ctx)
	if err != nil {
		return nil, err
	}
	p := &StatsPage{Store: st, Patches: pc}
	if s.ix != nil {
		if n, err := s.ix.DocCount(); err == nil {
			p.IndexDocuments, p.Search = n, true
		}
	}
	s.mu.Lock()
	s.statsCache, s.statsTime = p, time.Now()
	s.mu.Unlock()
	return p, nil
}

const statsTTL = 30 * time.Second

// allowedMethods returns the methods an API path answers ("GET, HEAD"),
// "" when no endpoint has that path.
func allowedMethods(path string) string {
	rest, ok := strings.CutPrefix(path, apiPrefix)
	if !ok {
		return ""
	}
	if rest == "/openapi.json" {
		return "GET, HEAD"
	}
	for _, ep := range endpoints {
		p := ep.Path
		if i := strings.IndexByte(p, '{'); i >= 0 {
			if strings.HasPrefix(rest, p[:i]) && len(rest) > i {
				return ep.Method + ", HEAD"
			}
		} else if rest == p {
			return ep.Method + ", HEAD"
		}
	}
	return ""
}
