package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Admission control. Answers that read a whole thread, series or trace
// from the store, or stream many messages, cost far more than a message
// or a cached page; a flood of them must not take all memory and CPU from
// the rest. They run in a bounded pool: Options.MaxExpensive at once,
// Options.ExpensiveQueue more waiting (each until its deadline), and any
// further one is answered 503 with Retry-After at once. Answers from the
// thread cache never enter the pool (the middleware sits after
// cacheThreads). Searches are admitted by the search index by their cost
// (search/guard.go): light ones run at once, heavy ones (long phrases)
// in the index's own small pool.

// admit runs expensive requests in the admission pool.
func (s *Server) admit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !isExpensive(req) {
			return next(c)
		}
		if err := s.expensive.Acquire(req.Context()); err != nil {
			return err
		}
		defer s.expensive.Release()
		return next(c)
	}
}

// isExpensive reports whether req asks for an answer built from a whole
// thread, series or trace, or a download of many messages.
func isExpensive(req *http.Request) bool {
	p := req.URL.Path
	for _, prefix := range []string{apiPrefix + "/thread/", apiPrefix + "/series/", apiPrefix + "/trace/",
		apiPrefix + "/cve/", apiPrefix + "/commit/", "/_/trace/", "/_/commit/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	if strings.HasPrefix(p, apiPrefix+"/") || strings.HasPrefix(p, "/_/") {
		return false
	}
	// Lore paths: thread pages and downloads, mbox search results.
	if strings.HasSuffix(p, "/t.mbox.gz") || strings.HasSuffix(p, "/T/") || strings.HasSuffix(p, "/t/") {
		return true
	}
	return req.URL.Query().Get("x") == "m"
}
