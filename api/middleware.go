package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// routeKey is the echo.Context key under which handlers name the route
// they serve, for metrics and the access log (the lore endpoints share
// one catch-all echo route).
const routeKey = "patchtrail.route"

// kindKey is the echo.Context key of the response kind an error is
// rendered in: kindJSON, kindText or kindHTML.
const kindKey = "patchtrail.kind"

const (
	kindJSON = "json"
	kindText = "text"
	kindHTML = "html"
)

func setRoute(c echo.Context, route, kind string) {
	c.Set(routeKey, route)
	c.Set(kindKey, kind)
}

func routeOf(c echo.Context) string {
	if r, ok := c.Get(routeKey).(string); ok {
		return r
	}
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

// observe counts every request in the metrics and writes one access log
// line for it.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.metrics.inflight.Add(1)
		defer s.metrics.inflight.Add(-1)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		d := time.Since(start)
		route := routeOf(c)
		s.metrics.observe(req.Method, route, res.Status, d)
		path := req.URL.RequestURI()
		if len(path) > 512 {
			path = path[:512] + "…"
		}
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("method", req.Method), slog.String("path", path), slog.String("route", route),
			slog.Int("status", res.Status), slog.Int64("bytes", res.Size),
			slog.Duration("duration", d), slog.String("remote", req.RemoteAddr),
			slog.String("user_agent", req.UserAgent()))
		return nil
	}
}

// recoverPanic turns a panicking handler into a 500 and a logged stack.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("handler panic", "path", c.Request().URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("api: internal error: %v", r)
			}
		}()
		return next(c)
	}
}

// headBody answers HEAD like GET without the body.
func (s *Server) headBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodHead {
			c.Response().Writer = headWriter{c.Response().Writer}
		}
		return next(c)
	}
}

type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }

// Unwrap lets http.ResponseController reach the real writer.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errBodyTooLarge is a request body over Options.MaxBodyBytes.
type errBodyTooLarge struct{ limit int64 }

func (e errBodyTooLarge) Error() string {
	return fmt.Sprintf("api: request body larger than %d bytes", e.limit)
}

// errBadBody is a request body that could not be read: 408 when the
// client was too slow, 400 otherwise.
type errBadBody struct{ err error }

func (e errBadBody) Error() string { return "api: unreadable request body: " + e.err.Error() }
func (e errBadBody) Unwrap() error { return e.err }

func (e errBadBody) status() int {
	var ne net.Error
	if errors.Is(e.err, os.ErrDeadlineExceeded) || errors.As(e.err, &ne) && ne.Timeout() {
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// limitBody refuses bodies over MaxBodyBytes: at once when the length is
// announced, otherwise when a handler reads past the limit.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.o.MaxBodyBytes {
			return errBodyTooLarge{s.o.MaxBodyBytes}
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, s.o.MaxBodyBytes)
		}
		return next(c)
	}
}

// readBody reads the (limited) request body; a body over the limit is
// errBodyTooLarge.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, errBodyTooLarge{s.o.MaxBodyBytes}
		}
		// A malformed (chunked) body, one cut short or sent too slowly:
		// the client's fault.
		return nil, errBadBody{err}
	}
	return b, nil
}

// deadline gives every request a deadline: StreamTimeout for downloads
// (mbox and Atom), RequestTimeout for everything else.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		d := s.o.RequestTimeout
		if isDownload(req) {
			d = s.o.StreamTimeout
		}
		ctx, cancel := context.WithTimeout(req.Context(), d)
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

// isDownload reports whether req asks for a streamed download.
func isDownload(req *http.Request) bool {
	p := req.URL.Path
	if req.Method == http.MethodPost || strings.HasSuffix(p, "/t.mbox.gz") || strings.HasSuffix(p, "/new.atom") {
		return true
	}
	x := req.URL.Query().Get("x")
	return x == "m" || x == "A"
}

// contentSecurityPolicy fits the pages: no scripts at all, the layout's
// <style> block and the style attributes that indent threads, forms
// posting to this site only, no framing. /raw serves attacker-written
// text; with nosniff and this policy a browser neither guesses it is
// HTML nor runs anything in it.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secureHeaders sets the security headers of every answer.
func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}
