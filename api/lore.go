package api

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// The lore / public-inbox URL space (REFERENCE §5), for every list name
// and for "all":
//
//	/LIST/                       search page (GET), lore search (POST)
//	/LIST/?q=Q&x=A               Atom feed of the results
//	/LIST/new.atom               Atom feed of the newest messages
//	/LIST/_/text/help/           search syntax help
//	/LIST/MSGID/                 message page (GET), search in its thread (POST)
//	/LIST/MSGID/raw              the message as mboxrd text
//	/LIST/MSGID/t.mbox.gz        the whole thread as gzipped mboxrd
//	/LIST/MSGID/t/, /T/          thread page
//	/LIST/MSGID/series/          series page
//	/MSGID/, /MSGID              302 to /LIST/MSGID/
//	/manifest.js.gz              grokmirror-style manifest
//
// Message-IDs arrive percent-encoded and may contain '/', so these paths
// are split here rather than by echo's router.

func (s *Server) loreRoutes(e *echo.Echo) {
	e.Match([]string{http.MethodGet, http.MethodHead}, "/manifest.js.gz", s.handleManifest)
	e.Any("/*", s.dispatchLore)
}

// loreQuery parses a query string the way public-inbox does: pairs split
// on '&' or ';', '+' is a space, the last of a repeated key wins and
// undecodable escapes are kept as typed.
func loreQuery(raw string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		k, v = strings.ReplaceAll(k, "+", " "), strings.ReplaceAll(v, "+", " ")
		if d, err := url.QueryUnescape(v); err == nil {
			v = d
		}
		out[k] = v
	}
	return out
}

// loreFlag is public-inbox's test for t= and r=: present and not "0".
func loreFlag(qp map[string]string, k string) bool {
	v, ok := qp[k]
	return ok && v != "0"
}

// msgSuffixes are the endings of /LIST/MSGID/... paths, longest first.
var msgSuffixes = []string{"/t.mbox.gz", "/series/", "/raw", "/t/", "/T/", "/"}

func (s *Server) dispatchLore(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		setRoute(c, "/*", kindText)
		return echo.ErrMethodNotAllowed
	}
	p := req.URL.EscapedPath()
	if p == "/" {
		return s.pageHome(c)
	}
	first, rest, slash := strings.Cut(p[1:], "/")
	list, err := url.PathUnescape(first)
	if err != nil || list == "" || first == ".." || first == "." {
		setRoute(c, "/*", kindText)
		return errNotFound
	}
	ok, err := s.isList(ctx, list)
	if err != nil {
		return err
	}
	if !ok {
		// /MSGID/ and /MSGID: find the message's list.
		if rest == "" {
			return s.redirectMID(c, list)
		}
		setRoute(c, "/*", kindText)
		return echo.NewHTTPError(http.StatusNotFound, "api: no list "+list+"; see /api/v1/lists")
	}
	if !slash {
		setRoute(c, "/LIST", kindText)
		return c.Redirect(http.StatusMovedPermanently, s.baseURL(req)+"/"+first+"/"+query(req))
	}
	switch {
	case rest == "" || rest == "index.html":
		if req.Method == http.MethodPost {
			return s.loreSearch(c, list, "")
		}
		qp := loreQuery(req.URL.RawQuery)
		if qp["x"] == "A" && strings.TrimSpace(qp["q"]) != "" {
			return s.atomSearch(c, list, qp)
		}
		return s.pageSearch(c, list, qp)
	case rest == "new.atom" || rest == "atom.xml":
		return s.atomNew(c, list)
	case rest == "_/text/help/" || rest == "_/text/help/raw":
		return s.pageHelp(c, list, strings.HasSuffix(rest, "/raw"))
	case rest == "_/text/help" || rest == "_/text/" || rest == "_/text":
		setRoute(c, "/LIST/_/text/help/", kindText)
		return c.Redirect(http.StatusFound, s.baseURL(req)+"/"+first+"/_/text/help/")
	}
	for _, suf := range msgSuffixes {
		if !strings.HasSuffix(rest, suf) || len(rest) == len(suf) {
			continue
		}
		mid, err := url.PathUnescape(rest[:len(rest)-len(suf)])
		if err != nil || mid == "" {
			setRoute(c, "/LIST/MSGID/", kindText)
			return badRequest("bad percent-encoding in Message-ID")
		}
		mid = strings.TrimSuffix(strings.TrimPrefix(mid, "<"), ">")
		switch suf {
		case "/t.mbox.gz":
			return s.threadMbox(c, list, mid)
		case "/raw":
			return s.rawMessage(c, list, mid)
		case "/t/", "/T/":
			return s.pageThread(c, list, mid)
		case "/series/":
			return s.pageSeries(c, list, mid)
		default:
			if req.Method == http.MethodPost {
				return s.loreSearch(c, list, mid)
			}
			return s.pageMessage(c, list, mid)
		}
	}
	// /LIST/MSGID without the slash.
	setRoute(c, "/LIST/MSGID", kindText)
	if strings.Contains(rest, "/") || req.Method != http.MethodGet && req.Method != http.MethodHead {
		return errNotFound
	}
	// public-inbox writes '@' rather than %40; b4 0.12 takes the list from
	// this (absolute) Location.
	return c.Redirect(http.StatusMovedPermanently, s.baseURL(req)+"/"+first+"/"+strings.ReplaceAll(rest, "%40", "@")+"/"+query(req))
}

func query(req *http.Request) string {
	if req.URL.RawQuery == "" {
		return ""
	}
	return "?" + req.URL.RawQuery
}

// Redirects are absolute URLs, as public-inbox writes them.

// redirectMID answers /MSGID/ with a 302 to the message on its list; b4
// 0.12 follows it (as an absolute URL) to find the list.
func (s *Server) redirectMID(c echo.Context, mid string) error {
	setRoute(c, "/MSGID/", kindText)
	req := c.Request()
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return echo.ErrMethodNotAllowed
	}
	mid = strings.TrimSuffix(strings.TrimPrefix(mid, "<"), ">")
	m, err := s.st.MessageByID(req.Context(), mid)
	if err != nil {
		return err
	}
	list := allLists
	if len(m.Lists) > 0 {
		list = m.Lists[0]
	}
	return c.Redirect(http.StatusFound, s.baseURL(req)+"/"+url.PathEscape(list)+"/"+escapeMID(m.MessageID)+"/")
}

// baseURL is the configured URL of the site (Options.BaseURL) without a
// trailing slash, or else the local address the request came in on;
// never the request's Host header, which the client writes.
func (s *Server) baseURL(req *http.Request) string {
	if s.siteURL != "" {
		return s.siteURL
	}
	addr, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return ""
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + addr.String()
}
