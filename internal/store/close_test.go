package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestCloseWhileReading closes the store while goroutines still read
// from it (as a server's handlers and background counts do): no data
// race (go test -race), no panic, and every call after Close fails with
// an error.
func TestCloseWhileReading(t *testing.T) {
	s := open(t)
	var msgs []*NewMessage
	for i := 0; i < 50; i++ {
		msgs = append(msgs, msg(fmt.Sprintf("body %d", i), []string{fmt.Sprintf("%d@x", i)}))
	}
	add(t, s, "a", msgs...)
	ctx := context.Background()
	started := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	panics := make(chan any, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panics <- r
				}
			}()
			for i := 0; i < 400; i++ {
				m, err := s.MessageByID(ctx, fmt.Sprintf("%d@x", i%50))
				if err == nil {
					once.Do(func() { close(started) })
					if _, err := s.Raw(ctx, m.ID); err != nil {
						continue
					}
				}
				s.Stats(ctx)
			}
		}()
	}
	<-started
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	close(panics)
	for p := range panics {
		t.Errorf("reader panicked after Close: %v", p)
	}
	if _, err := s.MessageByID(ctx, "1@x"); err == nil {
		t.Error("MessageByID after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
