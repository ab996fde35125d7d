package mirror

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/testserver"
)

// TestPublicInboxHTTPD mirrors an inbox served by the real
// public-inbox-httpd: its manifest and fingerprints, new mail delivered
// by public-inbox-mda, and an epoch rollover.
func TestPublicInboxHTTPD(t *testing.T) {
	pi := testserver.StartPublicInbox(t, "sample", testserver.Sample(t))
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "sample")
	m, res, err := Clone(ctx, pi.URL, dir, "sample", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(res.Cloned, []int{0}) || !strings.HasSuffix(res.Discovery, "/sample/manifest.js.gz") {
		t.Errorf("Clone = %+v", res)
	}
	n, ck := countFrom(t, dir, nil)
	if want := len(testserver.Sample(t)); n != want {
		t.Errorf("mirror holds %d messages, want %d", n, want)
	}

	// Our fingerprint equals public-inbox's: nothing to fetch.
	if res, err = m.Fetch(ctx, nil); err != nil || res.Unchanged != 1 {
		t.Errorf("Fetch with nothing new = %+v, %v", res, err)
	}

	pi.Deliver(testserver.Synthetic("delivered", 0, 3, 0)...)
	if res, err = m.Fetch(ctx, nil); err != nil || !cmp.Equal(res.Fetched, []int{0}) {
		t.Errorf("Fetch after delivery = %+v, %v", res, err)
	}
	if n, ck = countFrom(t, dir, ck); n != 3 {
		t.Errorf("fetch brought %d messages, want 3", n)
	}

	pi.AddEpoch(testserver.Synthetic("epoch1", 0, 4, 0)...)
	if res, err = m.Fetch(ctx, nil); err != nil || !cmp.Equal(res.Cloned, []int{1}) || res.Unchanged != 1 {
		t.Errorf("Fetch after rollover = %+v, %v", res, err)
	}
	if n, _ = countFrom(t, dir, ck); n != 4 {
		t.Errorf("new epoch brought %d messages, want 4", n)
	}
}
