package api

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/lru"
)

// latencyBuckets are the upper bounds, in seconds, of the request
// duration histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120}

// metrics holds the counters exported at /metrics in the Prometheus text
// exposition format (version 0.0.4), written by hand.
type metrics struct {
	start    time.Time
	inflight atomic.Int64

	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram
}

type reqKey struct {
	method, route string
	status        int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{start: time.Now(), requests: map[reqKey]uint64{}, latency: map[string]*histogram{}}
}

// knownMethods keeps the method label bounded.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "OPTIONS": true, "PATCH": true}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{method, route, status}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[route] = h
	}
	sec := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, sec)
	h.counts[i]++
	h.sum += sec
	h.n++
}

// write writes the exposition.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.status < b.status
	})
	fmt.Fprintf(w, "# HELP patchtrail_http_requests_total HTTP requests by method, route and status.\n")
	fmt.Fprintf(w, "# TYPE patchtrail_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(w, "patchtrail_http_requests_total{method=%s,route=%s,status=\"%d\"} %d\n",
			quoteLabel(k.method), quoteLabel(k.route), k.status, m.requests[k])
	}
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fmt.Fprintf(w, "# HELP patchtrail_http_request_duration_seconds HTTP request latency by route.\n")
	fmt.Fprintf(w, "# TYPE patchtrail_http_request_duration_seconds histogram\n")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "patchtrail_http_request_duration_seconds_bucket{route=%s,le=\"%s\"} %d\n", quoteLabel(r), strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "patchtrail_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", quoteLabel(r), h.n)
		fmt.Fprintf(w, "patchtrail_http_request_duration_seconds_sum{route=%s} %s\n", quoteLabel(r), strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "patchtrail_http_request_duration_seconds_count{route=%s} %d\n", quoteLabel(r), h.n)
	}
	m.mu.Unlock()
	fmt.Fprintf(w, "# HELP patchtrail_http_requests_in_flight HTTP requests being served.\n")
	fmt.Fprintf(w, "# TYPE patchtrail_http_requests_in_flight gauge\n")
	fmt.Fprintf(w, "patchtrail_http_requests_in_flight %d\n", m.inflight.Load())
	fmt.Fprintf(w, "# HELP patchtrail_go_goroutines Goroutines that currently exist.\n")
	fmt.Fprintf(w, "# TYPE patchtrail_go_goroutines gauge\n")
	fmt.Fprintf(w, "patchtrail_go_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "# HELP patchtrail_process_start_time_seconds Start time of the server since the Unix epoch.\n")
	fmt.Fprintf(w, "# TYPE patchtrail_process_start_time_seconds gauge\n")
	fmt.Fprintf(w, "patchtrail_process_start_time_seconds %d\n", m.start.Unix())
}

// quoteLabel quotes a label value as the exposition format wants.
func quoteLabel(v string) string {
	b := make([]byte, 0, len(v)+2)
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

func (s *Server) handleMetrics(c echo.Context) error {
	setRoute(c, "/metrics", kindText)
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	s.metrics.write(c.Response())
	writeCacheMetrics(c.Response(), map[string]lru.Stats{
		"answers": s.threads.Stats(), "feed_entries": s.feedEntries.Stats(), "thread_trees": s.views.Stats(), "bodies": s.bodies.Stats(), "gzip_messages": s.pieces.Stats()})
	return nil
}

// writeCacheMetrics writes the numbers of the answer caches.
func writeCacheMetrics(w io.Writer, caches map[string]lru.Stats) {
	names := make([]string, 0, len(caches))
	for n := range caches {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, m := range []struct {
		name, typ, help string
		val             func(lru.Stats) int64
	}{
		{"patchtrail_cache_bytes", "gauge", "Bytes held by each answer cache.", func(s lru.Stats) int64 { return s.Size }},
		{"patchtrail_cache_max_bytes", "gauge", "Bound of each answer cache in bytes.", func(s lru.Stats) int64 { return s.Max }},
		{"patchtrail_cache_entries", "gauge", "Entries of each answer cache.", func(s lru.Stats) int64 { return int64(s.Entries) }},
		{"patchtrail_cache_hits_total", "counter", "Lookups answered by each answer cache.", func(s lru.Stats) int64 { return s.Hits }},
		{"patchtrail_cache_misses_total", "counter", "Lookups each answer cache could not answer.", func(s lru.Stats) int64 { return s.Misses }},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ)
		for _, n := range names {
			fmt.Fprintf(w, "%s{cache=%s} %d\n", m.name, quoteLabel(n), m.val(caches[n]))
		}
	}
}
