package main

import (
	"bytes"
	"log/slog"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// peakHeapProfile writes the heap profile to path whenever the live heap
// passes its largest size so far by a twentieth, checking twice a second,
// until the returned function is called: what a command held at its peak,
// which a profile at exit does not show (the peak resident size of an
// import is the heap of its largest step).
func peakHeapProfile(path string, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		var peak uint64
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			live := sample[0].Value.Uint64()
			if live <= peak+peak/20 {
				continue
			}
			peak = live
			var b bytes.Buffer
			if err := pprof.Lookup("heap").WriteTo(&b, 0); err != nil {
				log.Error("heap profile", "err", err)
				return
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				log.Error("heap profile", "file", path, "err", err)
				return
			}
			log.Debug("heap profile written", "file", path, "live", live)
		}
	}()
	return func() { close(done); <-finished }
}
