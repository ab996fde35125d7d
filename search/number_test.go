package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/numeric"
)

// TestNumberRanges checks z:, rt: and dt: ranges against the numbers
// themselves, with bounds at, next to and between the values indexed, on
// both sides of powers of two (where the shift a number is indexed from
// changes: 2^13 and 2^33 drop it by four), of zero, of the epoch (negative dates) and of 2^52 (from
// where integers keep every precision): widening a bound to its block
// (coarseBounds) must add or lose no document. Ranges across a power of
// two (z:2147483646..2147483649) took bleve's numeric range searcher
// billions of dictionary lookups.
func TestNumberRanges(t *testing.T) {
	sizes := []int64{0, 1, 2, 15, 16, 17, 1023, 1024, 1025, 1<<20 - 1, 1 << 20, 1<<20 + 1,
		1<<31 - 1, 1 << 31, 8192, 1<<33 - 1, 1 << 33, 1<<32 - 2, 1<<32 - 1, 1 << 32, 1<<32 + 1, 1<<32 + 1<<20, 5_000_000_000, 1 << 40, 1<<40 + 1}
	seconds := []int64{-1 << 31, -86400*365*10 - 1, -1, 0, 1, 86399, 1_700_000_000, 1_700_000_001,
		1<<32 - 1, 1 << 32, 1<<32 + 1, 1 << 34, 1<<52 - 1, 1 << 52, 1<<52 + 1, 1<<53 + 2}
	var docs []*Doc
	for i, z := range sizes {
		docs = append(docs, &Doc{MessageID: fmt.Sprintf("z%d@test", i), Subject: "sized",
			Date: time.Unix(1_600_000_000, 0), Size: z})
	}
	for i, s := range seconds {
		docs = append(docs, &Doc{MessageID: fmt.Sprintf("t%d@test", i), Subject: "timed",
			Date: time.Unix(s, 0).UTC(), Received: time.Unix(s, 0).UTC(), Size: 1})
	}
	ix := openTestIndex(t, docs)
	ctx := context.Background()
	got := func(q string) []string {
		t.Helper()
		r, err := ix.Search(ctx, q, &SearchOptions{Limit: 1000})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out := ids(r)
		slices.Sort(out)
		return out
	}
	want := func(prefix string, vals []int64, lo, hi int64, hasLo, hasHi bool) []string {
		var out []string
		for i, v := range vals {
			if (!hasLo || v >= lo) && (!hasHi || v <= hi) {
				out = append(out, fmt.Sprintf("%s%d@test", prefix, i))
			}
		}
		slices.Sort(out)
		return out
	}
	near := func(vals []int64) []int64 {
		var out []int64
		for _, v := range vals {
			out = append(out, v-1, v, v+1)
		}
		return out
	}
	for _, lo := range near(sizes) {
		if lo < 0 || lo >= 1e12 {
			continue // z: takes no negative size, and 12 digits at most
		}
		for _, hi := range near(sizes) {
			if hi < lo || hi >= 1e12 {
				continue
			}
			q := fmt.Sprintf("s:sized z:%d..%d", lo, hi)
			if g, w := got(q), want("z", sizes, lo, hi, true, true); !slices.Equal(g, w) {
				t.Errorf("%s: %v, want %v", q, g, w)
			}
		}
		q := fmt.Sprintf("s:sized z:%d..", lo)
		if g, w := got(q), want("z", sizes, lo, 0, true, false); !slices.Equal(g, w) {
			t.Errorf("%s: %v, want %v", q, g, w)
		}
		q = fmt.Sprintf("s:sized z:..%d", lo)
		if g, w := got(q), want("z", sizes, 0, lo, false, true); !slices.Equal(g, w) {
			t.Errorf("%s: %v, want %v", q, g, w)
		}
	}
	stamp := func(s int64) string { return time.Unix(s, 0).UTC().Format("20060102150405") }
	for _, lo := range near(seconds) {
		for _, hi := range near(seconds) {
			if hi < lo {
				continue
			}
			if hi < 1<<36 { // dates of four-digit years
				q := fmt.Sprintf("s:timed dt:%s..%s", stamp(lo), stamp(hi))
				if g, w := got(q), want("t", seconds, lo, hi, true, true); !slices.Equal(g, w) {
					t.Errorf("%s: %v, want %v", q, g, w)
				}
			}
			if lo >= 10000 {
				q := fmt.Sprintf("s:timed rt:%d..%d", lo, hi)
				if g, w := got(q), want("t", seconds, lo, hi, true, true); !slices.Equal(g, w) {
					t.Errorf("%s: %v, want %v", q, g, w)
				}
			}
		}
	}
}

// TestNumberFieldTerms checks which precisions a number is indexed at:
// from the zero bits under an integer's mantissa, every one for the
// others.
func TestNumberFieldTerms(t *testing.T) {
	for _, c := range []struct {
		v     float64
		terms int
	}{
		{0, 3}, {1, 3}, {-5, 4}, {4096, 6}, {5000, 6}, {1_700_000_000, 11}, {1<<32 - 1, 11}, {1 << 32, 11}, {-(1 << 32), 11},
		{1 << 52, 16}, {1<<53 + 2, 16}, {0.5, 16}, {1e300, 16},
	} {
		f := newNumberField("size", c.v, optNumber)
		f.Analyze()
		if f.AnalyzedLength() != c.terms || len(f.AnalyzedTokenFrequencies()) != c.terms {
			t.Errorf("%v: %d terms (%d), want %d", c.v, f.AnalyzedLength(), len(f.AnalyzedTokenFrequencies()), c.terms)
		}
		if n, err := f.Number(); err != nil || n != c.v {
			t.Errorf("%v: Number() = %v, %v", c.v, n, err)
		}
	}
}

// TestRangeTermsOpenEnds checks that an open end costs no terms at the
// fine precisions: every value is the 16 terms of shift 60, and a range
// from a date on takes only the terms above the date's block.
func TestRangeTermsOpenEnds(t *testing.T) {
	all, err := rangeTerms(math.MinInt64, math.MaxInt64)
	if err != nil || len(all) != 16 {
		t.Errorf("every value: %d terms, %v; want 16", len(all), err)
	}
	lo, _ := coarseBounds(ptr(1_700_000_000.0), nil)
	from, err := rangeTerms(numeric.Float64ToInt64(*lo), math.MaxInt64)
	if err != nil || len(from) == 0 || len(from) > 15*10+16 {
		t.Errorf("from a date on: %d terms, %v", len(from), err)
	}
	for _, term := range from {
		if shift, _ := numeric.PrefixCoded(term).Shift(); shift < minShift(1_700_000_000) {
			t.Errorf("from a date on: a term at shift %d", shift)
		}
	}
}

func ptr[T any](v T) *T { return &v }
