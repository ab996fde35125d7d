package api

import (
	"context"
	"time"
)

// notIndexed is the number of stored messages the search index does not
// hold yet (the store's index queue: an interrupted reindex or import, or
// one running now), re-counted at most every notIndexedTTL. Errors count
// as 0: the notice is advice, not worth failing a search for.
func (s *Server) notIndexed(ctx context.Context) int64 {
	s.mu.Lock()
	if time.Since(s.queueTime) < notIndexedTTL {
		n := s.queueLen
		s.mu.Unlock()
		return n
	}
	s.mu.Unlock()
	n, err := s.st.QueueLen(ctx)
	if err != nil {
		s.log.Debug("counting the index queue", "err", err)
		return 0
	}
	s.mu.Lock()
	s.queueLen, s.queueTime = n, time.Now()
	s.mu.Unlock()
	return n
}

const notIndexedTTL = 2 * time.Second
