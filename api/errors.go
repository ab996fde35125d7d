package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/admit"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// badRequest is a client mistake other than a query syntax error.
type badRequest string

func (b badRequest) Error() string { return "api: " + string(b) }

// errNoIndex answers searches on a server started without an index.
var errNoIndex = errors.New("api: search index not available")

// errNotFound is a path that names nothing.
var errNotFound = fmt.Errorf("api: %w", store.ErrNotFound)

// statusOf maps an error to an HTTP status and the message shown to the
// client (internal errors are not shown). pos is the 1-based query
// column of a parse error, else 0.
func statusOf(err error) (status int, msg string, pos int) {
	var he *echo.HTTPError
	var pe *search.ParseError
	var br badRequest
	var big errBodyTooLarge
	var bad errBadBody
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.Code, fmt.Sprint(he.Message), 0
	case errors.As(err, &pe):
		return http.StatusBadRequest, pe.Error(), pe.Pos
	case search.IsQueryError(err):
		return http.StatusBadRequest, err.Error(), 0
	case errors.As(err, &br):
		return http.StatusBadRequest, br.Error(), 0
	case errors.Is(err, store.ErrAmbiguous):
		return http.StatusBadRequest, err.Error(), 0
	case errors.As(err, &big):
		return http.StatusRequestEntityTooLarge, big.Error(), 0
	case errors.As(err, &bad):
		return bad.status(), bad.Error(), 0
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("api: request body larger than %d bytes", mbe.Limit), 0
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNoSeries):
		return http.StatusNotFound, err.Error(), 0
	case errors.Is(err, admit.ErrBusy):
		return http.StatusServiceUnavailable, "api: too many expensive requests at once; retry in a few seconds", 0
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "api: the request took too long and was stopped; narrow the query", 0
	case errors.Is(err, context.Canceled):
		return 499, "api: request canceled", 0 // the client went away (nginx's code)
	case errors.Is(err, errNoIndex), errors.Is(err, search.ErrClosed):
		return http.StatusServiceUnavailable, errNoIndex.Error(), 0
	}
	return http.StatusInternalServerError, "api: internal error", 0
}

// ErrorBody is the JSON answer of a failed /api/v1 request.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	// Position is the 1-based column of a query syntax error.
	Position int `json:"position,omitempty"`
}

// handleError is echo's HTTPErrorHandler: the one place errors become
// status codes, as JSON under /api/v1, text for lore endpoints and HTML
// for pages.
func (s *Server) handleError(err error, c echo.Context) {
	status, msg, pos := statusOf(err)
	req := c.Request()
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", req.Method, "path", req.URL.Path, "err", err)
	} else if status == http.StatusServiceUnavailable {
		s.log.Warn("request unavailable", "method", req.Method, "path", req.URL.Path, "err", err)
	}
	if c.Response().Committed {
		// The response is streaming: nothing can be said any more; the
		// client sees a truncated body.
		return
	}
	if status == 499 {
		c.Response().Status = status
		return
	}
	h := c.Response().Header()
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	kind, _ := c.Get(kindKey).(string)
	switch {
	case strings.HasPrefix(req.URL.Path, "/api/"):
		kind = kindJSON
	case kind == "":
		kind = kindText
	}
	var werr error
	switch kind {
	case kindJSON:
		werr = c.JSON(status, ErrorBody{Error: ErrorDetail{Status: status, Message: msg, Position: pos}})
	case kindHTML:
		werr = s.renderError(c, status, msg, pos)
	default:
		werr = c.String(status, msg+"\n")
	}
	if werr != nil {
		s.log.Debug("writing error response", "err", werr)
	}
}
