package api

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

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
