package search

import (
	"context"
	"fmt"
	"math"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// The numbers of the index (dates and arrival times in unix seconds, sizes
// in bytes) are integers, and a bleve numeric field indexes a float64's
// sortable bits (numeric.Float64ToInt64) at sixteen precisions, one term
// every four bits (shifts 0, 4, ..., 60), for its range queries. An
// integer x in [2^k, 2^(k+1)) uses k bits of its float64's 52-bit
// mantissa: the 52−k bits below are zero, so its sortable bits end in as
// many zeros (x > 0) or ones (x < 0), and its terms at every shift up to
// 52−k tell apart exactly the same values. These are the terms unique to
// nearly every document: a date (k = 30) has five, at shifts 0 to 16, a
// size of a few kilobytes (k ≈ 12) ten, at shifts 0 to 36; with them a
// number's terms were a third of the io-uring epoch's dictionary entries.
// numberField leaves them out (from minShift up), and a range
// (numberRange) widens each bound b to its block of 2^minShift(b)
// sortable values (coarseBounds): the block lies within b's power of two,
// where integers are more than the block apart, so it adds no integer to
// the range, and the range never asks for a term below the shift a value
// of that power of two is indexed from. A number that is no integer keeps
// every precision and its bound is not widened, so answers are bleve's
// for any value.

// minShift is the shift from which f's terms are indexed: the multiple
// of four at or below the number of zero bits under an integer's
// mantissa (52−k for |f| in [2^k, 2^(k+1)); 52 for zero), 0 for a number
// that is no integer.
func minShift(f float64) uint {
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0
	}
	if f == 0 {
		return 52
	}
	_, exp := math.Frexp(f) // |f| = frac × 2^exp, frac in [0.5, 1)
	zeros := 52 - (exp - 1)
	if zeros <= 0 {
		return 0
	}
	return uint(zeros) &^ (document.DefaultPrecisionStep - 1)
}

// numberField is a numeric field without its terms below minShift: the
// stored value, the field type and everything else are bleve's
// NumericField's.
type numberField struct {
	*document.NumericField
	value  float64
	length int
	freqs  index.TokenFrequencies
}

func newNumberField(name string, v float64, opts index.FieldIndexingOptions) *numberField {
	return &numberField{NumericField: document.NewNumericFieldWithIndexingOptions(name, nil, v, opts), value: v}
}

// Analyze makes the field's terms: one per precision from minShift.
func (n *numberField) Analyze() {
	v := numeric.Float64ToInt64(n.value)
	n.freqs = make(index.TokenFrequencies, 64/document.DefaultPrecisionStep)
	for shift := minShift(n.value); shift < 64; shift += document.DefaultPrecisionStep {
		term := numeric.MustNewPrefixCodedInt64(v, shift)
		tf := &index.TokenFreq{Term: term}
		if !n.Options().SkipFreqNorm() {
			tf.SetFrequency(1)
		}
		n.freqs[string(term)] = tf
	}
	n.length = len(n.freqs)
}

// AnalyzedLength is the number of terms Analyze made.
func (n *numberField) AnalyzedLength() int { return n.length }

// AnalyzedTokenFrequencies are the terms Analyze made.
func (n *numberField) AnalyzedTokenFrequencies() index.TokenFrequencies { return n.freqs }

// coarseBounds widens the inclusive bounds of a numeric range so that
// its query asks for no term below the shift a value next to a bound is
// indexed from: lo down to the first, hi up to the last sortable value of
// its block of 2^minShift. Between an integer bound and the end of its
// block there is no integer, and every number indexed is one, so the
// range matches the same documents. A nil bound (open end) is left as it
// is.
func coarseBounds(lo, hi *float64) (*float64, *float64) {
	if lo != nil {
		mask := int64(1)<<minShift(*lo) - 1
		v := numeric.Int64ToFloat64(numeric.Float64ToInt64(*lo) &^ mask)
		lo = &v
	}
	if hi != nil {
		mask := int64(1)<<minShift(*hi) - 1
		v := numeric.Int64ToFloat64(numeric.Float64ToInt64(*hi) | mask)
		hi = &v
	}
	return lo, hi
}

// numberRange is an inclusive range of a numeric field: the documents of
// bleve's NumericRangeQuery, scored as it scores them, for bounds widened
// by coarseBounds. Its terms are counted out value by value
// (rangeTerms): bleve's numeric range searcher steps through the bytes
// between a range's first and last term, and where the two differ in
// several of their 7-bit digits (a range across a power of two, such as
// z:2147483646..2147483649) that is 256 steps per digit, billions of
// dictionary lookups for one query. An open end is the first or last
// sortable value, which needs no term at the precisions below the
// coarsest (bleve's −Inf and +Inf each asked for up to 15 terms at every
// precision, each looked up in every segment).
type numberRange struct {
	field  string
	lo, hi int64 // sortable values (numeric.Float64ToInt64), inclusive
}

func newNumberRange(field string, lo, hi *float64) *numberRange {
	lo, hi = coarseBounds(lo, hi)
	q := &numberRange{field: field, lo: math.MinInt64, hi: math.MaxInt64}
	if lo != nil {
		q.lo = numeric.Float64ToInt64(*lo)
	}
	if hi != nil {
		q.hi = numeric.Float64ToInt64(*hi)
	}
	return q
}

// maxRangeTerms bounds the terms of a range: splitting it takes at most
// 2×15 per precision and 31 at the last, 481 in all.
const maxRangeTerms = 512

func (q *numberRange) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	terms, err := rangeTerms(q.lo, q.hi)
	if err != nil {
		return nil, err
	}
	if c, ok := i.(index.IndexReaderContains); ok && len(terms) > 0 {
		// Only the terms the segments hold: each other one would be a
		// searcher of its own finding nothing.
		dict, err := c.FieldDictContains(q.field)
		if err != nil {
			return nil, err
		}
		kept := terms[:0]
		for _, t := range terms {
			if found, err := dict.Contains(t); err == nil && found {
				kept = append(kept, t)
			}
		}
		terms = kept
		if d, ok := dict.(index.FieldDict); ok {
			if err := d.Close(); err != nil {
				return nil, err
			}
		}
	}
	return searcher.NewMultiTermSearcherBytes(ctx, i, terms, q.field, 1, options, true)
}

// rangeTerms returns the prefix-coded terms that cover the sortable
// values lo to hi (inclusive), at precision steps of
// document.DefaultPrecisionStep: bleve's split of a numeric range
// (Lucene's), with each part's terms counted out by value.
func rangeTerms(lo, hi int64) ([][]byte, error) {
	var terms [][]byte
	add := func(lo, hi int64, shift uint) error {
		first, last := lo>>shift, hi>>shift
		if n := uint64(last - first); n >= maxRangeTerms || len(terms)+int(n) >= maxRangeTerms {
			return fmt.Errorf("search: numeric range %x..%x: more than %d terms", lo, hi, maxRangeTerms)
		}
		for v := first; ; v++ {
			t, err := numeric.NewPrefixCodedInt64(v<<shift, shift)
			if err != nil {
				return err
			}
			terms = append(terms, t)
			if v == last {
				return nil
			}
		}
	}
	if lo > hi {
		return nil, nil
	}
	const step = document.DefaultPrecisionStep
	for shift := uint(0); ; shift += step {
		diff := int64(1) << (shift + step)
		mask := (int64(1)<<step - 1) << shift
		hasLower := lo&mask != 0
		hasUpper := hi&mask != mask
		nextLo, nextHi := lo&^mask, hi&^mask
		if hasLower {
			nextLo = (lo + diff) &^ mask
		}
		if hasUpper {
			nextHi = (hi - diff) &^ mask
		}
		if shift+step >= 64 || nextLo > nextHi || nextLo < lo || nextHi > hi {
			// The last precision, or the next has no whole block left.
			if err := add(lo, hi, shift); err != nil {
				return nil, err
			}
			return terms, nil
		}
		if hasLower {
			if err := add(lo, lo|mask, shift); err != nil {
				return nil, err
			}
		}
		if hasUpper {
			if err := add(hi&^mask, hi, shift); err != nil {
				return nil, err
			}
		}
		lo, hi = nextLo, nextHi
	}
}
