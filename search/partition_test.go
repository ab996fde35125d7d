package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// spreadDocs are n synthetic messages dated unevenly over 2016–2024
// (bursts, a silent year, a few undated or absurdly dated ones).
func spreadDocs(n int) []*Doc {
	docs := newSynth(7).docs(n)
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	span := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - start
	for i, d := range docs {
		sec := start + r.Int64N(span)
		if r.IntN(3) == 0 { // a burst in spring 2023
			sec = time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC).Unix() + r.Int64N(30*86400)
		}
		if y := time.Unix(sec, 0).UTC().Year(); y == 2019 {
			sec += 366 * 86400 // nothing in 2019
		}
		d.Date = time.Unix(sec, 0).UTC()
		switch i {
		case 5:
			d.Date = time.Time{}
		case 6:
			d.Date = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
		case 7:
			d.Date = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
		case 8: // the same second as another: the id's hash bits order them
			d.Date = docs[9].Date
		}
	}
	return docs
}

// createUnpartitioned makes an empty index in the layout written before
// partitions: hash shards at the top, no layout in the meta file.
func createUnpartitioned(t *testing.T, dir string, shards int) {
	t.Helper()
	for i := 0; i < shards; i++ {
		s, err := bleve.NewUsing(shardDir(dir, i), NewMapping(), scorch.Name, scorch.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if err := writeMeta(dir, meta{SchemaVersion: SchemaVersion, Shards: shards}); err != nil {
		t.Fatal(err)
	}
}

// TestPartitionsSameAnswers checks that an index partitioned by time
// answers every search exactly as one index of all time (the layout before
// partitions, which it still opens): the same hits in the same order and
// the same totals, for every span, sort, page, thread collapsing and
// Iterate (by relevance: the same totals and hits, scored per shard).
func TestPartitionsSameAnswers(t *testing.T) {
	// Groups of one partition and up: the test's partitions are small.
	defer func(n uint64) { minGroupDocs = n }(minGroupDocs)
	minGroupDocs = 1
	docs := spreadDocs(1000)
	ctx := context.Background()
	flat := filepath.Join(t.TempDir(), "flat")
	createUnpartitioned(t, flat, 2)
	ref, err := Open(flat, &Options{CacheEntries: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	indexAll(t, ref, docs, 1500)
	if keys, span := ref.Partitions(); len(keys) != 1 || keys[0] != "" || span != "" {
		t.Fatalf("unpartitioned index: partitions %q, span %q", keys, span)
	}
	s := newSynth(7)
	queries := []string{
		s.vocab[0], s.vocab[1] + " " + s.vocab[2], s.vocab[4000], "s:" + s.vocab[3], "s:re",
		"d:20230401..20230415", "d:2017..2018", "d:..2016-06-01", "d:2024-12-01..", "s:re AND d:2020..2022",
		s.vocab[0] + " OR d:2018-01-01..2018-02-01", s.vocab[5] + " NOT s:re", "mid:" + docs[100].MessageID,
		"nosuchwordanywhere", "dfn:io_uring/" + s.vocab[2] + ".c",
	}
	opts := []SearchOptions{
		{}, {Limit: 7, Offset: 33}, {Limit: 50, Offset: 300}, {Limit: 1000},
		{Threads: true}, {Threads: true, Limit: 20, Offset: 40},
		{Sort: SortRelevance}, {Sort: SortRelevance, Offset: 20, Limit: 15}, {Sort: SortRelevance, Threads: true},
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	// Quarters behave as months and years do (TestSpanKeys checks their
	// ranges); one shard a partition keeps the ~100 month partitions cheap.
	for _, span := range []string{SpanYear, SpanMonth} {
		t.Run(span, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ix")
			ix, err := Open(dir, &Options{Span: span, Shards: 1, CacheEntries: -1, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			indexAll(t, ix, docs, 1500)
			keys, got := ix.Partitions()
			if got != span || len(keys) < 5 || !slices.IsSortedFunc(keys, func(a, b string) int { return strings.Compare(b, a) }) {
				t.Fatalf("partitions %q (span %q): want several, newest first, span %q", keys, got, span)
			}
			if slices.Contains(keys, spanKey(span, time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC).Unix())) {
				t.Errorf("a partition for the silent 2019: %q", keys)
			}
			if n, _ := ix.DocCount(); n != uint64(len(docs)) {
				t.Errorf("DocCount %d, want %d", n, len(docs))
			}
			for _, q := range queries {
				for _, o := range opts {
					o.Now = now
					want, err1 := ref.Search(ctx, q, &o)
					got, err2 := ix.Search(ctx, q, &o)
					if err1 != nil || err2 != nil {
						t.Fatalf("%q %+v: %v / %v", q, o, err1, err2)
					}
					same := slices.Equal(ids(got), ids(want))
					if o.Sort == SortRelevance {
						// Scores use the statistics of the shard a hit is
						// in (bleve's TF-IDF): shards split otherwise
						// score otherwise. Only the count must agree.
						same = len(ids(got)) == len(ids(want))
					}
					if got.TotalApprox || got.Total != want.Total || !same {
						t.Errorf("%q %+v: total %d (approx %t), %d hits; all-time index: %d, %d hits; first difference at %d", q, o, got.Total, got.TotalApprox, len(ids(got)), want.Total, len(ids(want)), firstDiff(ids(got), ids(want)))
					}
				}
				for _, o := range []SearchOptions{{}, {Offset: 17}, {Threads: true}, {Sort: SortRelevance}} {
					o.Now = now
					a, b := iterIDs(t, ref, q, &o), iterIDs(t, ix, q, &o)
					if o.Sort == SortRelevance {
						slices.Sort(a)
						slices.Sort(b)
					}
					if !slices.Equal(a, b) {
						t.Errorf("Iterate %q %+v: %d hits, all-time index %d", q, o, len(b), len(a))
					}
				}
			}
		})
	}
}

// TestDatePagesOwnSortKeys checks that every hit of a date-sorted page
// carries its own order key and that the page is in strictly descending
// key order, when the page is gathered from partitions of one shard
// searched alone and then several at once. bleve's alias shares the sort
// values' arrays with a sort order that was used on one index before
// (sortOrder); a request that reused one sort order then gave hits with
// the keys of other documents, in a wrong order.
func TestDatePagesOwnSortKeys(t *testing.T) {
	defer func(n uint64) { minGroupDocs = n }(minGroupDocs)
	minGroupDocs = 1
	docs := spreadDocs(1200)
	want := make(map[string]string, len(docs))
	for _, d := range docs {
		want[d.MessageID] = strconv.FormatInt(orderKey(d.Date, d.MessageID), 10)
	}
	ix, err := Open(filepath.Join(t.TempDir(), "ix"), &Options{Span: SpanMonth, Shards: 1, CacheEntries: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	indexAll(t, ix, docs, 1500)
	s := newSynth(7)
	ctx := context.Background()
	for _, q := range []string{s.vocab[0], s.vocab[1], "s:re", "d:2016..2022"} {
		for _, o := range []SearchOptions{{}, {Threads: true}} {
			p, err := ix.prepare(q, &o)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1000, 60} {
				res, err := ix.page(ctx, p, size, 0, nil, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.hits) < min(size, 100) {
					t.Fatalf("%q: %d hits, want more to test anything", q, len(res.hits))
				}
				prev := math.Inf(1)
				for i, h := range res.hits {
					k, _ := strconv.ParseFloat(h.DecodedSort[0], 64)
					if h.DecodedSort[0] != want[h.ID] || k >= prev {
						t.Errorf("%q %+v page of %d: hit %d %s has order key %s (previous %.0f), its own is %s", q, o, size, i, h.ID, h.DecodedSort[0], prev, want[h.ID])
						break
					}
					prev = k
				}
			}
		}
	}
}

func iterIDs(t *testing.T, ix *Index, q string, o *SearchOptions) []string {
	t.Helper()
	var out []string
	if err := ix.Iterate(context.Background(), q, o, func(h Hit) error {
		out = append(out, h.MessageID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// estimateIndex indexes docs into quarter partitions for the tests of
// estimated totals, with the page searched in the newest partition alone
// and the rest counted (minGroupDocs 1), words as well (exactTotals
// off); countBudget, minGroupDocs and exactTotals are restored when the
// test ends.
func estimateIndex(t *testing.T, docs []*Doc) *Index {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), "ix"), &Options{Span: SpanQuarter, CacheEntries: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	indexAll(t, ix, docs, 1500)
	b, n, e := countBudget, minGroupDocs, exactTotals
	t.Cleanup(func() { countBudget, minGroupDocs, exactTotals = b, n, e })
	minGroupDocs = 1
	exactTotals = false // the words' totals would be exact
	return ix
}

// TestPartitionsTotalEstimate checks the estimate of a total beyond the
// counting budget: flagged, and near the true count.
func TestPartitionsTotalEstimate(t *testing.T) {
	ix := estimateIndex(t, spreadDocs(1500))
	ctx := context.Background()
	for _, q := range []string{"s:re", newSynth(7).vocab[0]} {
		countBudget = 1 << 62
		exact, err := ix.Search(ctx, q, &SearchOptions{Limit: 5})
		if err != nil || exact.TotalApprox {
			t.Fatalf("%q: %v, approx %t", q, err, exact != nil && exact.TotalApprox)
		}
		countBudget = 100
		est, err := ix.Search(ctx, q, &SearchOptions{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if !est.TotalApprox || !slices.Equal(ids(est), ids(exact)) {
			t.Errorf("%q: estimate %d approx %t, hits %q; want approx and the hits %q", q, est.Total, est.TotalApprox, ids(est), ids(exact))
		}
		if r := float64(est.Total) / float64(exact.Total); r < 0.6 || r > 1.6 {
			t.Errorf("%q: estimated %d, counted %d", q, est.Total, exact.Total)
		}
		// Relevance counts every hit.
		rel, err := ix.Search(ctx, q, &SearchOptions{Limit: 5, Sort: SortRelevance})
		if err != nil || rel.TotalApprox || rel.Total != exact.Total {
			t.Errorf("%q by relevance: total %d approx %t, %v; want %d", q, rel.Total, rel.TotalApprox, err, exact.Total)
		}
	}
}

// TestPhraseTotalEstimate checks that the total of a query with a phrase
// is estimated once partitions of more than countBudget documents were
// counted, even with fewer hits than that (counting a phrase costs per
// candidate document), while a word with as many hits is still counted.
func TestPhraseTotalEstimate(t *testing.T) {
	ix := estimateIndex(t, spreadDocs(1500))
	ctx := context.Background()
	for _, tc := range []struct {
		q      string
		approx bool
	}{
		{`b:"Signed-off-by"`, true}, // a third of the messages
		{`b:signed`, false},         // the same ones, a word
	} {
		countBudget = 1 << 62
		exact, err := ix.Search(ctx, tc.q, &SearchOptions{Limit: 5})
		if err != nil || exact.TotalApprox {
			t.Fatalf("%q: %v, approx %t", tc.q, err, exact != nil && exact.TotalApprox)
		}
		countBudget = 600 // fewer hits than that, more documents
		if exact.Total >= countBudget || 3*exact.Total < countBudget {
			t.Fatalf("%q: %d hits; the test wants between 200 and 600", tc.q, exact.Total)
		}
		got, err := ix.Search(ctx, tc.q, &SearchOptions{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if got.TotalApprox != tc.approx || !slices.Equal(ids(got), ids(exact)) {
			t.Errorf("%q: total %d approx %t, hits %q; want approx %t and the hits %q", tc.q, got.Total, got.TotalApprox, ids(got), tc.approx, ids(exact))
		}
		if r := float64(got.Total) / float64(exact.Total); r < 0.6 || r > 1.6 || !tc.approx && r != 1 {
			t.Errorf("%q: total %d, counted %d", tc.q, got.Total, exact.Total)
		}
	}
}

// oldFashionedDocs are spreadDocs(1500) whose subjects start with the
// phrase "old fashioned" in most messages before 2021 and few after: a
// phrase whose share changed over the years.
func oldFashionedDocs() []*Doc {
	docs := spreadDocs(1500)
	cut := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, d := range docs {
		if d.Date.Before(cut) && i%5 != 0 || i%20 == 0 {
			d.Subject = "old fashioned " + d.Subject
		}
	}
	return docs
}

// TestTotalEstimateFollowsWords checks that an estimated total follows
// where the index says the query's words are, not the partitions' sizes:
// a word in most messages before 2021 and few after is estimated from
// the newest partitions' hits per word count, which is exact for a word
// (scaled by documents it came out at a fraction of the total), and a
// phrase or an AND of it and a common word is estimated from the
// documents holding all their words (candidates): exactly here, where
// the phrase's words are always together (from the rarest word's count,
// the AND was 4 % off).
func TestTotalEstimateFollowsWords(t *testing.T) {
	docs := oldFashionedDocs()
	ix := estimateIndex(t, docs)
	ctx := context.Background()
	for _, tc := range []struct {
		q   string
		tol float64 // largest relative error
	}{
		{"s:fashioned", 0},
		{`s:"old fashioned"`, 0.01}, // its words always together: their AND is the phrase
		{"s:fashioned AND s:re", 0.01},
	} {
		countBudget = 1 << 62
		exact, err := ix.Search(ctx, tc.q, &SearchOptions{Limit: 5})
		if err != nil || exact.TotalApprox {
			t.Fatalf("%q: %v, approx %t", tc.q, err, exact != nil && exact.TotalApprox)
		}
		countBudget = 10
		est, err := ix.Search(ctx, tc.q, &SearchOptions{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if !est.TotalApprox || !slices.Equal(ids(est), ids(exact)) {
			t.Errorf("%q: estimate %d approx %t, hits %q; want approx and the hits %q", tc.q, est.Total, est.TotalApprox, ids(est), ids(exact))
		}
		if e := math.Abs(float64(est.Total)/float64(exact.Total) - 1); e > tc.tol {
			t.Errorf("%q: estimated %d, counted %d (error %.2f, at most %.2f)", tc.q, est.Total, exact.Total, e, tc.tol)
		}
	}
}

// TestPartitionsLayout checks the meta file, reopening, deletion from the
// right partition and the refusal of a damaged layout.
func TestPartitionsLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ix")
	ctx := context.Background()
	ix, err := Open(dir, &Options{Span: SpanQuarter, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := ix.Batch()
	for i, d := range []string{"2021-02-03", "2021-05-01", "2023-12-31", "2021-03-31"} {
		date, _ := time.Parse("2006-01-02", d)
		b.Index(&Doc{MessageID: fmt.Sprintf("m%d@x", i), Subject: "hello " + d, Date: date})
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	var m meta
	raw, _ := os.ReadFile(filepath.Join(dir, MetaFile))
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Layout != layoutTime || m.Span != SpanQuarter || !slices.Equal(m.Partitions, []string{"2021q1", "2021q2", "2023q4"}) {
		t.Fatalf("meta %s", raw)
	}
	// The span on disk wins.
	ix, err = Open(dir, &Options{Span: SpanMonth})
	if err != nil {
		t.Fatal(err)
	}
	if keys, span := ix.Partitions(); span != SpanQuarter || len(keys) != 3 {
		t.Errorf("reopened: %q %s", keys, span)
	}
	if err := ix.Delete(ctx, "<m3@x>"); err != nil {
		t.Fatal(err)
	}
	r, err := ix.Search(ctx, "s:hello", nil)
	if err != nil || r.Total != 3 || !slices.Equal(ids(r), []string{"m2@x", "m1@x", "m0@x"}) {
		t.Errorf("after delete: %v %v", r, err)
	}
	ix.Close()

	for _, bad := range []string{
		`{"schema_version": %d, "shards": 2, "layout": "time", "span": "week", "partitions": []}`,
		`{"schema_version": %d, "shards": 2, "layout": "list", "span": "year", "partitions": []}`,
		`{"schema_version": %d, "shards": 2, "layout": "time", "span": "year", "partitions": ["2021q1"]}`,
	} {
		os.WriteFile(filepath.Join(dir, MetaFile), []byte(fmt.Sprintf(bad, SchemaVersion)), 0o644)
		if ix, err := Open(dir, nil); err == nil {
			ix.Close()
			t.Errorf("opened with meta %s", bad)
		}
	}
}

func TestSpanKeys(t *testing.T) {
	for _, c := range []struct {
		span, date, key string
	}{
		{SpanYear, "2023-12-31T23:59:59Z", "2023"},
		{SpanQuarter, "2023-04-01T00:00:00Z", "2023q2"},
		{SpanQuarter, "2023-03-31T23:59:59Z", "2023q1"},
		{SpanMonth, "2024-02-29T12:00:00Z", "2024-02"},
		{SpanYear, "1970-01-01T00:00:00Z", "1970"},
	} {
		d, _ := time.Parse(time.RFC3339, c.date)
		sec := clampSec(d)
		k := spanKey(c.span, sec)
		lo, hi, err := keyRange(c.span, k)
		if k != c.key || err != nil || sec < lo || sec >= hi {
			t.Errorf("%s %s: key %q [%d, %d) %v; want %q holding %d", c.span, c.date, k, lo, hi, err, c.key, sec)
		}
	}
	for _, bad := range [][2]string{{SpanYear, "2023q1"}, {SpanQuarter, "2023q5"}, {SpanMonth, "2023-13"}, {SpanMonth, "23-01"}, {"week", "2023"}} {
		if _, _, err := keyRange(bad[0], bad[1]); err == nil {
			t.Errorf("keyRange(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPhraseEstimateCold checks the estimate of a phrase's total on an
// index larger than its process keeps mapped (coldPages): scaled by the
// documents of the partitions, where on any other index it is scaled by
// the documents holding the phrase's words (candidates), and that only
// a read-only index whose segments pass its resident target is cold.
func TestPhraseEstimateCold(t *testing.T) {
	docs := oldFashionedDocs()
	dir := filepath.Join(t.TempDir(), "ix")
	w, err := Open(dir, &Options{Span: SpanQuarter, CacheEntries: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	indexAll(t, w, docs, 1500)
	if w.coldPages() {
		t.Error("a writable index is cold")
	}
	w.Close()
	open := func(resident int64) *Index {
		ix, err := Open(dir, &Options{ReadOnly: true, CacheEntries: -1, ResidentBytes: resident, MappedBytes: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		return ix
	}
	warm, cold := open(0), open(1) // 0: the default target, far above this index
	if warm.coldPages() || !cold.coldPages() {
		t.Fatalf("cold: %t with the default target, %t with 1 byte; want false, true", warm.coldPages(), cold.coldPages())
	}
	ctx := context.Background()
	p, err := cold.prepare(`s:"old fashioned"`, &SearchOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	parts := cold.parts
	k := len(parts) / 3 // the newest third seen, the rest left
	seen, left := parts[:k], parts[k:]
	const hits = 100
	byCands, err := estimateRest(ctx, p, seen, left, hits, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	byDocs, err := estimateRest(ctx, p, seen, left, hits, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := docCount(seen)
	dl, _ := docCount(left)
	if want := uint64(math.Round(hits * float64(dl) / float64(ds))); byDocs != want {
		t.Errorf("cold estimate %d, want %d (%d hits × %d documents left / %d seen)", byDocs, want, hits, dl, ds)
	}
	c := candidates(p.q)
	cs, _, _ := exactCount(seen, c, nil)
	cl, _, _ := exactCount(left, c, nil)
	if want := uint64(math.Round(hits * float64(cl) / float64(cs))); byCands != want {
		t.Errorf("estimate %d, want %d (%d hits × %d candidates left / %d seen)", byCands, want, hits, cl, cs)
	}
	if byCands == byDocs {
		t.Errorf("both estimates are %d: the test's phrase does not tell them apart", byDocs)
	}
	// A words-only query is counted exactly on a cold index too.
	countBudget = 10
	defer func() { countBudget = 10000 }()
	res, err := cold.Search(ctx, "s:fashioned", &SearchOptions{Limit: 5})
	if err != nil || res.TotalApprox {
		t.Fatalf("s:fashioned on the cold index: %v, approx %t", err, res != nil && res.TotalApprox)
	}
}
