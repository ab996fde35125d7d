package api

import (
	"bytes"
	"container/list"
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// The thread cache keeps recent answers of the thread endpoints (the
// thread page, t.mbox.gz and /api/v1/thread), which cost the most: every
// message of the thread is read, and for the page and the mbox parsed or
// compressed. An answer is valid while the store holds no newer message
// (a new message is the only thing that changes a thread), and for at
// most threadCacheTTL; lore puts a cache in front of public-inbox-httpd
// for the same reason.
type threadCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   *list.List
}

type threadEntry struct {
	key    string
	gen    int64
	stored time.Time
	status int
	header http.Header
	body   []byte
}

const (
	threadCacheEntries = 256
	threadCacheTTL     = time.Minute
	threadCacheMaxBody = 4 << 20
)

func newThreadCache() *threadCache {
	return &threadCache{max: threadCacheEntries, entries: map[string]*list.Element{}, order: list.New()}
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

func (tc *threadCache) get(key string, gen int64) *threadEntry {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	el, ok := tc.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*threadEntry)
	if e.gen != gen || time.Since(e.stored) > threadCacheTTL {
		tc.order.Remove(el)
		delete(tc.entries, key)
		return nil
	}
	tc.order.MoveToFront(el)
	return e
}

func (tc *threadCache) put(e *threadEntry) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if el, ok := tc.entries[e.key]; ok {
		tc.order.Remove(el)
	}
	tc.entries[e.key] = tc.order.PushFront(e)
	for tc.order.Len() > tc.max {
		old := tc.order.Back()
		tc.order.Remove(old)
		delete(tc.entries, old.Value.(*threadEntry).key)
	}
}

// captureWriter passes a response through and keeps a copy of it.
type captureWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
	over   bool
}

func (w *captureWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if !w.over {
		if w.buf.Len()+len(b) > threadCacheMaxBody {
			w.over = true
			w.buf = bytes.Buffer{}
		} else {
			w.buf.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cacheThreads answers thread requests from the cache when the store has
// not changed since, and keeps successful answers.
func (s *Server) cacheThreads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !cacheable(req) {
			return next(c)
		}
		gen, err := s.st.Generation(req.Context())
		if err != nil {
			return next(c)
		}
		key := req.URL.RequestURI()
		if e := s.threads.get(key, gen); e != nil {
			setRoute(c, "cached thread", kindText)
			h := c.Response().Header()
			for k, v := range e.header {
				h[k] = v
			}
			c.Response().WriteHeader(e.status)
			_, err := c.Response().Write(e.body)
			return err
		}
		cw := &captureWriter{ResponseWriter: c.Response().Writer, status: http.StatusOK}
		c.Response().Writer = cw
		err = next(c)
		c.Response().Writer = cw.ResponseWriter
		if err == nil && cw.status == http.StatusOK && !cw.over && context.Cause(req.Context()) == nil {
			s.threads.put(&threadEntry{key: key, gen: gen, stored: time.Now(), status: cw.status,
				header: c.Response().Header().Clone(), body: bytes.Clone(cw.buf.Bytes())})
		}
		return err
	}
}
