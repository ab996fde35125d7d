package indexer

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"patchtrail/search"
)

func openIndex(t *testing.T) *search.Index {
	t.Helper()
	ix, err := search.Open(filepath.Join(t.TempDir(), "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func total(t *testing.T, ix *search.Index, q string, o *search.SearchOptions) uint64 {
	t.Helper()
	r, err := ix.Search(context.Background(), q, o)
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	return r.Total
}

func TestSearchHook(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ix := openIndex(t)
	hooks := []Hook{NewSearchHook(st, ix, nil)}
	importOK(t, st, sample("sample.mbox"), &Options{Hooks: hooks})
	if n, _ := ix.DocCount(); n != 72 {
		t.Errorf("indexed %d documents, want 72", n)
	}
	if q, _ := st.QueueLen(ctx); q != 0 {
		t.Errorf("%d messages still queued after the import", q)
	}
	// Every message of a thread carries the thread's current id, also
	// those indexed before a late parent merged their thread (thread (d):
	// the review arrives before the patch).
	m, err := st.MessageByID(ctx, "20240206133000.310323-0-bob@example.net")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := st.ThreadMessages(ctx, m.Thread)
	if got := total(t, ix, "d:20000101..", &search.SearchOptions{ThreadID: strconv.FormatInt(m.Thread, 10)}); got != uint64(len(msgs)) {
		t.Errorf("thread %d: %d indexed, %d stored", m.Thread, got, len(msgs))
	}
	// The same archive on a second list: found under both lists.
	importOK(t, st, sample("sample.mbox.gz"), &Options{List: "mirror", Hooks: hooks})
	for _, list := range []string{"io-uring", "mirror"} {
		if got := total(t, ix, "patchid:f30dcb7a897879dd8ced9073597b350a78b2853d", &search.SearchOptions{List: list}); got != 2 {
			t.Errorf("list %s: patchid search found %d, want 2", list, got)
		}
	}
	// A crash between the store commit and the index leaves messages
	// queued; Drain indexes them.
	if err := st.EnqueueAll(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := Drain(ctx, st, ix, nil)
	if err != nil || n != 72 {
		t.Errorf("Drain = %d, %v; want 72", n, err)
	}
}

// TestSearchHookThreadMerge: a message that joins two threads rewrites
// the thread id of documents indexed earlier.
func TestSearchHookThreadMerge(t *testing.T) {
	ctx := context.Background()
	mbox := "From x Thu Jan  1 00:00:00 1970\nMessage-ID: <a@x>\nSubject: root\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nroot\n\n" +
		"From x Thu Jan  1 00:00:00 1970\nMessage-ID: <c@x>\nIn-Reply-To: <b@x>\nSubject: Re: root\nDate: Mon, 1 Jan 2024 02:00:00 +0000\n\nlate\n\n"
	mbox2 := "From x Thu Jan  1 00:00:00 1970\nMessage-ID: <b@x>\nIn-Reply-To: <a@x>\nSubject: Re: root\nDate: Mon, 1 Jan 2024 01:00:00 +0000\n\nmiddle\n\n"
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "1.mbox"), filepath.Join(dir, "2.mbox")
	writeFile(t, p1, mbox)
	writeFile(t, p2, mbox2)
	st := openStore(t)
	ix := openIndex(t)
	hooks := []Hook{NewSearchHook(st, ix, nil)}
	importOK(t, st, p1, &Options{List: "l", Hooks: hooks})
	importOK(t, st, p2, &Options{List: "l", Hooks: hooks})
	m, err := st.MessageByID(ctx, "c@x")
	if err != nil {
		t.Fatal(err)
	}
	if got := total(t, ix, "d:20000101..", &search.SearchOptions{ThreadID: strconv.FormatInt(m.Thread, 10)}); got != 3 {
		t.Errorf("thread %d holds %d indexed messages, want 3 after the merge", m.Thread, got)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSearchHookPipelined: with a store transaction per message, each
// batch is written to the index while the next is stored; a message that
// merges two threads rebuilds documents of batches still in flight, and
// the index ends with every thread id current and nothing queued.
func TestSearchHookPipelined(t *testing.T) {
	ctx := context.Background()
	mbox := "From x Thu Jan  1 00:00:00 1970\nMessage-ID: <a@x>\nSubject: root\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nroot\n\n" +
		"From x Thu Jan  1 00:00:00 1970\nMessage-ID: <c@x>\nIn-Reply-To: <b@x>\nSubject: Re: root\nDate: Mon, 1 Jan 2024 02:00:00 +0000\n\nlate\n\n" +
		"From x Thu Jan  1 00:00:00 1970\nMessage-ID: <b@x>\nIn-Reply-To: <a@x>\nSubject: Re: root\nDate: Mon, 1 Jan 2024 01:00:00 +0000\n\nmiddle\n\n" +
		"From x Thu Jan  1 00:00:00 1970\nMessage-ID: <d@x>\nIn-Reply-To: <c@x>\nSubject: Re: root\nDate: Mon, 1 Jan 2024 03:00:00 +0000\n\nlast\n\n"
	p := filepath.Join(t.TempDir(), "1.mbox")
	writeFile(t, p, mbox)
	st := openStore(t)
	ix := openIndex(t)
	importOK(t, st, p, &Options{List: "l", BatchSize: 1, Hooks: []Hook{NewSearchHook(st, ix, nil)}})
	m, err := st.MessageByID(ctx, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	if got := total(t, ix, "d:20000101..", &search.SearchOptions{ThreadID: strconv.FormatInt(m.Thread, 10)}); got != 4 {
		t.Errorf("thread %d holds %d indexed messages, want 4", m.Thread, got)
	}
	if q, _ := st.QueueLen(ctx); q != 0 {
		t.Errorf("%d messages still queued after the import", q)
	}
}

// TestSearchHookLandKeepsRebuilt: a message indexed by a batch in flight
// and marked to rebuild by the transaction committed since stays queued
// when the batch lands, until its rebuilt document is written.
func TestSearchHookLandKeepsRebuilt(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ix := openIndex(t)
	h := NewSearchHook(st, ix, nil)
	importOK(t, st, sample("sample.mbox"), &Options{Hooks: []Hook{h}})
	m, err := st.MessageByID(ctx, "20240206133000.310323-0-bob@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueAll(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ := st.QueueLen(ctx)
	fly := func() {
		ch := make(chan error, 1)
		ch <- nil
		h.flight, h.flightDone = &searchBatch{h: h, b: ix.Batch(), done: []int64{m.ID}}, ch
	}
	fly()
	if err := h.land(ctx, map[int64]bool{m.ID: true}); err != nil {
		t.Fatal(err)
	}
	if q, _ := st.QueueLen(ctx); q != all {
		t.Errorf("queue %d after landing with the message to rebuild next, want %d", q, all)
	}
	fly()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if q, _ := st.QueueLen(ctx); q != all-1 {
		t.Errorf("queue %d after landing, want %d", q, all-1)
	}
	if h.flight != nil {
		t.Error("a batch still in flight after Flush")
	}
}
