package search

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	jens   = Address{"Jens Axboe", "axboe@kernel.dk"}
	pavel  = Address{"Pavel Begunkov", "asml.silence@gmail.com"}
	ioList = Address{"", "io-uring@vger.kernel.org"}
	lkml   = Address{"", "linux-kernel@vger.kernel.org"}
	netdev = Address{"", "netdev@vger.kernel.org"}
)

const ioLID = "<io-uring.vger.kernel.org>"

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func strs(s ...string) []string { return s }

func pid(c string) string { return strings.Repeat(c, 40) }

// testDocs is a small hand-written archive: a two-patch series with
// review, two versions of another patch, a netdev thread, a bug report with
// attachments, odd messages and 16 fillers in 4 threads.
func testDocs() []*Doc {
	body := func(d *Doc, text string) *Doc { d.AddBodyText(text); return d }
	docs := []*Doc{
		body(&Doc{MessageID: "cover-1@kernel.dk", ThreadID: "T1", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "[PATCH 0/2] io_uring: fix sqpoll races", From: []Address{jens}, To: []Address{ioList}, Cc: []Address{lkml},
			Date: at("2024-01-10 09:00"), Size: 2000},
			"This series fixes two races in the SQPOLL thread.\n\nchange-id: 20240110-sqpoll-races-abcdef\n"),
		body(&Doc{MessageID: "patch-1@kernel.dk", ThreadID: "T1", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "[PATCH 1/2] io_uring/sqpoll: hold ctx lock", From: []Address{jens}, To: []Address{ioList},
			References: strs("<cover-1@kernel.dk>"), Date: at("2024-01-10 09:01"), Size: 4000, PatchIDs: strs(pid("1"))},
			"Hold the lock.\n\nSigned-off-by: Jens Axboe <axboe@kernel.dk>\n---\n"+
				"diff --git a/io_uring/sqpoll.c b/io_uring/sqpoll.c\nindex 1a2b3c4d5e..9f8e7d6c5b 100644\n"+
				"--- a/io_uring/sqpoll.c\n+++ b/io_uring/sqpoll.c\n@@ -1,4 +1,4 @@ static int io_sq_thread(void *data)\n"+
				" \tstruct io_ring_ctx *ctx;\n-\tmutex_unlock(&ctx->uring_lock);\n+\tio_ring_submit_unlock(ctx, issue_flags);\n"),
		body(&Doc{MessageID: "patch-2@kernel.dk", ThreadID: "T1", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "[PATCH 2/2] io_uring: check IORING_SETUP_SQPOLL flags", From: []Address{jens}, To: []Address{ioList},
			References: strs("cover-1@kernel.dk"), Date: at("2024-01-10 09:02"), Size: 5000, PatchIDs: strs(pid("2"))},
			"Check flags.\n---\ndiff --git a/io_uring/io_uring.c b/io_uring/io_uring.c\n--- a/io_uring/io_uring.c\n+++ b/io_uring/io_uring.c\n"+
				"@@ -5,2 +5,3 @@ int io_uring_setup(u32 entries)\n+\tif (p->flags & IORING_SETUP_SQPOLL)\n"+
				"diff --git a/include/uapi/linux/io_uring.h b/include/uapi/linux/io_uring.h\n--- a/include/uapi/linux/io_uring.h\n"+
				"+++ b/include/uapi/linux/io_uring.h\n@@ -1 +1 @@\n-#define X 1\n+#define X 2\n"),
		body(&Doc{MessageID: "reply-1@gmail.com", ThreadID: "T1", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "Re: [PATCH 1/2] io_uring/sqpoll: hold ctx lock", From: []Address{pavel}, To: []Address{jens}, Cc: []Address{ioList},
			References: strs("cover-1@kernel.dk", "patch-1@kernel.dk"), Date: at("2024-01-11 12:00"), Size: 1500},
			"> -\tmutex_unlock(&ctx->uring_lock);\n> +\tio_ring_submit_unlock(ctx, issue_flags);\n\n"+
				"Looks good, but what about the fallback path?\n\nReviewed-by: Pavel Begunkov <asml.silence@gmail.com>\n"),
		body(&Doc{MessageID: "reply-2@kernel.dk", ThreadID: "T1", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "Re: [PATCH 0/2] io_uring: fix sqpoll races", From: []Address{jens}, To: []Address{ioList},
			References: strs("cover-1@kernel.dk"), Date: at("2024-01-12 08:00"), Size: 1200},
			"Applied, thanks!\n\n[1/2] io_uring/sqpoll: hold ctx lock\n      commit: 0123456789ab\n"),
		body(&Doc{MessageID: "multishot-v2@gmail.com", ThreadID: "T2", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "[PATCH v2] io_uring/net: support multishot recv", From: []Address{pavel}, To: []Address{ioList},
			Date: at("2024-02-01 10:00"), Received: at("2024-02-01 10:05"), Size: 6000, PatchIDs: strs(pid("3"))},
			"Changes since v1:\n- rebase\n---\ndiff --git a/io_uring/net.c b/io_uring/net.c\n--- a/io_uring/net.c\n+++ b/io_uring/net.c\n"+
				"@@ -9,1 +9,2 @@ int io_recv(struct io_kiocb *req, unsigned int issue_flags)\n+\treq->flags |= REQ_F_APOLL_MULTISHOT;\n"),
		body(&Doc{MessageID: "multishot-reply@kernel.dk", ThreadID: "T2", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "Re: [PATCH v2] io_uring/net: support multishot recv", From: []Address{jens}, To: []Address{pavel},
			References: strs("multishot-v2@gmail.com"), Date: at("2024-02-02 10:00"), Size: 900},
			"> Changes since v1:\n> - rebase\n\nThis breaks liburing tests, please fix.\n"),
		body(&Doc{MessageID: "multishot-v1@gmail.com", ThreadID: "T3", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "[PATCH] io_uring/net: support multishot recv", From: []Address{pavel}, To: []Address{ioList},
			Date: at("2024-01-20 10:00"), Size: 5800, PatchIDs: strs(pid("4"))},
			"---\ndiff --git a/io_uring/net.c b/io_uring/net.c\n--- a/io_uring/net.c\n+++ b/io_uring/net.c\n@@ -9 +9 @@\n+\tret = 0;\n"),
		body(&Doc{MessageID: "tcp-fix@google.com", ThreadID: "T4", Lists: []string{"netdev"}, ListIDs: strs("<netdev.vger.kernel.org>"),
			Subject: "[PATCH net-next] tcp: fix retransmit timer", From: []Address{{"Eric Dumazet", "edumazet@google.com"}}, To: []Address{netdev},
			Date: at("2024-02-10 10:00"), Size: 3000},
			"---\ndiff --git a/net/ipv4/tcp_timer.c b/net/ipv4/tcp_timer.c\n--- a/net/ipv4/tcp_timer.c\n+++ b/net/ipv4/tcp_timer.c\n"+
				"@@ -1 +1 @@ void tcp_retransmit_timer(struct sock *sk)\n-\told();\n+\tnew();\n"),
		body(&Doc{MessageID: "tcp-reply@redhat.com", ThreadID: "T4", Lists: []string{"netdev"}, ListIDs: strs("<netdev.vger.kernel.org>"),
			Subject: "Re: [PATCH net-next] tcp: fix retransmit timer", From: []Address{{"Paolo Abeni", "pabeni@redhat.com"}}, To: []Address{netdev},
			References: strs("tcp-fix@google.com"), Date: at("2024-02-11 10:00"), Size: 1100},
			"Acked-by: Paolo Abeni <pabeni@redhat.com>\n"),
		body(&Doc{MessageID: "config@example.org", ThreadID: "T5", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "kernel oops with io_uring on 6.8-rc1", From: []Address{{"Bug Reporter", "reporter@example.org"}}, To: []Address{ioList},
			Date: at("2024-03-01 10:00"), Size: 150000, AttachmentNames: strs("config.gz", "dmesg.txt")},
			"Hi, I see a WARN_ON in io_uring_enter() when running fio.\nKernel config attached.\n"),
		body(&Doc{MessageID: "config-reply@kernel.dk", ThreadID: "T5", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "Re: kernel oops with io_uring on 6.8-rc1", From: []Address{jens}, To: []Address{{"Bug Reporter", "reporter@example.org"}},
			References: strs("config@example.org"), Date: at("2024-03-02 10:00"), Size: 2500},
			"> Hi, I see a WARN_ON in io_uring_enter() when running fio.\n\nCan you try the patch below?\n\n"+
				"diff --git a/io_uring/io_uring.c b/io_uring/io_uring.c\n--- a/io_uring/io_uring.c\n+++ b/io_uring/io_uring.c\n@@ -1 +1 @@\n-\tWARN_ON_ONCE(1);\n"),
		body(&Doc{MessageID: "unicode@example.jp", ThreadID: "T6", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "Re: Überprüfung der Änderungen", From: []Address{{"Jürgen Groß", "jgross@suse.com"}},
			Date: at("2023-12-20 10:00"), Size: 1000},
			"Danke schön. 日本語 テスト\n"),
		body(&Doc{MessageID: "old-stuff@lists.example", MessageIDs: strs("<alt-id@lists.example>"), ThreadID: "T7", Lists: []string{"io-uring"}, ListIDs: strs(ioLID),
			Subject: "[RFC] io_uring: zero copy rx", From: []Address{{"David Wei", "dw@davidwei.uk"}},
			Date: at("2023-12-01 10:00"), Size: 3000},
			"RFC for zero copy receive.\n"),
	}
	for i := 0; i < 16; i++ {
		list := "io-uring"
		if i%2 == 1 {
			list = "netdev"
		}
		docs = append(docs, body(&Doc{MessageID: fmt.Sprintf("filler-%02d@example.com", i), ThreadID: fmt.Sprintf("TF%d", i/4),
			Lists: []string{list}, Subject: fmt.Sprintf("filler discussion %d about nothing", i),
			From: []Address{{"Filler Person", "filler@example.com"}}, Date: at("2023-11-01 10:00").AddDate(0, 0, i), Size: 2500},
			fmt.Sprintf("lorem ipsum dolor %d\n", i)))
	}
	return docs
}

func fillers(idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, fmt.Sprintf("filler-%02d@example.com", i))
	}
	return out
}

func openTestIndex(t testing.TB, docs []*Doc) *Index {
	t.Helper()
	ix, err := Open(t.TempDir(), &Options{Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	b := ix.Batch()
	for i, d := range docs {
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
		if i == len(docs)/2 { // two batches: several segments
			if err := b.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ix
}

func ids(r *Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.MessageID)
	}
	return out
}

func TestSearchQueries(t *testing.T) {
	ix := openTestIndex(t, testDocs())
	all := func(s ...string) []string { return s }
	const (
		c0, p1, p2, r1, r2 = "cover-1@kernel.dk", "patch-1@kernel.dk", "patch-2@kernel.dk", "reply-1@gmail.com", "reply-2@kernel.dk"
		m1, m2, m3         = "multishot-v2@gmail.com", "multishot-reply@kernel.dk", "multishot-v1@gmail.com"
		n1, n2             = "tcp-fix@google.com", "tcp-reply@redhat.com"
		a1, a2             = "config@example.org", "config-reply@kernel.dk"
		s1, s2             = "unicode@example.jp", "old-stuff@lists.example"
	)
	ioAll := all(c0, p1, p2, r1, r2, m1, m2, m3, a1, a2, s1, s2)
	tests := []struct {
		q    string
		want []string
	}{
		{`sqpoll`, all(c0, p1, r1, r2)},
		{`s:races`, all(c0, r2)},
		{`f:axboe@kernel.dk`, all(c0, p1, p2, r2, m2, a2)},
		{`f:pavel`, all(r1, m1, m3)},
		{`f:"Pavel Begunkov"`, all(r1, m1, m3)},
		{`t:netdev@vger.kernel.org`, all(n1, n2)},
		{`c:linux-kernel@vger.kernel.org`, all(c0)},
		{`tc:io-uring@vger.kernel.org`, all(c0, p1, p2, r1, r2, m1, m3, a1)},
		{`a:asml.silence@gmail.com`, all(r1, m1, m2, m3)},
		{`tcf:asml.silence@gmail.com`, all(r1, m1, m2, m3)},
		{`b:fallback`, all(r1)},
		{`nq:fallback`, all(r1)},
		{`q:fallback`, nil},
		{`q:io_ring_submit_unlock`, all(r1)},
		{`nq:io_ring_submit_unlock`, all(p1)},
		{`b:io_ring_submit_unlock`, all(p1, r1)},
		{`bs:multishot`, all(m1, m2, m3)},
		{`n:config.gz`, all(a1)},
		{`n:dmesg*`, all(a1)},
		{`l:netdev`, all(n1, n2)},
		{`lid:io-uring.vger.kernel.org`, ioAll},
		{`m:kernel.dk`, all(c0, p1, p2, r2, m2, a2)},
		{`mid:patch-1@kernel.dk`, all(p1)},
		{`mid:<alt-id@lists.example>`, all(s2)},
		{`references:cover-1@kernel.dk`, all(p1, p2, r1, r2)},
		{`dfn:io_uring/sqpoll.c`, all(p1)},
		{`dfn:net.c`, all(m1, m3)},
		{`dfn:io_uring.h`, all(p2)},
		{`dfn:io_uring`, all(p1, p2, m1, m3, a2)},
		{`dfa:mutex_unlock`, all(p1)},
		{`dfb:IORING_SETUP_SQPOLL`, all(p2)},
		{`dfhh:io_sq_thread`, all(p1)},
		{`dfctx:io_ring_ctx`, all(p1)},
		{`dfpre:1a2b3c4`, all(p1)},
		{`dfpost:9f8e7d6c5b`, all(p1)},
		{`dfpre:9f8e7d6c5b`, nil},
		{`dfblob:9f8e7d6`, all(p1)},
		{`dfblob:1a2b3c4d5e0000000000000000000000000000`, all(p1)},
		{`patchid:` + pid("1") + ` OR patchid:` + pid("3"), all(p1, m1)},
		{pid("2"), all(p2)}, // a bare patch-id is a default term
		{`nq:"change-id: 20240110-sqpoll-races-abcdef"`, all(c0)},
		{`d:20240110`, all(c0, p1, p2, r1)}, // that day and the next, as public-inbox expands it
		{`d:2024-01-10..20240111`, all(c0, p1, p2, r1)},
		{`d:..20231201`, append(all(s2), fillers(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)...)},
		{`dt:20240110090030..20240110090130`, all(p1)},
		{`rt:1706781800..1706782000`, all(m1)},
		{`z:100k..`, all(a1)},
		{`z:..1k`, all(m2, s1)},
		{`z:900`, all(m2)},
		{`d:2.weeks.ago..`, all(a1, a2)}, // now = 2024-03-10
		{`io_uring_enter`, all(a1, a2)},
		{`"WARN_ON in io_uring_enter"`, all(a1, a2)},
		{`WARN_ON NOT s:Re`, all(a1)},
		{`sqpoll -f:pavel`, all(c0, p1, r2)},
		{`sqpoll AND NOT (s:re)`, all(c0, p1)},
		{`(s:"io_uring/net" AND f:"asml.silence@gmail.com") AND d:20240101..`, all(m1, m3)},
		{`patchid:` + pid("4") + ` AND d:..20240125`, all(m3)},
		{`multishot AND dt:20240201000000..`, all(m1, m2)},
		{`multish*`, all(m1, m2, m3)},
		{`s:(races OR multishot) f:axboe`, all(r2, c0, m2)},
		{`s:überprüfung`, all(s1)},
		{`日本語`, all(s1)},
		{`io_uring/net.c`, all(m1, m3)},
		{`Applied`, all(r2)},
		{`tcp OR oops`, all(n1, n2, a1, a2)},
		{`l:io-uring lid:netdev.vger.kernel.org`, nil},
		{`"lorem ipsum dolor 3"`, fillers(3)},
		{`lorem+ipsum+dolor+3`, fillers(3)},
		{`zero+copy`, all(s2)},
		// stemming (Xapian's STEM_SOME)
		{`s:race`, all(c0, r2)},
		{`s:Race`, nil},   // capitalised: the word itself
		{`s:"race"`, nil}, // quoted: the word itself
		{`s:fixe*`, nil},  // a wildcard does not stem: no subject word starts with "fixe"
		{`s:fixes`, all(c0, r2, n1, n2)},
		{`b:fixes`, all(c0, m2)},
		{`s:supported`, all(m1, m2, m3)},
		{`fallbacks`, all(r1)},
		// precedence: a NOT b c is a AND NOT (b AND c)
		{`sqpoll NOT f:pavel s:re`, all(c0, p1, r2)},
		{`sqpoll NOT (f:pavel s:re)`, all(c0, p1, r2)},
		{`sqpoll -f:pavel s:re`, all(r2)},
	}
	now := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		r, err := ix.Search(context.Background(), tt.q, &SearchOptions{Limit: 100, Now: now})
		if err != nil {
			t.Errorf("Search(%q): %v", tt.q, err)
			continue
		}
		got := ids(r)
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !cmp.Equal(got, want) {
			t.Errorf("Search(%q) = %q, want %q", tt.q, got, want)
		}
		if r.Total != uint64(len(want)) {
			t.Errorf("Search(%q).Total = %d, want %d", tt.q, r.Total, len(want))
		}
	}
}

func TestSearchOrderAndPaging(t *testing.T) {
	ix := openTestIndex(t, testDocs())
	ctx := context.Background()
	search := func(q string, o *SearchOptions) *Result {
		t.Helper()
		r, err := ix.Search(ctx, q, o)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		return r
	}

	r := search(`f:axboe@kernel.dk`, nil)
	want := []string{"config-reply@kernel.dk", "multishot-reply@kernel.dk", "reply-2@kernel.dk", "patch-2@kernel.dk", "patch-1@kernel.dk", "cover-1@kernel.dk"}
	if diff := cmp.Diff(want, ids(r)); diff != "" {
		t.Errorf("date order (-want +got):\n%s", diff)
	}
	wantHit := Hit{MessageID: "config-reply@kernel.dk", Subject: "Re: kernel oops with io_uring on 6.8-rc1",
		From: "Jens Axboe <axboe@kernel.dk>", Date: at("2024-03-02 10:00"), List: "io-uring", ThreadID: "T5", Kind: KindMessage}
	if diff := cmp.Diff(wantHit, r.Hits[0]); diff != "" {
		t.Errorf("stored fields (-want +got):\n%s", diff)
	}

	r = search(`filler`, &SearchOptions{Limit: 5, Offset: 3})
	if diff := cmp.Diff(fillers(12, 11, 10, 9, 8), ids(r)); diff != "" || r.Total != 16 {
		t.Errorf("offset 3 limit 5: total %d (-want +got):\n%s", r.Total, diff)
	}
	r = search(`filler`, &SearchOptions{Offset: 20})
	if len(r.Hits) != 0 || r.Total != 16 {
		t.Errorf("offset past the end: %d hits, total %d", len(r.Hits), r.Total)
	}

	r = search(`filler`, &SearchOptions{List: "netdev"})
	if diff := cmp.Diff(fillers(15, 13, 11, 9, 7, 5, 3, 1), ids(r)); diff != "" {
		t.Errorf("List netdev (-want +got):\n%s", diff)
	}
	r = search(`filler`, &SearchOptions{ThreadID: "TF1"})
	if diff := cmp.Diff(fillers(7, 6, 5, 4), ids(r)); diff != "" {
		t.Errorf("ThreadID TF1 (-want +got):\n%s", diff)
	}

	// Thread collapse: newest hit of each thread, paged over threads.
	r = search(`filler`, &SearchOptions{Threads: true})
	if diff := cmp.Diff(fillers(15, 11, 7, 3), ids(r)); diff != "" {
		t.Errorf("threads (-want +got):\n%s", diff)
	}
	r = search(`filler`, &SearchOptions{Threads: true, Limit: 2, Offset: 1})
	if diff := cmp.Diff(fillers(11, 7), ids(r)); diff != "" {
		t.Errorf("threads offset 1 limit 2 (-want +got):\n%s", diff)
	}
	r = search(`sqpoll OR multishot`, &SearchOptions{Threads: true})
	if diff := cmp.Diff([]string{"multishot-reply@kernel.dk", "multishot-v1@gmail.com", "reply-2@kernel.dk"}, ids(r)); diff != "" {
		t.Errorf("threads of sqpoll OR multishot (-want +got):\n%s", diff)
	}

	// Relevance: same set, best first.
	r = search(`sqpoll OR races`, &SearchOptions{Sort: SortRelevance})
	if len(r.Hits) != 4 {
		t.Fatalf("relevance: %d hits, want 4", len(r.Hits))
	}
	for i, h := range r.Hits {
		if h.Score <= 0 || i > 0 && h.Score > r.Hits[i-1].Score {
			t.Errorf("relevance: hit %d score %v after %v", i, h.Score, r.Hits[max(i-1, 0)].Score)
		}
	}
	if top := r.Hits[0].MessageID; top != "cover-1@kernel.dk" && top != "reply-2@kernel.dk" {
		t.Errorf("relevance: top hit %s, want one with both words", top)
	}
	if _, err := ix.Search(ctx, "x", &SearchOptions{Sort: "size"}); !IsQueryError(err) {
		t.Errorf("bad sort: %v, want a query error", err)
	}
	if _, err := ix.Search(ctx, "x", &SearchOptions{Offset: MaxOffset + 1}); !errors.Is(err, ErrOffsetTooLarge) {
		t.Errorf("deep offset: %v", err)
	}
}

func TestIterate(t *testing.T) {
	ix := openTestIndex(t, testDocs())
	collect := func(o *SearchOptions) []string {
		var got []string
		err := ix.Iterate(context.Background(), "filler", o, func(h Hit) error {
			got = append(got, h.MessageID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if diff := cmp.Diff(fillers(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), collect(nil)); diff != "" {
		t.Errorf("Iterate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fillers(11, 7, 3), collect(&SearchOptions{Threads: true, Offset: 1})); diff != "" {
		t.Errorf("Iterate threads offset 1 (-want +got):\n%s", diff)
	}
	// Iterate passes the same hits, stored fields and all, as Search.
	want, err := ix.Search(context.Background(), "filler", &SearchOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []Hit
	if err := ix.Iterate(context.Background(), "filler", nil, func(h Hit) error { got = append(got, h); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Hits, got); diff != "" || want.Hits[0].Subject == "" {
		t.Errorf("Iterate hits differ from Search's (-search +iterate):\n%s", diff)
	}
	stop := errors.New("stop")
	n := 0
	err = ix.Iterate(context.Background(), "filler", nil, func(Hit) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Iterate stop: err %v after %d calls", err, n)
	}
}

func TestIterateManyPages(t *testing.T) {
	var docs []*Doc
	for i := 0; i < 2*scanPage+10; i++ {
		docs = append(docs, &Doc{MessageID: fmt.Sprintf("m%05d@x", i), ThreadID: fmt.Sprintf("t%d", i%7),
			Subject: "same", Date: at("2024-01-01 00:00").Add(time.Duration(i/3) * time.Minute)}) // ties on date
	}
	ix := openTestIndex(t, docs)
	seen := map[string]bool{}
	var last Hit
	err := ix.Iterate(context.Background(), "same", nil, func(h Hit) error {
		if seen[h.MessageID] {
			t.Fatalf("Iterate repeated %s", h.MessageID)
		}
		if h.Date.After(last.Date) && !last.Date.IsZero() {
			t.Fatalf("Iterate out of order: %v after %v", h, last)
		}
		seen[h.MessageID], last = true, h
		return nil
	})
	if err != nil || len(seen) != len(docs) {
		t.Fatalf("Iterate: %v, %d of %d hits", err, len(seen), len(docs))
	}
	r, err := ix.Search(context.Background(), "same", &SearchOptions{Threads: true, Limit: 10})
	if err != nil || len(r.Hits) != 7 {
		t.Fatalf("threads over many pages: %v, %d hits, want 7", err, len(r.Hits))
	}
}

func TestIndexUpdateDelete(t *testing.T) {
	ix := openTestIndex(t, testDocs())
	ctx := context.Background()
	count := func(q string) uint64 {
		r, err := ix.Search(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	if err := ix.Delete(ctx, "<patch-1@kernel.dk>"); err != nil {
		t.Fatal(err)
	}
	if n := count("dfa:mutex_unlock"); n != 0 {
		t.Errorf("after delete: %d hits", n)
	}
	b := ix.Batch()
	if err := b.Index(&Doc{MessageID: "reply-2@kernel.dk", Subject: "rewritten", Date: at("2024-01-12 08:00")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if count("s:rewritten") != 1 || count("Applied") != 0 {
		t.Errorf("update did not replace the document")
	}
	if n, err := ix.DocCount(); err != nil || n != uint64(len(testDocs())-1) {
		t.Errorf("DocCount = %d, %v; want %d", n, err, len(testDocs())-1)
	}
	if err := b.Index(&Doc{}); !errors.Is(err, ErrNoMessageID) {
		t.Errorf("doc without id: %v", err)
	}
}

func TestWildcardLimit(t *testing.T) {
	ix := openTestIndex(t, testDocs())
	ix.opts.MaxWildcardTerms = 1
	_, err := ix.Search(context.Background(), "fi*", nil) // filler, fix, fixes, ...
	if !errors.Is(err, ErrQueryTooBroad) || !IsQueryError(err) {
		t.Errorf("broad wildcard: %v, want ErrQueryTooBroad", err)
	}
	var pe *ParseError
	if _, err := ix.Search(context.Background(), "foo)", nil); err != nil {
		t.Errorf("foo): %v", err)
	}
	if _, err := ix.Search(context.Background(), "NOT foo", nil); !errors.As(err, &pe) || !IsQueryError(err) {
		t.Errorf("NOT foo: %v, want *ParseError", err)
	}
}

// An index written one shard at a time, in small batches, with a small
// cap on merged segments, its mapped pages released after every batch,
// answers as the one written all shards at once.
func TestBatchShardsAndSegmentCap(t *testing.T) {
	ctx := context.Background()
	want := openTestIndex(t, testDocs())
	ix, err := Open(t.TempDir(), &Options{Shards: 3, BatchShards: 1, MaxSegmentDocs: 4, ReleasePages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	b := ix.Batch()
	for i, d := range testDocs() {
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			if err := b.Execute(ctx); err != nil {
				t.Fatal(err)
			}
			if b.Len() != 0 {
				t.Fatalf("batch holds %d operations after Execute", b.Len())
			}
		}
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"s:sqpoll", "f:axboe", "dfa:mutex_unlock", "multishot", "d:2024-01-01.."} {
		r1, err1 := want.Search(ctx, q, nil)
		r2, err2 := ix.Search(ctx, q, nil)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", q, err1, err2)
		}
		if r1.Total == 0 {
			t.Errorf("%s: no hits in the reference index", q)
		}
		if a, b := fmt.Sprint(ids(r1)), fmt.Sprint(ids(r2)); a != b || r1.Total != r2.Total {
			t.Errorf("%s: %d %s, want %d %s", q, r2.Total, b, r1.Total, a)
		}
	}
	if n, err := ix.DocCount(); err != nil || n != uint64(len(testDocs())) {
		t.Errorf("DocCount = %d, %v; want %d", n, err, len(testDocs()))
	}
	if _, err := Open(t.TempDir(), &Options{MaxSegmentDocs: 1 << 31}); err == nil {
		t.Errorf("a cap past scorch's limit was accepted")
	}
}

// TestBatchChunksByWords: a shard's part of a batch past MaxBatchWords
// is written in several segments, each within the bound unless one
// document alone exceeds it, with the same result as one segment, later
// operations on a document (an update, a deletion) still winning.
func TestBatchChunksByWords(t *testing.T) {
	ctx := context.Background()
	docs := testDocs()
	maxWords := 0
	for _, d := range docs {
		maxWords = max(maxWords, d.Words())
	}
	bound := maxWords * 2
	ix, err := Open(t.TempDir(), &Options{Shards: 1, BatchShards: 1, MaxBatchWords: bound})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	b := ix.Batch()
	// The chunks one shard's part is cut into: greedy, in order, a new
	// one when the next document would take the last past the bound.
	chunks := map[string]int{} // by partition
	words := map[string]int{}
	// Changed after it was added: the new subject must win, and the
	// deletion must hold, whichever chunks they landed in.
	upd := *docs[0]
	upd.Subject = "[PATCH 0/2] io_uring: renamed cover letter zebraword"
	for _, d := range append(docs[:len(docs):len(docs)], &upd) {
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
		k := partitionKey(ix, d)
		if chunks[k] == 0 || words[k]+d.Words() > bound {
			chunks[k]++
			words[k] = 0
		}
		words[k] += d.Words()
	}
	b.Delete(docs[1].MessageID)
	before := totalBatches(t, ix) // partitions created write their own
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range chunks {
		want += n
	}
	if want <= len(chunks) {
		t.Fatalf("the test documents fit %d chunks in %d partitions: nothing to cut", want, len(chunks))
	}
	if got := totalBatches(t, ix) - before; got != uint64(want) {
		t.Errorf("%d segments written, want %d (bound %d words)", got, want, bound)
	}
	ref := openTestIndex(t, docs)
	refb := ref.Batch()
	if err := refb.Index(&upd); err != nil {
		t.Fatal(err)
	}
	refb.Delete(docs[1].MessageID)
	if err := refb.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"s:sqpoll", "s:zebraword", "f:axboe", "dfa:mutex_unlock", "multishot", "d:2024-01-01.."} {
		r1, err1 := ref.Search(ctx, q, nil)
		r2, err2 := ix.Search(ctx, q, nil)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", q, err1, err2)
		}
		if a, b := fmt.Sprint(ids(r1)), fmt.Sprint(ids(r2)); a != b || r1.Total != r2.Total {
			t.Errorf("%s: %d %s, want %d %s", q, r2.Total, b, r1.Total, a)
		}
	}
	if n, err := ix.DocCount(); err != nil || n != uint64(len(docs)-1) {
		t.Errorf("DocCount = %d, %v; want %d", n, err, len(docs)-1)
	}
}

func partitionKey(ix *Index, d *Doc) string {
	p, err := ix.partFor(clampSec(d.Date))
	if err != nil {
		panic(err)
	}
	return p.key
}

// totalBatches is the number of batches (segments built) the shards
// of every partition took.
func totalBatches(t *testing.T, ix *Index) uint64 {
	t.Helper()
	var n uint64
	for _, p := range ix.parts {
		for _, s := range p.shards {
			sc, err := scorchOf(s)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := sc.StatsMap()["TotBatches"].(uint64)
			n += v
		}
	}
	return n
}

// TestSegmentBufferAfterLargeDocument: a batch of small messages after a
// segment of one large one allocates about what it writes, not the
// large message's size per document (zap's estimate, turned off in
// init).
func TestSegmentBufferAfterLargeDocument(t *testing.T) {
	ctx := context.Background()
	// zap keeps its estimate in a sync.Pool: on one P the next segment
	// gets the one the last left.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ix, err := Open(t.TempDir(), &Options{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var big strings.Builder
	for i := 0; big.Len() < 1<<20; i++ {
		fmt.Fprintf(&big, "hci0 event 0x%04x handle %d status 0x%02x\n", i, i*7, i%256)
	}
	b := ix.Batch()
	large := &Doc{MessageID: "dump@example.org", Subject: "btmon trace", Date: at("2024-02-01 10:00")}
	large.AddBodyText(big.String())
	if err := b.Index(large); err != nil {
		t.Fatal(err)
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		d := &Doc{MessageID: fmt.Sprintf("small-%d@example.org", i), Subject: "re: btmon trace", Date: at("2024-02-01 11:00")}
		d.AddBodyText("Thanks, applied.\n")
		if err := b.Index(d); err != nil {
			t.Fatal(err)
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	// The estimate would be the large segment's size (several MB) for
	// each of the 400 documents it counts: gigabytes.
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 64<<20 {
		t.Errorf("a batch of 300 short messages allocated %d MB", got>>20)
	}
}
