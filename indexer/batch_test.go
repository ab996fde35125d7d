package indexer

import (
	"context"
	"testing"

	"patchtrail/internal/store"
)

// batchSizes is a hook recording how many messages each store
// transaction of an import stored.
type batchSizes struct{ sizes []int }

func (h *batchSizes) Begin(*store.Tx) (HookBatch, error) {
	h.sizes = append(h.sizes, 0)
	return (*batchSizesTx)(h), nil
}

type batchSizesTx batchSizes

func (b *batchSizesTx) Stored(*store.Added, *Parsed) error { b.sizes[len(b.sizes)-1]++; return nil }
func (b *batchSizesTx) Deleted(int64) error                { return nil }
func (b *batchSizesTx) Commit() error                      { return nil }
func (b *batchSizesTx) Committed(context.Context) error    { return nil }

// TestImportBatchBytes checks that a batch ends once its raw bytes reach
// Options.BatchBytes, and that the result is the same store.
func TestImportBatchBytes(t *testing.T) {
	var whole, small batchSizes
	st1, st2 := openStore(t), openStore(t)
	importOK(t, st1, sample("sample.mbox"), &Options{Hooks: []Hook{&whole}})
	// A batch bound below any message's size: one message per batch.
	importOK(t, st2, sample("sample.mbox"), &Options{Hooks: []Hook{&small}, BatchBytes: 1})
	if len(whole.sizes) > 2 {
		t.Errorf("default batches: %v, want the sample in one (plus the final bookkeeping)", whole.sizes)
	}
	n := 0
	for _, s := range small.sizes {
		if s > 1 {
			t.Fatalf("1-byte batches: %v, want at most one message each", small.sizes)
		}
		n += s
	}
	if n != 73 {
		t.Errorf("1-byte batches stored %d messages, want 73", n)
	}
	if a, b := ids(t, st1), ids(t, st2); len(a) != len(b) {
		t.Errorf("stores differ: %d and %d messages", len(a), len(b))
	}
}

func TestMemoryBudget(t *testing.T) {
	for _, tc := range []struct {
		budget, batch, goLimit int64
		segDocs, words         int
	}{
		{DefaultMemoryBudget, 8 << 20, 256 << 20, 4096, 262144},
		{1 << 30, (1 << 30) / 48, (1 << 30) / 3 * 2, 10922, 699050},
		{128 << 20, 1 << 20 * 128 / 48, (128 << 20) / 3 * 2, 1365, 87381},
		{16 << 20, 1 << 20, (16 << 20) / 3 * 2, 1024, 16384},
	} {
		if got := BatchBytesFor(tc.budget); got != tc.batch {
			t.Errorf("BatchBytesFor(%d MiB) = %d, want %d", tc.budget>>20, got, tc.batch)
		}
		if got := GoMemoryLimit(tc.budget); got != tc.goLimit {
			t.Errorf("GoMemoryLimit(%d MiB) = %d, want %d", tc.budget>>20, got, tc.goLimit)
		}
		if got := SegmentDocsFor(tc.budget); got != tc.segDocs {
			t.Errorf("SegmentDocsFor(%d MiB) = %d, want %d", tc.budget>>20, got, tc.segDocs)
		}
		if got := BatchWordsFor(tc.budget); got != tc.words {
			t.Errorf("BatchWordsFor(%d MiB) = %d, want %d", tc.budget>>20, got, tc.words)
		}
		if got := SearchOptions(tc.budget, nil).MaxBatchWords; got != tc.words {
			t.Errorf("SearchOptions(%d MiB) bounds segments at %d words, want %d", tc.budget>>20, got, tc.words)
		}
	}
}
