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

// The thread cache keeps recent answers of the thread endpoints (the
// thread page, t.mbox.gz and /api/v1/thread), which cost the most: every
// message of the thread is read, and for the page and the mbox rendered
// or compressed. An answer is valid while the store generation is the
// same (a new message, or one hidden by a deletion, changes it) and for at
// most threadCacheTTL; lore puts a cache in front of public-inbox-httpd
// for the same reason. The cache is bounded by the bytes it holds.
type threadCache = lru.Cache[string, *threadEntry]

type threadEntry struct {
	gen    int64
	status int
	header http.Header
	body   []byte
}

const (
	threadCacheTTL = time.Minute
	// threadCacheMaxBody is the largest answer kept; a larger one is
	// streamed and not cached.
	threadCacheMaxBody = 4 << 20
)

// newThreadCache makes a cache of maxBytes; nil (off) when maxBytes < 0.
func newThreadCache(maxBytes int64) *threadCache {
	return lru.New(maxBytes, threadCacheTTL, func(k string, e *threadEntry) int64 { return int64(len(k) + len(e.body)) })
}

// cacheable reports whether the request is for a thread answer.
func cacheable(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	p := r.URL.EscapedPath()
	return strings.HasSuffix(p, "/t/") || strings.HasSuffix(p, "/T/") || strings.HasSuffix(p, "/t.mbox.gz") ||
		strings.HasPrefix(p, apiPrefix+"/thread/")
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

// cacheThreads answers thread requests from the cache when the store has
// not changed since, and keeps successful answers.
func (s *Server) cacheThreads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if s.threads == nil || !cacheable(req) {
			return next(c)
		}
		gen, err := s.st.Generation(req.Context())
		if err != nil {
			return next(c)
		}
		key := req.URL.RequestURI()
		if e, ok := s.threads.Get(key); ok && e.gen == gen {
			setRoute(c, "cached thread", kindText)
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
		err = next(c)
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
		if err == nil && cw.status == http.StatusOK && !cw.over && context.Cause(req.Context()) == nil {
			s.threads.Put(key, &threadEntry{gen: gen, status: cw.status,
				header: c.Response().Header().Clone(), body: cw.buf.Bytes()})
		}
		return err
	}
}
