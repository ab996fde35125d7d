package api

import (
	"context"

	"patchtrail/internal/lru"
	"patchtrail/internal/thread"
)

// The view cache keeps loaded thread trees by thread id: every message
// of a thread has the same tree, and the thread page, t.mbox.gz and
// /api/v1/thread of any of them start from it. Loading one reads every
// message row and reference of the thread. An entry is valid while the
// store generation is the same.
type viewCache = lru.Cache[int64, viewEntry]

type viewEntry struct {
	gen int64
	v   *thread.View // shared: read, never changed
}

// viewCost estimates the memory of a view: its message rows and nodes.
func viewCost(_ int64, e viewEntry) int64 {
	return int64(len(e.v.Messages)+len(e.v.SameSubject))*512 + 256
}

func newViewCache(maxBytes int64) *viewCache {
	return lru.New(maxBytes, 0, viewCost)
}

// threadView loads the thread of the message named by mid through the
// view cache.
func (s *Server) threadView(ctx context.Context, mid string) (*thread.View, error) {
	// The generation is read first: a message stored while the view
	// loads leaves an entry of the older generation, loaded again next.
	var gen int64
	if s.views != nil {
		var err error
		if gen, err = s.st.Generation(ctx); err != nil {
			return nil, err
		}
	}
	m, err := s.st.MessageRowByID(ctx, mid)
	if err != nil {
		return nil, err
	}
	if e, ok := s.views.Get(m.Thread); ok && e.gen == gen {
		v := *e.v
		v.Message = m
		return &v, nil
	}
	tv, err := thread.Load(ctx, s.st, m, sameSubjectLimit)
	if err != nil {
		return nil, err
	}
	s.views.Put(tv.ID, viewEntry{gen: gen, v: tv})
	return tv, nil
}
