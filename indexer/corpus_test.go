package indexer

import (
	"context"
	"patchtrail/internal/testcorpus"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/store"
)

// TestCorpus imports the whole io-uring epoch and checks what REFERENCE
// §2 says it must hold, then pins series checked by hand.
func TestCorpus(t *testing.T) {
	inbox := testcorpus.Inbox(t)
	ctx := context.Background()
	st := openStore(t)
	res := importOK(t, st, inbox, nil)
	// 33,495 commits: one has no message, one blob is missing, 43 are
	// exact duplicates (same Message-ID and content hash); 19 reuse a
	// Message-ID with other content and are kept under generated ids.
	want := Result{Read: 33494, Added: 33450, Duplicates: 43, Rejected: 1}
	got := Result{Read: res.Read, Added: res.Added, Duplicates: res.Duplicates, Rejected: res.Rejected}
	if got != want {
		t.Fatalf("import = %+v, want %+v", got, want)
	}
	if res.List != "io-uring" {
		t.Errorf("list = %q, want io-uring", res.List)
	}
	var distinct, generated int
	st.DB().QueryRow(`SELECT count(*) FROM messages WHERE message_id NOT LIKE '%@generated.patchtrail.invalid'`).Scan(&distinct)
	st.DB().QueryRow(`SELECT count(*) FROM messages WHERE message_id LIKE '%@generated.patchtrail.invalid'`).Scan(&generated)
	// public-inbox-index keeps 33,431 Message-IDs for this epoch.
	if distinct != 33431 || generated != 19 {
		t.Errorf("distinct Message-IDs = %d (+%d generated), want 33431 (+19)", distinct, generated)
	}
	probs, err := st.SourceProblems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || !strings.Contains(probs[0].Problem, "cc2fb8c5589caec17495361c6822c72d4529aa83") {
		t.Errorf("source problems = %+v, want the one missing blob", probs)
	}
	again := importOK(t, st, inbox, nil)
	if again.Read != 0 || again.Added != 0 {
		t.Errorf("second import = %+v, want nothing", again)
	}
	pc, err := st.PatchCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("patch counts: %+v", *pc)

	t.Run("napi busy poll: 15 versions", func(t *testing.T) {
		s := seriesByMID(t, st, "20230608163839.2891748-1-shr@devkernel.io")
		if s.Version != 15 || s.Total != 7 {
			t.Errorf("series = %+v, want v15 of 7 patches", s)
		}
		chain, err := st.Chain(ctx, s.Chain)
		if err != nil {
			t.Fatal(err)
		}
		var versions []int
		for _, c := range chain {
			versions = append(versions, c.Version)
		}
		if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, versions); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		if v1 := seriesByMID(t, st, "20221103203939.667307-1-shr@devkernel.io"); v1.Chain != s.Chain || v1.Version != 1 {
			t.Errorf("v1 cover in series %+v, not in chain %d", v1, s.Chain)
		}
	})
	t.Run("pass whole sqe: versions and reply trailers", func(t *testing.T) {
		s := seriesByMID(t, st, "20230504121856.904491-3-leitao@debian.org")
		if s.Version != 4 || s.Total != 3 || s.Cover == 0 {
			t.Errorf("series = %+v, want v4 of 3 with a cover letter", s)
		}
		chain, _ := st.Chain(ctx, s.Chain)
		var versions []int
		for _, c := range chain {
			versions = append(versions, c.Version)
		}
		if diff := cmp.Diff([]int{2, 3, 4}, versions); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		trs, err := st.Trailers(ctx, []string{"20230504121856.904491-1-leitao@debian.org", "20230504121856.904491-2-leitao@debian.org"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range trs {
			if tr.Kind == "reply" {
				got = append(got, tr.Target+" "+tr.Key+" "+tr.Email)
			}
		}
		sort.Strings(got)
		want := []string{
			"20230504121856.904491-1-leitao@debian.org Reviewed-by asml.silence@gmail.com",
			"20230504121856.904491-2-leitao@debian.org Reviewed-by ming.lei@redhat.com",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reply trailers (-want +got):\n%s", diff)
		}
	})
	t.Run("PATCHSET cover with unversioned parts", func(t *testing.T) {
		// "[PATCHSET v2 RFC 0/11] Add support for ring mapped provided
		// buffers" is followed by "[PATCH 01/11] ..." replies.
		cover := seriesByMID(t, st, "20220429175635.230192-1-axboe@kernel.dk")
		part := seriesByMID(t, st, "20220429175635.230192-2-axboe@kernel.dk")
		if cover.ID != part.ID || cover.Version != 2 || cover.Total != 11 {
			t.Errorf("cover series %+v, part series %+v: want one v2 series of 11", cover, part)
		}
	})
}

func seriesByMID(t *testing.T, st *store.Store, mid string) *store.SeriesRow {
	t.Helper()
	ctx := context.Background()
	id, err := st.Resolve(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Patch(ctx, id)
	if err != nil {
		t.Fatalf("patch of %s: %v", mid, err)
	}
	s, err := st.Series(ctx, p.Series)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
