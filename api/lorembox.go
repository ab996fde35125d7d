package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

// mboxWriter streams messages as gzipped mboxrd the way
// public-inbox-httpd does: Content-Type application/gzip, no
// Content-Encoding (clients gunzip the body themselves). Headers are
// sent with the first message, so an empty result can still be a 404.
// Each message is compressed once and kept in the server's piece cache
// (gzjoin.go).
type mboxWriter struct {
	c        echo.Context
	s        *Server
	filename string
	gz       *gzJoin
	seen     map[int64]bool
	n        int
}

func (s *Server) newMboxWriter(c echo.Context, filename string) *mboxWriter {
	return &mboxWriter{c: c, s: s, filename: filename, seen: map[int64]bool{}}
}

// add writes message row id, once.
func (w *mboxWriter) add(ctx context.Context, id int64) error {
	if w.seen[id] {
		return nil
	}
	w.seen[id] = true
	p, ok := w.s.pieces.Get(id)
	if !ok {
		raw, err := w.s.st.Raw(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := mbox.WriteMboxrd(&b, raw); err != nil {
			return err
		}
		p = compressPiece(b.Bytes())
		w.s.pieces.Put(id, p)
	}
	if w.gz == nil {
		h := w.c.Response().Header()
		h.Set(echo.HeaderContentType, "application/gzip")
		h.Set(echo.HeaderContentDisposition, "inline; filename="+w.filename+".mbox.gz")
		w.c.Response().WriteHeader(http.StatusOK)
		w.gz = &gzJoin{w: w.c.Response()}
	}
	w.n++
	return w.gz.add(p)
}

// finish ends the stream, or answers 404 "No results found" when nothing
// was written.
func (w *mboxWriter) finish() error {
	if w.gz == nil {
		return w.c.String(http.StatusNotFound, "No results found\n")
	}
	return w.gz.close()
}

// toFilename is public-inbox's Hval::to_filename: the first line with
// runs of anything but [A-Za-z0-9_.] turned into '-', dots squeezed and
// leading/trailing dots and dashes dropped.
func toFilename(s, def string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = nonFilename.ReplaceAllString(s, "-")
	s = manyDots.ReplaceAllString(s, ".")
	s = strings.Trim(s, ".-")
	if s == "" {
		return def
	}
	return s
}

var (
	nonFilename = regexp.MustCompile(`[^A-Za-z0-9_.]+`)
	manyDots    = regexp.MustCompile(`\.{2,}`)
)

// threadIDs returns the row ids of the thread of message m as the lore
// endpoints expand it: the strict thread (strict, its messages in date
// order, loaded when nil) plus the messages with the same normalised
// subject (as the thread's first message and as m itself), in arrival
// order, at most max.
func threadIDs(ctx context.Context, st *store.Store, m *store.Message, strict []*store.Message, max int) ([]int64, error) {
	if strict == nil {
		var err error
		if strict, err = st.ThreadMessages(ctx, m.Thread); err != nil {
			return nil, err
		}
	}
	seen := map[int64]bool{}
	var ids []int64
	addAll := func(ms []*store.Message) {
		for _, x := range ms {
			if !seen[x.ID] {
				seen[x.ID] = true
				ids = append(ids, x.ID)
			}
		}
	}
	addAll(strict)
	norms := []string{m.NormSubject}
	if root := threadRoot(strict); root != nil && root.NormSubject != m.NormSubject {
		norms = append(norms, root.NormSubject)
	}
	for _, norm := range norms {
		more, err := st.SameSubject(ctx, norm, m.Thread, max)
		if err != nil {
			return nil, err
		}
		addAll(more)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > max {
		ids = ids[:max]
	}
	return ids, nil
}

// threadRoot is the oldest message of a thread (in date order) that
// replies to nothing, else the oldest.
func threadRoot(ms []*store.Message) *store.Message {
	for _, x := range ms {
		if x.Parent == "" {
			return x
		}
	}
	if len(ms) > 0 {
		return ms[0]
	}
	return nil
}

// threadMbox answers GET /LIST/MSGID/t.mbox.gz.
func (s *Server) threadMbox(c echo.Context, list, mid string) error {
	setRoute(c, "/LIST/MSGID/t.mbox.gz", kindText)
	ctx := c.Request().Context()
	tv, err := s.threadView(ctx, mid)
	if err != nil {
		return err
	}
	ids, err := threadIDs(ctx, s.st, tv.Message, tv.Messages, s.o.MaxThreadMessages)
	if err != nil {
		return err
	}
	first, err := s.st.MessageRow(ctx, ids[0])
	if err != nil {
		return err
	}
	w := s.newMboxWriter(c, toFilename(first.Subject, "no-subject"))
	for _, id := range ids {
		if err := w.add(ctx, id); err != nil {
			return err
		}
	}
	return w.finish()
}

// loreSearch answers POST /LIST/?x=m&q=Q[&t=1] and, with mid,
// POST /LIST/MSGID/?x=m&q=Q (the search restricted to that thread): all
// results newest first as gzipped mboxrd, with whole threads when t is
// set or the body starts "x=" followed by anything but '0'. Without x=m
// it shows the search page, as public-inbox does.
func (s *Server) loreSearch(c echo.Context, list, mid string) error {
	route := "/LIST/?x=m"
	if mid != "" {
		route = "/LIST/MSGID/?x=m"
	}
	setRoute(c, route, kindText)
	req := c.Request()
	ctx := req.Context()
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	qp := loreQuery(req.URL.RawQuery)
	q, hasQ := qp["q"]
	if !hasQ {
		return echo.NewHTTPError(http.StatusNotFound, "api: POST needs q= in the query string")
	}
	if qp["x"] != "m" {
		return s.pageSearch(c, list, qp)
	}
	if strings.TrimSpace(q) == "" {
		return badRequest("empty query (q=)")
	}
	if s.ix == nil {
		return errNoIndex
	}
	threads := loreFlag(qp, "t") || (len(body) >= 3 && strings.HasPrefix(string(body), "x=") && body[2] != '0')
	o := &search.SearchOptions{List: searchList(list), Threads: threads, MessagesOnly: true}
	if mid != "" {
		m, err := s.st.MessageByID(ctx, mid)
		if err != nil {
			return err
		}
		o.ThreadID = strconv.FormatInt(m.Thread, 10)
	}
	name := "results-" + q
	if threads {
		name = "results-thread-" + q
	}
	w := s.newMboxWriter(c, toFilename(name, "results"))
	err = s.ix.Iterate(ctx, q, o, func(h search.Hit) error {
		id, err := s.st.Resolve(ctx, h.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // indexed but since removed
		}
		if err != nil {
			return err
		}
		if !threads {
			return w.add(ctx, id)
		}
		m, err := s.st.MessageRow(ctx, id)
		if err != nil {
			return err
		}
		ids, err := threadIDs(ctx, s.st, m, nil, s.o.MaxThreadMessages)
		if err != nil {
			return err
		}
		for _, tid := range ids {
			if err := w.add(ctx, tid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.finish()
}

var rePrefix = regexp.MustCompile(`(?i)^re:\s+`)

var charsetRE = regexp.MustCompile(`(?im)^Content-Type:[^\n]*?;\s*charset="?([^";\s]+)`)

// rawMessage answers GET /LIST/MSGID/raw: the message as public-inbox's
// mboxrd text, text/plain in the message's own charset.
func (s *Server) rawMessage(c echo.Context, list, mid string) error {
	setRoute(c, "/LIST/MSGID/raw", kindText)
	ctx := c.Request().Context()
	m, err := s.st.MessageRowByID(ctx, mid)
	if err != nil {
		return err
	}
	raw, err := s.st.Raw(ctx, m.ID)
	if err != nil {
		return err
	}
	hdr := mbox.HeaderBlock(raw)
	cs := "UTF-8"
	if mm := charsetRE.FindSubmatch(hdr); mm != nil && validCharset(string(mm[1])) {
		cs = string(mm[1])
	}
	subj := rePrefix.ReplaceAllString(m.Subject, "")
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/plain; charset="+cs)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("inline; filename=%s.txt", toFilename(subj, "no-subject")))
	c.Response().WriteHeader(http.StatusOK)
	return mbox.WriteMboxrd(c.Response(), raw)
}

// validCharset keeps header injection out of Content-Type, as
// public-inbox does.
func validCharset(cs string) bool {
	for _, r := range cs {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return cs != ""
}
