package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// lockedBuffer is a log sink for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCloseStoreWithRequestsInFlight closes the store while requests
// (message, thread, series, trace, stats) are being answered: run with
// -race, no data race; every answer is a success or a clean error, and no
// handler panics.
func TestCloseStoreWithRequestsInFlight(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := importData(ctx, dir, samplePath); err != nil {
		t.Fatal(err)
	}
	st, ix, err := openData(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var logs lockedBuffer
	s := New(st, ix, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	srv := newServerFor(t, s)
	mid := url.PathEscape("20240115090001.310034-1-alice@example.org")
	paths := []string{"/api/v1/message/" + mid, "/api/v1/thread/" + mid, "/api/v1/series/" + mid,
		"/api/v1/trace/" + mid, "/api/v1/stats", "/api/v1/lists"}
	var ok, failed atomic.Int64
	first := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				resp, err := http.Get(srv + paths[(g+i)%len(paths)])
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode < 300:
					ok.Add(1)
					once.Do(func() { close(first) })
				case resp.StatusCode >= 500:
					failed.Add(1)
				default:
					t.Errorf("GET %s: status %d", paths[(g+i)%len(paths)], resp.StatusCode)
				}
			}
		}(g)
	}
	<-first
	if err := st.Close(); err != nil {
		t.Errorf("closing the store: %v", err)
	}
	wg.Wait()
	if strings.Contains(logs.String(), "handler panic") {
		t.Errorf("a handler panicked after the store closed:\n%s", logs.String())
	}
	if ok.Load() == 0 || failed.Load() == 0 {
		t.Logf("answers: %d ok, %d failed (the store closed early or late)", ok.Load(), failed.Load())
	}
}
