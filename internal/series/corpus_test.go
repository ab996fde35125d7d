package series_test

import (
	"context"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/series"
	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
)

// TestChainsCorpus checks version chains of real series of the io-uring
// archive. The archive is not imported whole: the test imports the
// threads of Jens Axboe's postings from 2024-03-18 to 2024-04-06 (three
// versions of the kbuf mmap rework and, on 2024-04-03, a separate
// cleanup series re-posting three of its patches as a new v1) and the
// threads of a few other patches posted in several versions.
func TestChainsCorpus(t *testing.T) {
	testcorpus.Inbox(t)
	ctx := context.Background()
	from, to := time.Date(2024, 3, 18, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 6, 0, 0, 0, 0, time.UTC)
	subjects := []string{
		"io_uring/io-wq: Use set_bit() and test_bit() at worker->flags",
		"Add support for multishot reads",
		"io_uring/net: fix io_req_post_cqe abuse by send bundle",
		"io_uring mm related abuses",
	}
	path := filepath.Join(t.TempDir(), "threads.mbox")
	n := testcorpus.WriteThreads(t, path, func(h mail.Header, subject string) bool {
		for _, s := range subjects {
			if strings.Contains(subject, s) {
				return true
			}
		}
		if !strings.Contains(h.Get("From"), "axboe@kernel.dk") {
			return false
		}
		d, err := h.Date()
		return err == nil && !d.Before(from) && d.Before(to)
	})
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := indexer.Import(ctx, st, path, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages", n)
	for _, c := range []struct {
		mid  string
		want []string // version, date and first Message-ID of each version
	}{
		// The cleanup series shares three patch-ids with the rework's v1
		// but is a new patchset: a chain of its own.
		{"20240403135602.1623312-5-axboe@kernel.dk", []string{"v1 2024-04-03 20240403135602.1623312-1-axboe@kernel.dk"}},
		// The rework, renamed from v1 to v2, in version and date order.
		{"20240321144831.58602-1-axboe@kernel.dk", []string{
			"v1 2024-03-21 20240321144831.58602-1-axboe@kernel.dk",
			"v2 2024-03-27 20240327191933.607220-1-axboe@kernel.dk",
			"v3 2024-03-28 20240328233443.797828-1-axboe@kernel.dk",
		}},
		{"20240507170002.2269003-1-leitao@debian.org", []string{
			"v1 2024-05-03 20240503173711.2211911-1-leitao@debian.org",
			"v2 2024-05-07 20240507150506.1748059-1-leitao@debian.org",
			"v3 2024-05-07 20240507170002.2269003-1-leitao@debian.org",
		}},
		{"20230912172458.1646720-2-axboe@kernel.dk", []string{
			"v1 2023-09-11 20230911204021.1479172-1-axboe@kernel.dk",
			"v2 2023-09-12 20230912172458.1646720-1-axboe@kernel.dk",
		}},
		// v2 re-sent: the copy (its Message-ID taken, stored under a
		// generated id) stays in the chain as a second v2.
		{"8b611dbb54d1cd47a88681f5d38c84d0c02bc563.1743067183.git.asml.silence@gmail.com", []string{
			"v1 2025-03-26 3a6638b0f3567a00cfaabd80821fab3b60d49b36.1743027688.git.asml.silence@gmail.com",
			"v2 2025-03-27 8b611dbb54d1cd47a88681f5d38c84d0c02bc563.1743067183.git.asml.silence@gmail.com",
			"v2 2025-03-27 c1827e64409e760617387c9e032003cf@generated.patchtrail.invalid",
		}},
		{"cover.1750771718.git.asml.silence@gmail.com", []string{
			"v1 2025-06-24 cover.1750760501.git.asml.silence@gmail.com",
			"v2 2025-06-24 cover.1750771718.git.asml.silence@gmail.com",
		}},
	} {
		s, err := series.Load(ctx, st, c.mid)
		if err != nil {
			t.Errorf("series %s: %v", c.mid, err)
			continue
		}
		var got []string
		for _, v := range s.Versions {
			got = append(got, fmt.Sprintf("v%d %s %s", v.Version, v.Date.UTC().Format("2006-01-02"), v.MessageID))
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("versions of %s (-want +got):\n%s", c.mid, diff)
		}
	}
}
