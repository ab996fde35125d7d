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

// loadThread is LoadThread through the view cache.
func (s *Server) loadThread(ctx context.Context, mid string) (*Thread, *thread.View, error) {
	if s.views == nil {
		return LoadThread(ctx, s.st, mid)
	}
	// The generation is read first: a message stored while the view
	// loads leaves an entry of the older generation, loaded again next.
	gen, err := s.st.Generation(ctx)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.st.MessageRowByID(ctx, mid)
	if err != nil {
		return nil, nil, err
	}
	if e, ok := s.views.Get(m.Thread); ok && e.gen == gen {
		v := *e.v
		v.Message = m
		return threadOf(&v), &v, nil
	}
	tv, err := thread.Load(ctx, s.st, m.ID, sameSubjectLimit)
	if err != nil {
		return nil, nil, err
	}
	s.views.Put(tv.ID, viewEntry{gen: gen, v: tv})
	return threadOf(tv), tv, nil
}
