package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"patchtrail/internal/store"
)

// TestIncompleteIndexIsShown: while the store has messages the index
// does not hold (a killed reindex), search answers and stats say so.
func TestIncompleteIndexIsShown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := importData(ctx, dir, samplePath); err != nil {
		t.Fatal(err)
	}
	w, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.EnqueueAll(ctx); err != nil { // as a reindex does before it indexes
		t.Fatal(err)
	}
	queued, err := w.QueueLen(ctx)
	w.Close()
	if err != nil || queued == 0 {
		t.Fatalf("queue: %d, %v", queued, err)
	}
	st, ix, err := openData(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer ix.Close()
	base := newServerFor(t, New(st, ix, &Options{Logger: testLogger(t)}))

	var page SearchPage
	getJSON(t, base+"/api/v1/search?q=s:tidy", &page)
	if page.NotIndexed != queued {
		t.Errorf("search not_indexed = %d, want %d", page.NotIndexed, queued)
	}
	var stats StatsPage
	getJSON(t, base+"/api/v1/stats", &stats)
	if stats.NotIndexed != queued {
		t.Errorf("stats not_indexed = %d, want %d", stats.NotIndexed, queued)
	}
	r := do(t, "GET", base+"/all/?q=s:tidy", "")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "The search index is incomplete") {
		t.Errorf("search page with an incomplete index = %d, no notice:\n%.2000s", r.Status, r.Body)
	}

	// The complete index of the fixture: no field, no notice.
	_, ts := newTestServer(t, nil)
	r = do(t, "GET", ts.URL+"/api/v1/search?q=s:tidy", "")
	if strings.Contains(string(r.Body), "not_indexed") {
		t.Errorf("search with a complete index mentions not_indexed: %s", r.Body)
	}
	if r := do(t, "GET", ts.URL+"/all/?q=s:tidy", ""); strings.Contains(string(r.Body), "index is incomplete") {
		t.Errorf("search page with a complete index has the notice")
	}
}
