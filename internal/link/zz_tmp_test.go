package link

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"patchtrail/internal/store"
)

func TestTmpMeasure(t *testing.T) {
	dir := os.Getenv("TMPDATA")
	if dir == "" {
		t.Skip()
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := AddRepo(ctx, st, "liburing", "/work/.mirror/axboe+liburing/repo"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Link(ctx, st, &Options{IgnoreLinkTrailers: true, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v %v", res[0], time.Since(start))
	acc, err := Evaluate(ctx, st, "liburing")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(acc, "", " ")
	os.WriteFile("/tmp/lnk/acc.json", b, 0o644)
	t.Logf("prec %.4f rec %.4f pid %.4f truth %d linked %d correct %d other %d", acc.Precision, acc.Recall, acc.PatchIDRecall, acc.Truth, acc.Linked, acc.Correct, acc.LinkedWithoutTruth)
}
