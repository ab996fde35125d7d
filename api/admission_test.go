package api

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"patchtrail/search"
)

// TestAdmission fills the pool of expensive answers: the next one waits,
// the one after is answered 503 with Retry-After at once, cheap answers
// go on, and the waiting one is answered once a slot is free.
func TestAdmission(t *testing.T) {
	s, ts := newTestServer(t, &Options{MaxExpensive: 1, ExpensiveQueue: 1, CacheBytes: -1})
	mid := url.PathEscape("20240115090001.310034-1-alice@example.org")
	if err := s.expensive.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var queued *response
	wg.Add(1)
	go func() {
		defer wg.Done()
		queued = do(t, "GET", ts.URL+"/api/v1/thread/"+mid, "")
	}()
	for s.expensive.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, p := range []string{"/api/v1/series/" + mid, "/all/" + mid + "/t.mbox.gz", "/_/trace/" + mid, "/all/" + mid + "/T/"} {
		r := do(t, "GET", ts.URL+p, "")
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s with the pool and its queue full = %d (Retry-After %q), want 503 with Retry-After", p, r.Status, r.Header.Get("Retry-After"))
		}
	}
	for _, p := range []string{"/api/v1/message/" + mid, "/all/" + mid + "/raw", "/api/v1/stats", "/api/v1/search?q=s:tidy"} {
		if r := do(t, "GET", ts.URL+p, ""); r.Status != http.StatusOK {
			t.Errorf("GET %s with the pool full = %d %.200s, want 200", p, r.Status, r.Body)
		}
	}
	s.expensive.Release()
	wg.Wait()
	if queued.Status != http.StatusOK {
		t.Errorf("queued thread request = %d %.200s, want 200 once the slot is free", queued.Status, queued.Body)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/series/"+mid, ""); r.Status != http.StatusOK {
		t.Errorf("GET series with a free slot = %d", r.Status)
	}
}

func TestBusyIsUnavailable(t *testing.T) {
	// A heavy search refused by the index (search/guard.go).
	err := fmt.Errorf("search: heavy searches: %w", search.ErrBusy)
	if status, _, _ := statusOf(err); status != http.StatusServiceUnavailable {
		t.Errorf("statusOf(%v) = %d, want 503", err, status)
	}
}
