package api

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/lru"
)

// The answer cache keeps recent whole answers of the routes that read the
// store only (cachedRoutes): thread answers (the thread page, t.mbox.gz,
// /api/v1/thread), which read every message of a thread; messages (page,
// raw, /api/v1/message); series (page, /api/v1/series); list feeds
// (new.atom); commits and traces. An answer is valid while the store files
// are unchanged (storeStamp: any write by any process, a new message, a
// link, a CVE, a radar score, changes them) and for at most answerCacheTTL;
// lore puts a cache in front of public-inbox-httpd for the same reason.
// Searches are not kept here (their results have their own cache in the
// index). The cache is bounded by the bytes it holds.
type threadCache = lru.Cache[string, *threadEntry]

type threadEntry struct {
	stamp  storeStamp
	route  string
	status int
	header http.Header
	body   []byte
}

const (
	// answerCacheTTL bounds the life of an answer whose store files did
	// not change (a write within the file systems' timestamp granularity
	// that leaves the WAL's size as it was would otherwise go unseen).
	answerCacheTTL = 30 * time.Minute
	// threadCacheMaxBody is the largest answer kept; a larger one is
	// streamed and not cached.
	threadCacheMaxBody = 4 << 20
)

// cachedRoutes are the routes whose successful GET answers are kept.
var cachedRoutes = map[string]bool{
	"/LIST/MSGID/t/": true, "/LIST/MSGID/t.mbox.gz": true, apiPrefix + "/thread/{mid}": true,
	"/LIST/MSGID/": true, "/LIST/MSGID/raw": true, apiPrefix + "/message/{mid}": true,
	"/LIST/MSGID/series/": true, apiPrefix + "/series/{mid}": true,
	"/LIST/new.atom":            true,
	apiPrefix + "/commit/{sha}": true, apiPrefix + "/trace/{id}": true, apiPrefix + "/cve/{id}": true,
}

// newThreadCache makes a cache of maxBytes; nil (off) when maxBytes < 0.
func newThreadCache(maxBytes int64) *threadCache {
	return lru.New(maxBytes, answerCacheTTL, func(k string, e *threadEntry) int64 { return int64(len(k) + len(e.body) + 512) })
}

// cacheable reports whether the request may have a cached answer: a GET
// without a query string (searches, feeds of searches and downloads of
// search results all have one). Whether its answer is kept depends on the
// route the handler names (cachedRoutes).
func cacheable(r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.RawQuery != "" {
		return false
	}
	p := r.URL.EscapedPath()
	return p != "/" && p != "/metrics" && (!strings.HasPrefix(p, apiPrefix+"/") ||
		strings.HasPrefix(p, apiPrefix+"/thread/") || strings.HasPrefix(p, apiPrefix+"/message/") ||
		strings.HasPrefix(p, apiPrefix+"/series/") || strings.HasPrefix(p, apiPrefix+"/commit/") ||
		strings.HasPrefix(p, apiPrefix+"/trace/") || strings.HasPrefix(p, apiPrefix+"/cve/"))
}

// captureWriter holds a response back, up to threadCacheMaxBody, so that
// it can be kept and goes out in one write; a larger one is passed
// through from there on.
type captureWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	buf         bytes.Buffer
	over        bool
}

func (w *captureWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	if !w.over && w.buf.Len()+len(b) <= threadCacheMaxBody {
		return w.buf.Write(b)
	}
	if !w.over {
		w.over = true
		w.ResponseWriter.WriteHeader(w.status)
		if _, err := w.ResponseWriter.Write(w.buf.Bytes()); err != nil {
			return 0, err
		}
		w.buf = bytes.Buffer{}
	}
	return w.ResponseWriter.Write(b)
}

// flush sends what is held back, with its length.
func (w *captureWriter) flush() error {
	if w.over {
		return nil
	}
	w.ResponseWriter.Header().Set("Content-Length", strconv.Itoa(w.buf.Len()))
	w.ResponseWriter.WriteHeader(w.status)
	_, err := w.ResponseWriter.Write(w.buf.Bytes())
	return err
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cacheThreads answers requests from the answer cache when the store has
// not changed since, and keeps successful answers of cachedRoutes.
func (s *Server) cacheThreads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if s.threads == nil || !cacheable(req) {
			return next(c)
		}
		// The stamp is read first: a write while the answer is built
		// leaves an entry of the older stamp, built again next time.
		stamp, ok := s.storeStamp()
		if !ok {
			return next(c)
		}
		key := req.URL.RequestURI()
		if e, ok := s.threads.Get(key); ok && e.stamp == stamp {
			setRoute(c, e.route+" (cached)", kindText)
			h := c.Response().Header()
			for k, v := range e.header {
				h[k] = v
			}
			h.Set("Content-Length", strconv.Itoa(len(e.body)))
			c.Response().WriteHeader(e.status)
			_, err := c.Response().Write(e.body)
			return err
		}
		cw := &captureWriter{ResponseWriter: c.Response().Writer, status: http.StatusOK}
		c.Response().Writer = cw
		err := next(c)
		c.Response().Writer = cw.ResponseWriter
		if err != nil && !cw.over {
			// Nothing went out: the error handler answers instead of a
			// truncated body that would look whole.
			res := c.Response()
			res.Committed, res.Size = false, 0
			for _, k := range []string{"Content-Disposition", "Content-Length", "Content-Type", "Content-Encoding"} {
				res.Header().Del(k)
			}
			return err
		}
		if ferr := cw.flush(); err == nil {
			err = ferr
		}
		route := routeOf(c)
		if err == nil && cw.status == http.StatusOK && !cw.over && cachedRoutes[route] && context.Cause(req.Context()) == nil {
			s.threads.Put(key, &threadEntry{stamp: stamp, route: route, status: cw.status,
				header: c.Response().Header().Clone(), body: cw.buf.Bytes()})
		}
		return err
	}
}
