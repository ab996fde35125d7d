package api

import (
	"bytes"
	"context"
	"fmt"
	"html/template"

	"patchtrail/internal/lru"
	"patchtrail/internal/message"
)

// renderedBody is the HTML of a message body as the thread page shows it.
type renderedBody struct {
	HTML template.HTML
	Cut  bool // the body was longer than maxRenderLines
}

// bodyCache keeps rendered bodies by message row id. A stored message
// never changes, so an entry is right until it is evicted; one message
// shows on the thread page of every message of its thread, and parsing
// and rendering it is most of what that page costs.
type bodyCache = lru.Cache[int64, renderedBody]

func newBodyCache(maxBytes int64) *bodyCache {
	return lru.New(maxBytes, 0, func(_ int64, b renderedBody) int64 { return int64(len(b.HTML)) + 64 })
}

// body returns the rendered body of the message with row id (Message-ID
// mid, for errors).
func (s *Server) body(ctx context.Context, id int64, mid string) (renderedBody, error) {
	if b, ok := s.bodies.Get(id); ok {
		return b, nil
	}
	raw, err := s.st.Raw(ctx, id)
	if err != nil {
		return renderedBody{}, err
	}
	pm, err := message.Parse(raw, nil)
	if err != nil {
		return renderedBody{}, fmt.Errorf("api: stored message %s no longer parses: %w", mid, err)
	}
	blocks, cut := renderBody(pm.Text)
	var b bytes.Buffer
	if err := s.pages.t["thread"].ExecuteTemplate(&b, "body", blocks); err != nil {
		return renderedBody{}, fmt.Errorf("api: render body of %s: %w", mid, err)
	}
	rb := renderedBody{HTML: template.HTML(b.String()), Cut: cut}
	s.bodies.Put(id, rb)
	return rb, nil
}
