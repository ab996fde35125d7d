package api

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"patchtrail/indexer"
	"patchtrail/internal/store"
)

// TestThreadCache: a cached thread answer equals a fresh one, and a new
// message in the store is seen at once.
func TestThreadCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := indexer.Import(ctx, st, samplePath, nil); err != nil {
		t.Fatal(err)
	}
	base := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t)}))
	const mid = "20240205230000.310306-1-dave@example.org"
	for _, path := range []string{"/all/" + mid + "/t/", "/all/" + mid + "/t.mbox.gz", "/api/v1/thread/" + mid} {
		a := do(t, "GET", base+path, "")
		b := do(t, "GET", base+path, "")
		if a.Status != http.StatusOK || b.Status != http.StatusOK || !bytes.Equal(a.Body, b.Body) ||
			a.Header.Get("Content-Type") != b.Header.Get("Content-Type") {
			t.Errorf("%s: cached answer differs: %d %q / %d %q", path, a.Status, a.Header.Get("Content-Type"), b.Status, b.Header.Get("Content-Type"))
		}
	}
	metrics := do(t, "GET", base+"/metrics", "")
	if !bytes.Contains(metrics.Body, []byte(`route="cached thread",status="200"} 3`)) {
		t.Errorf("the second requests were not answered from the cache:\n%s", metrics.Body)
	}
	before := do(t, "GET", base+"/api/v1/thread/"+mid, "")
	reply := "From x Thu Jan  1 00:00:00 1970\nMessage-ID: <late-reply@example.org>\nIn-Reply-To: <" + mid + ">\n" +
		"References: <" + mid + ">\nSubject: Re: [PATCH] io_uring: fix use-after-free in io_rw_done()\n" +
		"From: Late <late@example.org>\nDate: Mon, 1 Apr 2024 10:00:00 +0000\n\nlate reply\n"
	p := filepath.Join(t.TempDir(), "late.mbox")
	if err := os.WriteFile(p, []byte(reply), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := indexer.Import(ctx, st, p, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	after := do(t, "GET", base+"/api/v1/thread/"+mid, "")
	if bytes.Equal(before.Body, after.Body) || !bytes.Contains(after.Body, []byte("late-reply@example.org")) {
		t.Errorf("the thread answer did not change after a new reply was stored")
	}
}

// TestThreadCacheBytes: the cache holds at most its byte budget, evicting
// the least recently used answers, and never keeps an answer larger than
// the whole budget.
func TestThreadCacheBytes(t *testing.T) {
	tc := newThreadCache(1000)
	put := func(key string, n int) {
		tc.put(&threadEntry{key: key, gen: 1, stored: time.Now(), status: 200, body: make([]byte, n)})
	}
	put("/a", 400)
	put("/b", 400)
	if tc.get("/a", 1) == nil {
		t.Fatal("/a missing")
	}
	put("/c", 400) // over budget: /b is the least recently used
	if tc.get("/b", 1) != nil || tc.get("/a", 1) == nil || tc.get("/c", 1) == nil {
		t.Errorf("eviction kept the wrong entries: %v", tc.entries)
	}
	if tc.size > tc.max {
		t.Errorf("size %d over budget %d", tc.size, tc.max)
	}
	put("/huge", 2000)
	if tc.get("/huge", 1) != nil || tc.get("/a", 1) == nil {
		t.Errorf("an answer larger than the budget was kept or evicted others")
	}
	if tc.get("/a", 2) != nil {
		t.Errorf("an answer of an older store generation was served")
	}
	if off := newThreadCache(-1); off.max != 0 {
		t.Errorf("a negative budget should turn the cache off, max=%d", off.max)
	}
}
