package radar

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
)

func TestReadDatesTSV(t *testing.T) {
	good := "# cve\tfirst_published\nCVE-2024-1\t2024-02-26T18:21:24+01:00\n\nCVE-2025-2\t2025-01-02T00:00:00Z\n"
	d, err := ReadDatesTSV(strings.NewReader(good), "dates.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := d.Published("CVE-2024-1"); !ok || !got.Equal(time.Date(2024, 2, 26, 17, 21, 24, 0, time.UTC)) {
		t.Errorf("Published(CVE-2024-1) = %v, %v", got, ok)
	}
	if _, ok := d.Published("CVE-2000-1"); ok {
		t.Error("Published of an unknown id reports a date")
	}
	for _, bad := range []string{"CVE-1 2024-01-01\n", "# c\nCVE-1\tyesterday\n"} {
		_, err := ReadDatesTSV(strings.NewReader(bad), "dates.tsv")
		if err == nil || !strings.Contains(err.Error(), "dates.tsv:") {
			t.Errorf("ReadDatesTSV(%q) = %v, want an error naming the file and line", bad, err)
		}
	}
}

func TestLabelsFirst(t *testing.T) {
	l := NewLabels()
	l.Add("io_uring: fix a use-after-free", CVE{ID: "CVE-2025-2", Published: date("2025-03-01")})
	l.Add("io_uring: fix a use-after-free", CVE{ID: "CVE-2024-9", Published: date("2024-05-01")})
	key := TitleKey("[PATCH v2 3/4] io_uring: Fix a use-after-free")
	if c, ok := l.First(key, time.Time{}); !ok || c.ID != "CVE-2024-9" {
		t.Errorf("First(%q) = %v, %v, want CVE-2024-9", key, c, ok)
	}
	if _, ok := l.First(key, date("2024-05-01")); ok {
		t.Error("First counts a CVE published on the until date")
	}
	if c, ok := l.First(key, date("2024-05-02")); !ok || c.ID != "CVE-2024-9" {
		t.Errorf("First(until 2024-05-02) = %v, %v", c, ok)
	}
}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

const diffHead = "diff --git a/fs/foo/bar.c b/fs/foo/bar.c\nindex 1111111..2222222 100644\n--- a/fs/foo/bar.c\n+++ b/fs/foo/bar.c\n"

func TestShapeOf(t *testing.T) {
	tests := []struct {
		name string
		hunk string
		want Shape
	}{
		{"bounds check", "@@ -10,3 +10,5 @@ static int foo_read(struct foo *f, size_t len)\n \tint ret;\n+\tif (len > f->size)\n+\t\treturn -EINVAL;\n \tret = 0;\n \treturn ret;\n",
			Shape{BoundsCheck: true, ErrorExit: true, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_read"}}},
		{"null check", "@@ -10,3 +10,5 @@ static int foo_open(struct foo *f)\n \tint ret;\n+\tif (!f->ctx)\n+\t\tgoto out;\n \tret = 0;\n \treturn ret;\n",
			Shape{NullCheck: true, ErrorExit: true, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_open"}}},
		{"free reordered", "@@ -10,4 +10,4 @@ static void foo_release(struct foo *f)\n \tspin_lock(&f->lock);\n-\tkfree(f->buf);\n \tlist_del(&f->node);\n+\tkfree(f->buf);\n \tspin_unlock(&f->lock);\n",
			Shape{FreeReorder: true, Refcount: false, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_release"}}},
		{"zeroed before copy out", "@@ -10,3 +10,4 @@ static long foo_ioctl(struct foo *f, void __user *arg)\n \tstruct foo_info info;\n+\tmemset(&info, 0, sizeof(info));\n \tinfo.a = f->a;\n \treturn copy_to_user(arg, &info, sizeof(info));\n",
			Shape{ZeroInit: true, ZeroCopyOut: true, UserCopy: true, KernelCode: true, Lines: 1, Files: 1, Functions: []string{"foo_ioctl"}}},
		{"nospec and lock", "@@ -10,2 +10,4 @@ static int foo_get(struct foo *f, unsigned int idx)\n+\tmutex_lock(&f->mu);\n+\tidx = array_index_nospec(idx, f->nr);\n \treturn f->tab[idx];\n \tint x;\n",
			Shape{LockAdded: true, Nospec: true, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_get"}}},
		{"comment only", "@@ -10,2 +10,3 @@ static int foo_get(struct foo *f)\n+\t/* if (len > max) return -EINVAL; kfree(x) */\n \treturn 0;\n \tint x;\n",
			Shape{KernelCode: true, Lines: 1, Files: 1, Functions: []string{"foo_get"}}},
		{"bounds check on a length read from a buffer", "@@ -20,3 +20,5 @@ static int foo_parse(struct foo *f, const u8 *buf)\n \tu16 len = get_unaligned_le16(buf);\n+\tif (len > f->size)\n+\t\treturn -EINVAL;\n \tmemcpy(f->data, buf + 2, len);\n \treturn 0;\n",
			Shape{BoundsCheck: true, InputCheck: true, ErrorExit: true, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_parse"}}},
		{"bounds check on a header's length field", "@@ -20,3 +20,5 @@ static int foo_rx(struct foo *f, struct foo_hdr *hdr)\n \tint ret;\n+\tif (hdr->dlen < sizeof(*hdr))\n+\t\treturn -EPROTO;\n \tret = 0;\n \treturn ret;\n",
			Shape{BoundsCheck: true, InputCheck: true, ErrorExit: true, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_rx"}}},
		{"bounds check on internal state", "@@ -20,3 +20,5 @@ static int foo_grow(struct foo *f)\n \tint ret;\n+\tif (f->nr >= FOO_MAX)\n+\t\treturn -ENOSPC;\n \tret = 0;\n \treturn ret;\n",
			Shape{BoundsCheck: true, ErrorExit: true, KernelCode: true, Lines: 2, Files: 1, Functions: []string{"foo_grow"}}},
	}
	for _, tt := range tests {
		ps, err := patch.ParsePatches(diffHead + tt.hunk)
		if err != nil || len(ps) == 0 {
			t.Fatalf("%s: ParsePatches: %v (%d patches)", tt.name, err, len(ps))
		}
		got := ShapeOf(ps)
		tt.want.Paths = []string{"fs/foo/bar.c"}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s: ShapeOf mismatch (-want +got):\n%s", tt.name, d)
		}
	}
	ps, _ := patch.ParsePatches(strings.ReplaceAll(diffHead, "fs/foo/bar.c", "tools/testing/selftests/foo/bar.c") +
		"@@ -1,2 +1,3 @@ int main(void)\n+\tif (len > max) return -EINVAL;\n \treturn 0;\n \tint x;\n")
	if s := ShapeOf(ps); s.KernelCode || s.BoundsCheck {
		t.Errorf("ShapeOf(selftest) = %+v, want no kernel code and no check", s)
	}
}

func TestEvaluate(t *testing.T) {
	us := []Scored{
		{Score: 0.9, Positive: true, Days: 30, Tie: "a"},
		{Score: 0.8, Tie: "b"},
		{Score: 0.7, Positive: true, Days: 90, Tie: "c"},
		{Score: 0.1, Tie: "d"},
	}
	m := Evaluate(us)
	// Pairs: (a,b) (a,d) (c,b)=lost (c,d): 3 of 4.
	if m.AUC != 0.75 {
		t.Errorf("AUC = %v, want 0.75", m.AUC)
	}
	if want := (1.0 + 2.0/3) / 2; math.Abs(m.AP-want) > 1e-12 {
		t.Errorf("AP = %v, want %v", m.AP, want)
	}
	if m.P50 != 0.5 || m.Units != 4 || m.Positives != 2 {
		t.Errorf("P50, units, positives = %v, %d, %d", m.P50, m.Units, m.Positives)
	}
	if m.TopPos != 1 || m.MedianDays != 30 {
		t.Errorf("top 10 %%: %d positives, median %v days, want 1 and 30", m.TopPos, m.MedianDays)
	}
	// All tied: AUC 0.5, AP the base rate.
	for i := range us {
		us[i].Score = 0.5
	}
	if m := Evaluate(us); m.AUC != 0.5 || m.AP != 0.5 {
		t.Errorf("tied: AUC %v AP %v, want 0.5 and 0.5", m.AUC, m.AP)
	}
}

func synthetic(n int, seed uint64) []Example {
	var ex []Example
	x := seed
	next := func() float64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return float64(x%1000) / 1000
	}
	for i := 0; i < n; i++ {
		v := make([]float64, len(features))
		v[featureIndex["fixes"]] = math.Round(next())
		v[featureIndex["sanitizer_thread"]] = math.Round(next() * 0.6)
		v[featureIndex["feature_subject"]] = math.Round(next() * 0.7)
		z := -3 + 2*v[featureIndex["fixes"]] + 2.5*v[featureIndex["sanitizer_thread"]] - 2*v[featureIndex["feature_subject"]]
		ex = append(ex, Example{X: v, Positive: next() < sigmoid(z)})
	}
	return ex
}

func TestTrainDeterministic(t *testing.T) {
	ex := synthetic(3000, 42)
	a, err := Train(ex, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(synthetic(3000, 42), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Marshal(), b.Marshal()) {
		t.Errorf("two trainings on the same data differ:\n%s\n%s", a.Marshal(), b.Marshal())
	}
	back, err := ParseModel(a.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Marshal(), a.Marshal()) {
		t.Error("a model read back marshals differently")
	}
	// It learns the signs it was given.
	if a.Weights["fixes"] <= 0.5 || a.Weights["sanitizer_thread"] <= 0.5 || a.Weights["feature_subject"] >= -0.5 {
		t.Errorf("weights fixes %v sanitizer_thread %v feature_subject %v do not follow the data",
			a.Weights["fixes"], a.Weights["sanitizer_thread"], a.Weights["feature_subject"])
	}
	if _, err := Train(synthetic(10, 1)[:0], nil); err == nil {
		t.Error("Train without rows succeeded")
	}
}

func TestTrainPrior(t *testing.T) {
	prior, err := Train(synthetic(5000, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A few rows that say the opposite about fixes.
	var few []Example
	for i := 0; i < 6; i++ {
		v := make([]float64, len(features))
		v[featureIndex["fixes"]] = float64(i % 2)
		few = append(few, Example{X: v, Positive: i%2 == 0})
	}
	withPrior, err := Train(few, &TrainOptions{Prior: prior})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := Train(few, nil)
	if err != nil {
		t.Fatal(err)
	}
	dp := math.Abs(withPrior.Weights["fixes"] - prior.Weights["fixes"])
	da := math.Abs(alone.Weights["fixes"] - prior.Weights["fixes"])
	if dp >= da || withPrior.Weights["sanitizer_thread"] != prior.Weights["sanitizer_thread"] {
		t.Errorf("with few labels the prior's weights are not kept: fixes %v (prior %v, alone %v), sanitizer_thread %v (prior %v)",
			withPrior.Weights["fixes"], prior.Weights["fixes"], alone.Weights["fixes"], withPrior.Weights["sanitizer_thread"], prior.Weights["sanitizer_thread"])
	}
	if withPrior.Trained.Prior != "default model" {
		t.Errorf("Trained.Prior = %q", withPrior.Trained.Prior)
	}
}

func TestDefaultModel(t *testing.T) {
	m := Default()
	if len(m.Weights) == 0 {
		t.Fatal("the default model has no weights (run make radar-model)")
	}
	if len(m.Trained.Lists) == 0 {
		t.Error("the default model does not say what it was trained on")
	}
}

// The fixture thread: a syzbot report, the patch answering it, a review
// saying it is user-triggerable, an earlier fix of the same file, a
// cleanup, and a stable backport.
const fixture = `From syzbot Mon Jan  1 00:00:00 2024
From: syzbot <syzbot+1234@syzkaller.appspotmail.com>
To: foo@vger.kernel.org
Subject: [syzbot] [foo?] KASAN: slab-use-after-free Read in foo_release
Date: Mon, 3 Jun 2024 10:00:00 +0000
Message-ID: <report@google.com>

Hello,

syzbot found the following issue on:

BUG: KASAN: slab-use-after-free in foo_release+0x12/0x40 fs/foo/bar.c:12
Read of size 8 at addr ffff888012345678 by task syz-executor/123
Call Trace:
 foo_release+0x12/0x40

From patch Mon Jan  1 00:00:00 2024
From: Alice Dev <alice@example.org>
To: foo@vger.kernel.org
Subject: [PATCH] foo: fix use-after-free in foo_release
Date: Wed, 5 Jun 2024 10:00:00 +0000
Message-ID: <fix@example.org>
In-Reply-To: <report@google.com>
References: <report@google.com>

foo_release() frees the buffer before the node is unlinked.

Fixes: 0123456789ab ("foo: add the release path")
Reported-by: syzbot+1234@syzkaller.appspotmail.com
Closes: https://lore.kernel.org/r/report@google.com
Cc: stable@vger.kernel.org
Signed-off-by: Alice Dev <alice@example.org>
---
 fs/foo/bar.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/fs/foo/bar.c b/fs/foo/bar.c
index 1111111..2222222 100644
--- a/fs/foo/bar.c
+++ b/fs/foo/bar.c
@@ -10,4 +10,4 @@ static void foo_release(struct foo *f)
 	spin_lock(&f->lock);
-	kfree(f->buf);
 	list_del(&f->node);
+	kfree(f->buf);
 	spin_unlock(&f->lock);
-- 
2.45.0

From review Mon Jan  1 00:00:00 2024
From: Bob Maintainer <bob@example.org>
To: foo@vger.kernel.org
Subject: Re: [PATCH] foo: fix use-after-free in foo_release
Date: Thu, 6 Jun 2024 10:00:00 +0000
Message-ID: <review@example.org>
In-Reply-To: <fix@example.org>
References: <report@google.com> <fix@example.org>

> foo_release() frees the buffer before the node is unlinked.

Any unprivileged user can trigger this through close(), and the freed
buffer may be exploitable.

Reviewed-by: Bob Maintainer <bob@example.org>

From old Mon Jan  1 00:00:00 2023
From: Carol Dev <carol@example.org>
To: foo@vger.kernel.org
Subject: [PATCH] foo: add the release path
Date: Mon, 2 Jan 2023 10:00:00 +0000
Message-ID: <old@example.org>

Signed-off-by: Carol Dev <carol@example.org>
---
diff --git a/fs/foo/bar.c b/fs/foo/bar.c
index 0000000..1111111 100644
--- a/fs/foo/bar.c
+++ b/fs/foo/bar.c
@@ -10,2 +10,3 @@ static void foo_release(struct foo *f)
 	spin_lock(&f->lock);
+	kfree(f->buf);
 	spin_unlock(&f->lock);
-- 
2.40.0

From earlier Mon Jan  1 00:00:00 2023
From: Carol Dev <carol@example.org>
To: foo@vger.kernel.org
Subject: [PATCH] foo: fix an overflow in foo_read
Date: Mon, 6 Feb 2023 10:00:00 +0000
Message-ID: <earlier@example.org>

Signed-off-by: Carol Dev <carol@example.org>
---
diff --git a/fs/foo/bar.c b/fs/foo/bar.c
index 1111111..1111112 100644
--- a/fs/foo/bar.c
+++ b/fs/foo/bar.c
@@ -20,2 +20,4 @@ static int foo_read(struct foo *f, size_t len)
 	int ret;
+	if (len > f->size)
+		return -EINVAL;
 	return 0;
-- 
2.40.0

From stable Mon Jan  1 00:00:00 2024
From: Alice Dev <alice@example.org>
To: foo@vger.kernel.org
Subject: [PATCH 6.6.y] foo: fix use-after-free in foo_release
Date: Sat, 8 Jun 2024 10:00:00 +0000
Message-ID: <stable@example.org>

commit 89abcdef0123456789abcdef0123456789abcdef upstream.

Signed-off-by: Alice Dev <alice@example.org>
---
diff --git a/fs/foo/bar.c b/fs/foo/bar.c
index 1111111..2222222 100644
--- a/fs/foo/bar.c
+++ b/fs/foo/bar.c
@@ -10,4 +10,4 @@ static void foo_release(struct foo *f)
 	spin_lock(&f->lock);
-	kfree(f->buf);
 	list_del(&f->node);
+	kfree(f->buf);
 	spin_unlock(&f->lock);
-- 
2.45.0
`

// importMbox imports an mbox into a store with the indexer (set by
// indexer_test.go: the indexer imports this package, so only the
// external test package may import it).
var importMbox func(ctx context.Context, st *store.Store, src, list string) error

// FixtureForTest is the fixture archive, for the external tests.
func FixtureForTest() string { return fixture }

// SetChunkThreadsForTest sets the threads an update reads at once, for
// the external tests, until the test ends.
func SetChunkThreadsForTest(t testing.TB, n int) {
	old := chunkThreads
	chunkThreads = n
	t.Cleanup(func() { chunkThreads = old })
}

// SetImportForTest sets importMbox.
func SetImportForTest(f func(ctx context.Context, st *store.Store, src, list string) error) {
	importMbox = f
}

func loadFixture(t *testing.T) *Corpus {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "foo.mbox")
	if err := os.WriteFile(src, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "data"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := importMbox(ctx, st, src, "foo"); err != nil {
		t.Fatal(err)
	}
	c, err := Load(ctx, st, &LoadOptions{List: "foo"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rowOf(t *testing.T, rows []*Row, mid string) *Row {
	t.Helper()
	for _, r := range rows {
		if r.MessageID == mid {
			return r
		}
	}
	t.Fatalf("no row for <%s>", mid)
	return nil
}

func TestSignalsFromStore(t *testing.T) {
	c := loadFixture(t)
	rows := c.Units(time.Time{}, time.Time{}, nil)
	var mids []string
	for _, r := range rows {
		mids = append(mids, r.MessageID)
	}
	// The report, the review and the stable backport are no units.
	if d := cmp.Diff([]string{"fix@example.org", "old@example.org", "earlier@example.org"}, mids); d != "" {
		t.Errorf("units (-want +got):\n%s", d)
	}
	r := rowOf(t, rows, "fix@example.org")
	want := map[string]string{
		"fixes":             "fix@example.org",
		"fixes_age":         "fix@example.org",
		"cc_stable":         "fix@example.org",
		"fuzzer_patch":      "fix@example.org",
		"closes":            "fix@example.org",
		"sanitizer_thread":  "report@google.com",
		"answers_report":    "report@google.com",
		"reviewer_security": "review@example.org",
		"stable_backport":   "fix@example.org",
		"free_reordered":    "fix@example.org",
		"lock_added":        "",
	}
	for name, mid := range want {
		i := featureIndex[name]
		if mid == "" {
			if r.X[i] != 0 {
				t.Errorf("%s = %v, want 0", name, r.X[i])
			}
			continue
		}
		if r.X[i] == 0 || r.ev[i].mid != mid {
			t.Errorf("%s = %v with evidence <%s>, want set from <%s>", name, r.X[i], r.ev[i].mid, mid)
		}
	}
	if age := math.Expm1(r.X[featureIndex["fixes_age"]]); age < 1.3 || age > 1.5 {
		t.Errorf("Fixes: age %.2f years, want about 1.4 (the fixed commit's posting)", age)
	}
	if got := r.ev[featureIndex["reviewer_security"]].terms; !contains(got, "exploit") || !contains(got, "user-triggerable") {
		t.Errorf("reviewer terms %v, want exploit and user-triggerable", got)
	}
	m := &Model{Version: ModelVersion, Bias: -3, Weights: map[string]float64{"sanitizer_thread": 1.5, "fixes_age": 0.4}}
	sig := m.Signals(r)
	if len(sig) != 2 || sig[0].Name != "sanitizer_thread" || !strings.Contains(sig[0].Words, "KASAN") || sig[0].Evidence != "report@google.com" ||
		sig[1].Words != "Fixes: a commit 1 year old" {
		t.Errorf("Signals = %+v", sig)
	}
}

// A CVE published after the scoring date changes no score; one
// published before it does (through the history signals).
func TestNoLeakage(t *testing.T) {
	c := loadFixture(t)
	vector := func(l *Labels) []float64 {
		return rowOf(t, c.Units(time.Time{}, time.Time{}, l), "fix@example.org").X
	}
	none := vector(nil)
	later := NewLabels()
	later.Add("foo: fix use-after-free in foo_release", CVE{ID: "CVE-2024-1", Published: date("2024-07-01")})
	later.Add("foo: fix an overflow in foo_read", CVE{ID: "CVE-2024-2", Published: date("2024-06-10")})
	if d := cmp.Diff(none, vector(later)); d != "" {
		t.Errorf("CVEs published after the posting change its features:\n%s", d)
	}
	earlier := NewLabels()
	earlier.Add("foo: fix an overflow in foo_read", CVE{ID: "CVE-2024-2", Published: date("2024-03-01")})
	x := vector(earlier)
	if x[featureIndex["history_files"]] == 0 {
		t.Error("a CVE of an earlier fix of the same file, published before the posting, is not in history_files")
	}
	if x[featureIndex["history_functions"]] != 0 {
		t.Error("history_functions counts a fix of another function")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestRecordsRoundTrip(t *testing.T) {
	c := loadFixture(t)
	var b bytes.Buffer
	if err := c.WriteRecords(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadRecords(&b)
	if err != nil {
		t.Fatal(err)
	}
	a, z := c.Units(time.Time{}, time.Time{}, nil), back.Units(time.Time{}, time.Time{}, nil)
	if len(a) != len(z) {
		t.Fatalf("%d units, %d after the round trip", len(a), len(z))
	}
	for i := range a {
		if d := cmp.Diff(a[i].X, z[i].X); d != "" || a[i].MessageID != z[i].MessageID {
			t.Errorf("unit %d differs after the round trip:\n%s", i, d)
		}
	}
	if _, err := ReadRecords(strings.NewReader("junk")); err == nil {
		t.Error("ReadRecords(junk) succeeded")
	}
}

// Versions of one patch fold into one row, scored with what was known
// at the newest; each posting stays a unit of the evaluation.
func TestVersionsFolded(t *testing.T) {
	day := func(d int) time.Time { return date("2024-06-01").Add(time.Duration(d) * 24 * time.Hour) }
	mk := func(id int64, mid string, d int, version int, reported bool) *mail {
		m := &mail{id: id, mid: mid, thread: id, date: day(d), from: "alice@example.org", kind: kindPatch, patchTag: true,
			facts: &facts{subject: "[PATCH] foo: fix a race"}, key: "foo: fix a race", version: version, textEvidence: &textEvidence{}}
		if reported {
			m.reporters = []string{"bob@example.org"}
		}
		return m
	}
	other := &mail{id: 4, mid: "other@x", thread: 4, date: day(3), from: "carol@example.org", kind: kindPatch, patchTag: true,
		facts: &facts{subject: "[PATCH] foo: fix a race"}, key: "foo: fix a race", textEvidence: &textEvidence{}}
	c := index([]*mail{mk(1, "v1@x", 0, 1, true), mk(2, "v2@x", 5, 2, false), mk(3, "v3@x", 9, 3, false), other})
	rows := c.Patches(time.Time{}, time.Time{}, nil)
	if len(rows) != 2 {
		t.Fatalf("Patches = %d rows, want 2 (one per sender)", len(rows))
	}
	r := rows[0]
	if d := cmp.Diff([]string{"v1@x", "v2@x", "v3@x"}, r.Versions); d != "" || r.MessageID != "v3@x" {
		t.Errorf("row <%s> versions (-want +got):\n%s", r.MessageID, d)
	}
	if r.X[featureIndex["reported"]] != 1 || r.ev[featureIndex["reported"]].mid != "v1@x" {
		t.Error("a trailer of an earlier version is not carried into the folded row")
	}
	if got := r.X[featureIndex["versions"]]; math.Abs(math.Expm1(got)-3) > 1e-9 {
		t.Errorf("versions = %v, want log1p(3)", got)
	}
	units := c.Units(time.Time{}, time.Time{}, nil)
	if len(units) != 4 {
		t.Fatalf("Units = %d, want every posting", len(units))
	}
	if v := units[1].Versions; len(v) != 2 || v[1] != "v2@x" {
		t.Errorf("unit v2 folds %v, want v1 and v2 only", v)
	}
	// A window selects by the newest version's date.
	if rows := c.Patches(day(6), time.Time{}, nil); len(rows) != 1 || rows[0].MessageID != "v3@x" {
		t.Errorf("Patches from day 6 = %d rows", len(rows))
	}
}

// Searching only the lines that hold an anchor finds what searching the
// whole text finds.
func TestLineSearchSameAsWholeText(t *testing.T) {
	texts := []string{
		fixture,
		"BUG: KASAN: slab-use-after-free in foo\nCall Trace:\n",
		"An unprivileged user\ncan trigger this.\nAny local user can trigger a crash here, and leak\nkernel memory to user space.",
		"İstanbul: a NULL pointer dereference\nwith non-ASCII text that lowercases to more bytes: ẞ",
		strings.Repeat("lock lock lock\n", 50) + "possible circular locking dependency detected\n",
		"This is a vulnerability: an unprivileged process could crash the box.\nthe data race in foo, a race of bar; use-after-free\nout of bounds, overflow, out-of-bounds and double free\nCVE ids blanked",
	}
	lexicons := [][]term{memorySanitizers, otherReports, fuzzers, vulnClasses, reviewerWords}
	for i, s := range texts {
		tx := newText(s)
		for _, lex := range lexicons {
			for _, x := range lex {
				whole := x.re.MatchString(tx.s)
				if got := tx.match(x.anchors, x.re); got != whole {
					t.Errorf("text %d, term %q: line search %v, whole text %v", i, x.name, got, whole)
				}
			}
		}
		if got, want := BaselineWords(s), len(baselineWordRE.FindAllStringIndex(strings.ToLower(s), -1)); got != want {
			t.Errorf("text %d: BaselineWords = %d, whole text %d", i, got, want)
		}
		if got, want := baselineWords(tx), BaselineWords(s); got != want {
			t.Errorf("text %d: baselineWords from the anchors = %d, BaselineWords %d", i, got, want)
		}
	}
}

// The sender's history counts only CVEs published before the posting.
func TestNoLeakageSender(t *testing.T) {
	c := loadFixture(t)
	author := func(published string) float64 {
		l := NewLabels()
		l.Add("foo: add the release path", CVE{ID: "CVE-2024-3", Published: date(published)})
		return rowOf(t, c.Units(time.Time{}, time.Time{}, l), "earlier@example.org").X[featureIndex["history_author"]]
	}
	if v := author("2023-03-01"); v != 0 {
		t.Errorf("a CVE published after the posting sets history_author = %v", v)
	}
	if v := author("2023-01-20"); v == 0 {
		t.Error("a CVE of the sender's earlier patch, published before the posting, is not in history_author")
	}
}

func TestTreeTags(t *testing.T) {
	for subject, want := range map[string]int8{
		"[PATCH net 3/9] netfilter: ipset: fix race":      1,
		"[PATCH nf,v2 1/3] netfilter: fix leak":           1,
		"[PATCH v2 bpf] bpf: Disable migration":           1,
		"[PATCH rdma-rc] RDMA/core: fix":                  1,
		"[PATCH net-next 4/5] ipvs: use READ_ONCE":        -1,
		"[PATCH -next 1/2] smb: client: fix":              -1,
		"[PATCH for-next] io_uring: add":                  -1,
		"[PATCH v3] crypto: fix":                          0,
		"[PATCH 6.6] foo: fix":                            0,
		"[PATCH liburing] test: add":                      0,
		"[PATCH netfilter] netfilter: nothing is a tree ": 0,
	} {
		s := patch.ParseSubject(subject)
		if got := treeOf(&s); got != want {
			t.Errorf("treeOf(%q) = %d, want %d", subject, got, want)
		}
	}
}

func TestAppliedWords(t *testing.T) {
	for text, want := range map[string]bool{
		"Applied, thanks!":                                       true,
		"Thanks, applied to for-next.":                           true,
		"Patch applied.  Thanks.":                                true,
		"This series was applied to netdev/net.git (main):":      true,
		"I've queued it up for 6.9.":                             true,
		"tentatively merged into cifs-2.6.git for-next":          true,
		"Hi,\n\nLooks good.\n\nApplied to the fixes branch.":     true,
		"This does not apply on top of for-next, please rebase.": false,
		"Once applied, the reference is dropped twice.":          false,
		"> Applied, thanks":                                      false, // quoted: not in NonQuoted anyway
	} {
		if got := lineMatch(text, appliedAnchors, appliedRE); got != want && !strings.HasPrefix(text, ">") {
			t.Errorf("applied(%q) = %v, want %v", text, got, want)
		}
	}
	if !lineMatch("NAK, this breaks the ABI.", nakAnchors, nakRE) || lineMatch("the snake case names", nakAnchors, nakRE) {
		t.Error("NAK words")
	}
}

// Lists with different base rates get biases of their own: a feature
// that only tells the lists apart learns no weight.
func TestTrainGroupBiases(t *testing.T) {
	x := func(on bool) []float64 {
		v := make([]float64, len(features))
		if on {
			v[featureIndex["kernel_code"]] = 1
		}
		return v
	}
	var ex []Example
	// List 0: every row has kernel_code, one in four positive; list 1:
	// none has it, one in twenty positive.
	for g, every := range []int{4, 20} {
		for i := range 200 {
			ex = append(ex, Example{X: x(g == 0), Positive: i%every == 0, Group: g})
		}
	}
	opts := &TrainOptions{Lambda: 2}
	m, err := Train(ex, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Weights["kernel_code"]; math.Abs(w) > 0.05 {
		t.Errorf("kernel_code weight %v, want about 0 (the lists' biases hold their base rates)", w)
	}
	// Pooled as one list, the feature takes the difference.
	for i := range ex {
		ex[i].Group = 0
	}
	if m, err = Train(ex, opts); err != nil {
		t.Fatal(err)
	}
	if w := m.Weights["kernel_code"]; w < 1 {
		t.Errorf("kernel_code weight %v in one group, want > 1", w)
	}
}

// What happened next: a newer version under a reworded subject, and the
// same patch posted again by someone else for a tree of fixes, count
// within the horizon only; either tree of fixes sets fix_bound.
func TestWhatHappenedNext(t *testing.T) {
	day := func(d int) time.Time { return date("2024-06-01").Add(time.Duration(d) * 24 * time.Hour) }
	id := int64(0)
	mk := func(mid, from, subject string, d int) *mail {
		id++
		sub := patch.ParseSubject(subject)
		m := &mail{id: id, mid: mid, thread: id, date: day(d), from: from, kind: kindPatch, patchTag: true,
			facts: &facts{subject: subject}, key: TitleKey(subject), version: sub.Version, textEvidence: &textEvidence{}}
		m.tree = treeOf(&sub)
		return m
	}
	ms := []*mail{
		mk("a1@x", "alice@x", "[PATCH 2/3] foo: bar: fix a race in foo_open", 0),
		// A series mate and a newer version of it: not a rename of a1.
		mk("b1@x", "alice@x", "[PATCH 3/3] foo: bar: fix a race in foo_close", 0),
		mk("a2@x", "alice@x", "[PATCH v2 2/3] foo: bar: fix the race in foo_open with the lock", 3),
		mk("b2@x", "alice@x", "[PATCH v2 3/3] foo: bar: fix a race in foo_close", 2),
		// Renamed after the horizon: too late to count.
		mk("c1@x", "alice@x", "[PATCH] foo: baz: drop a stale pointer in baz_put", 10),
		mk("c2@x", "alice@x", "[PATCH v2] foo: baz: drop the stale pointer in baz_put", 30),
		// The maintainer's fixes tree series carries b; another's posting of c
		// for a development tree does not count.
		mk("m1@x", "bob@x", "[PATCH net 1/2] foo: bar: fix a race in foo_close", 5),
		mk("m2@x", "bob@x", "[PATCH net-next 2/2] foo: baz: drop a stale pointer in baz_put", 11),
	}
	c := index(ms)
	h := c.history(nil)
	get := func(mid, f string) (float64, string) {
		r := c.row(c.byMID[mid], h)
		i := featureIndex[f]
		return r.X[i], r.ev[i].mid
	}
	for _, tc := range []struct {
		mid, feature string
		want         float64
		evidence     string
	}{
		{"a1@x", "renamed_later", 1, "a2@x"},
		{"b1@x", "renamed_later", 0, ""},
		{"a2@x", "renamed_later", 0, ""},
		{"c1@x", "renamed_later", 0, ""},
		{"b1@x", "picked_fix_tree", 1, "m1@x"},
		{"b2@x", "picked_fix_tree", 1, "m1@x"},
		{"c1@x", "picked_fix_tree", 0, ""},
		{"c1@x", "reposted", 1, "m2@x"},
		{"m1@x", "picked_fix_tree", 0, ""},
		// On its way to a release as a fix: posted again for a tree of
		// fixes, or posted for one itself; not for a development tree.
		{"b1@x", "fix_bound", 1, "m1@x"},
		{"m1@x", "fix_bound", 1, "m1@x"},
		{"a1@x", "fix_bound", 0, ""},
		{"m2@x", "fix_bound", 0, ""},
		{"c1@x", "fix_bound", 0, ""},
	} {
		if v, ev := get(tc.mid, tc.feature); v != tc.want || ev != tc.evidence {
			t.Errorf("<%s> %s = %v (evidence <%s>), want %v (<%s>)", tc.mid, tc.feature, v, ev, tc.want, tc.evidence)
		}
	}
}

// An older version under another subject is folded into the newer one's
// row (its trailers and discussion count there) when it is the same
// patch: the same patch-id, the same files under the same prefix, or a
// similar subject; and only from the same sender within the horizon.
func TestReworded(t *testing.T) {
	day := func(d int) time.Time { return date("2024-06-01").Add(time.Duration(d) * 24 * time.Hour) }
	id := int64(0)
	mk := func(mid, from, subject string, d int, pid string, paths ...string) *mail {
		id++
		sub := patch.ParseSubject(subject)
		return &mail{id: id, mid: mid, thread: id, date: day(d), from: from, kind: kindPatch, patchTag: true,
			facts: &facts{subject: subject}, key: TitleKey(subject), version: sub.Version, patchID: patchHash(pid), paths: paths, textEvidence: &textEvidence{}}
	}
	reply := func(mid, parent, from string, d int, vuln ...string) *mail {
		id++
		return &mail{id: id, mid: mid, facts: &facts{parent: parent}, date: day(d), from: from, kind: kindReply, textEvidence: &textEvidence{vuln: vuln}}
	}
	ms := []*mail{
		// Same patch-id, subject reworded entirely.
		mk("p1@x", "alice@x", "[PATCH] foo: avoid a crash on close", 0, "aaaa", "fs/foo/a.c"),
		mk("p2@x", "alice@x", "[PATCH v2] foo: fix use-after-free of the file in foo_release", 3, "aaaa", "fs/foo/a.c"),
		// Same files and prefix, another diff.
		mk("f1@x", "alice@x", "[PATCH] bar: check the length", 0, "bbbb", "fs/bar/b.c"),
		mk("f2@x", "alice@x", "[PATCH v2] bar: reject short frames", 2, "cccc", "fs/bar/b.c"),
		// Same files, another prefix: another patch.
		mk("g1@x", "alice@x", "[PATCH] baz: tidy up", 0, "dddd", "fs/baz/c.c"),
		mk("g2@x", "alice@x", "[PATCH v2] qux: reject short frames", 2, "eeee", "fs/baz/c.c"),
		// Same patch-id from another sender, or after the horizon: not folded.
		mk("o1@x", "bob@x", "[PATCH] foo: avoid a crash on open", 1, "ffff"),
		mk("o2@x", "carol@x", "[PATCH v2] foo: fix a NULL dereference in foo_open", 2, "ffff"),
		mk("l1@x", "alice@x", "[PATCH] quux: avoid a crash", 0, "9999"),
		mk("l2@x", "alice@x", "[PATCH v2] quux: fix a NULL dereference", 20, "9999"),
		// A reviewer names the bug in a reply to the first version.
		reply("r1@x", "p1@x", "bob@x", 1, "use-after-free", "race"),
		reply("r2@x", "p1@x", "alice@x", 1, "out-of-bounds"),
	}
	ms[0].reporters = []string{"syzbot@x"}
	c := index(ms)
	h := c.history(nil)
	for _, tc := range []struct {
		mid  string
		want []string
	}{
		{"p2@x", []string{"p1@x", "p2@x"}},
		{"f2@x", []string{"f1@x", "f2@x"}},
		{"g2@x", []string{"g2@x"}},
		{"o2@x", []string{"o2@x"}},
		{"l2@x", []string{"l2@x"}},
	} {
		r := c.row(c.byMID[tc.mid], h)
		if d := cmp.Diff(tc.want, r.Versions); d != "" {
			t.Errorf("<%s> versions (-want +got):\n%s", tc.mid, d)
		}
	}
	r := c.row(c.byMID["p2@x"], h)
	if i := featureIndex["reported"]; r.X[i] != 1 || r.ev[i].mid != "p1@x" {
		t.Error("the Reported-by of the reworded first version is not carried into the newer row")
	}
	if i := featureIndex["reply_vuln"]; r.X[i] != 1 || r.ev[i].mid != "r1@x" || !slices.Equal(r.ev[i].terms, []string{"use-after-free"}) {
		t.Errorf("reply_vuln = %v %+v, want 1 from <r1@x> (use-after-free; not the sender's own words, not a race)", r.X[i], r.ev[i])
	}
	rows := c.Patches(time.Time{}, time.Time{}, nil)
	var heads []string
	for _, r := range rows {
		heads = append(heads, r.MessageID)
	}
	for _, gone := range []string{"p1@x", "f1@x"} {
		if slices.Contains(heads, gone) {
			t.Errorf("Patches lists <%s>, which its reworded newer version carries", gone)
		}
	}
}

// The share of the earlier fixes under the same subject prefix that got
// a CVE counts CVEs published before the posting only.
func TestHistoryPrefix(t *testing.T) {
	day := func(d int) time.Time { return date("2024-06-01").Add(time.Duration(d) * 24 * time.Hour) }
	mk := func(id int64, subject string, d int) *mail {
		return &mail{id: id, mid: fmt.Sprintf("m%d@x", id), thread: id, date: day(d), from: "alice@x", kind: kindPatch, patchTag: true,
			facts: &facts{subject: subject, fixes: []fixRef{{sha: "123456789abc"}}}, key: TitleKey(subject), textEvidence: &textEvidence{}}
	}
	c := index([]*mail{mk(1, "[PATCH] foo: bar: fix a leak", 0), mk(2, "[PATCH] foo: bar: fix a race", 5),
		mk(3, "[PATCH] foo: baz: fix a race", 6), mk(4, "[PATCH] foo: bar: fix an overflow", 30)})
	x := func(published int) float64 {
		l := NewLabels()
		l.Add("foo: bar: fix a leak", CVE{ID: "CVE-2024-9", Published: day(published)})
		return c.row(c.byMID["m4@x"], c.history(l)).X[featureIndex["history_prefix"]]
	}
	if v := x(40); v != 0 {
		t.Errorf("a CVE published after the posting sets history_prefix = %v", v)
	}
	// One of the two earlier fixes under "foo: bar" got a CVE: 1/(2+2).
	if v := x(20); v != 0.25 {
		t.Errorf("history_prefix = %v, want 0.25", v)
	}
}

// storedKind reads the kind of stored evidence as decoding it does, for
// every kind, keys that spell the member, and evidence that does not
// decode.
func TestStoredKind(t *testing.T) {
	for k := kindOther; k <= kindStable; k++ {
		for _, key := range []string{"", "io_uring: fix", `a "kind":2 key`, `"kind":3`} {
			r := Record{Key: key, Kind: uint8(k), Links: []string{`x"kind":4@y`}}
			b, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			back, err := decodeEvidence(1, b)
			if err != nil {
				t.Fatal(err)
			}
			if got := storedKind(b); got != kind(back.Kind) || got != k {
				t.Errorf("storedKind(%s) = %d, decoded %d, want %d", b, got, back.Kind, k)
			}
		}
	}
	for _, b := range []string{"", "junk", `{"kind":`} {
		if got := storedKind([]byte(b)); got != kindOther {
			t.Errorf("storedKind(%q) = %d, want %d", b, got, kindOther)
		}
	}
}

// textFields are the members of Record that Record.text reads: what a
// slim mail drops, and slimRecord leaves out.
var textFields = map[string]bool{"Reports": true, "Reviewer": true, "Trailers": true, "Applied": true, "Nak": true,
	"Vuln": true, "SubjVuln": true, "Baseline": true, "Reviewed": true, "FixWord": true, "Feature": true, "Cleanup": true, "Words": true}

// slimRecord skips exactly the members of Record that are text
// evidence, by their json names; the others are decoded as Record's.
func TestSlimRecordFields(t *testing.T) {
	rt, st := reflect.TypeOf(Record{}), reflect.TypeOf(slimRecord{})
	name := func(f reflect.StructField) string { return strings.Split(f.Tag.Get("json"), ",")[0] }
	skip := map[string]string{} // json name: member
	for i := range st.NumField() {
		if f := st.Field(i); !f.Anonymous {
			skip[name(f)] = f.Name
		}
	}
	for i := range rt.NumField() {
		f := rt.Field(i)
		if name(f) == "-" {
			continue
		}
		member, skipped := skip[name(f)]
		delete(skip, name(f))
		switch {
		case textFields[f.Name] && !skipped:
			t.Errorf("slimRecord decodes text evidence %s", f.Name)
		case !textFields[f.Name] && skipped:
			t.Errorf("slimRecord skips Record.%s, which a slim mail keeps", f.Name)
		case skipped && member != f.Name:
			t.Errorf("slimRecord.%s skips Record.%s", member, f.Name)
		}
	}
	for n, member := range skip {
		t.Errorf("slimRecord.%s skips %q, no member of Record", member, n)
	}
}

// A slim mail decoded with decodeSlimEvidence is the slim mail decoded
// whole, on every message of the corpus's first 3,000.
func TestSlimEvidence(t *testing.T) {
	n, failed := 0, false
	// No t.Fatal in the callback: it would leave the corpus reader's git
	// process waiting.
	testcorpus.Messages(t, func(i int, _ string, raw []byte) {
		if i >= 3000 || failed {
			return
		}
		pm, err := message.Parse(raw, nil)
		if err != nil {
			return
		}
		b := Evidence(pm, nil)
		h := &store.RadarHeader{ID: int64(i + 1), MessageID: fmt.Sprint("m", i, "@x"), Thread: 7, Subject: pm.Subject, From: "A@x", Date: pm.Date}
		whole, err := decodeEvidence(h.ID, b)
		if err != nil {
			t.Error(err)
			failed = true
			return
		}
		part, err := decodeSlimEvidence(h.ID, b)
		if err != nil {
			t.Error(err)
			failed = true
			return
		}
		mw, mp := fromStored(h, whole), fromStored(h, part)
		mw.slim()
		mp.slim()
		if !reflect.DeepEqual(mw, mp) {
			t.Errorf("message %d: slim mail decoded whole\n%+v\nand slim\n%+v", i, mw, mp)
			failed = true
			return
		}
		n++
	})
	if n < 2000 && !failed {
		t.Errorf("compared %d messages", n)
	}
}

// SetLocalForTest sets localQueue and localMails.
func SetLocalForTest(t testing.TB, queue, mails int) {
	oq, om := localQueue, localMails
	localQueue, localMails = queue, mails
	t.Cleanup(func() { localQueue, localMails = oq, om })
}

// LastUpdateForTest reports how many messages the scorer's last update
// read and whether it read only the neighbourhood of its queue.
func LastUpdateForTest(s *Scorer) (read int, local bool) { return s.lastRead, s.lastLocal }
