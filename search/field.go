package search

import (
	"reflect"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// wordsField is a text field analysed by wordAnalyzer straight into term
// frequencies. bleve's TextField first builds a token stream (a Token and
// a pointer per word and per stem) and then counts it into a map sized
// for every token; here the words are counted as they are found, with the
// locations and frequency records carved from a few slabs.
//
// A text field and its stem field (schema.go's stemField) are built as a
// pair by toDocument: the words field's scan counts the stems into its
// stems sibling too, whose own Analyze then has nothing left to do, so
// the text is read once for both. A field without a sibling (or a stem
// field analysed alone) scans by itself.
//
// The terms, positions and frequencies are those of TextField with the
// field's analyzer (TestWordsFieldSameAsTextField); locations carry no
// character offsets (Start and End are 0): phrases need only positions,
// nothing reads the offsets (there is no highlighting), and in the index
// they were about a third of the bytes of every location.
type wordsField struct {
	name           string
	arrayPositions []uint64
	options        index.FieldIndexingOptions
	value          []byte
	analyzer       wordAnalyzer
	stems          *wordsField // the stem field this field's scan fills too

	analysed bool
	length   int
	freqs    index.TokenFrequencies
}

var wordsFieldSize = int(reflect.TypeOf(wordsField{}).Size())

// asWordsField returns the wordsField doing f's work when f is a
// document.TextField of a text or stem field of the schema; other fields
// (keywords, numbers, and fields toDocument already built as wordsFields)
// are returned as they are.
func asWordsField(f document.Field) document.Field {
	tf, ok := f.(*document.TextField)
	if !ok || !tf.Options().IsIndexed() {
		return f
	}
	if k := specByName[tf.Name()].kind; k != kindText && k != kindStem {
		return f
	}
	wa, ok := tf.Analyzer().(wordAnalyzer)
	if !ok {
		return f
	}
	return &wordsField{name: tf.Name(), arrayPositions: tf.ArrayPositions(), options: tf.Options(), value: tf.Value(), analyzer: wa}
}

// newWordsFields returns the words field name and, when stems is not nil,
// its stem field built from the same scan.
func newWordsFields(name string, arrayPositions []uint64, value []byte, stems *fieldSpec) (*wordsField, *wordsField) {
	w := &wordsField{name: name, arrayPositions: arrayPositions, options: specByName[name].opts, value: value}
	if stems == nil {
		return w, nil
	}
	s := &wordsField{name: stems.name, arrayPositions: arrayPositions, options: stems.opts, value: value,
		analyzer: wordAnalyzer{stems: true, noWords: true}}
	w.stems = s
	w.analyzer.stems = true
	return w, s
}

func (f *wordsField) Name() string                        { return f.name }
func (f *wordsField) ArrayPositions() []uint64            { return f.arrayPositions }
func (f *wordsField) Options() index.FieldIndexingOptions { return f.options }
func (f *wordsField) Value() []byte                       { return f.value }
func (f *wordsField) NumPlainTextBytes() uint64           { return uint64(len(f.value)) }
func (f *wordsField) EncodedFieldType() byte              { return 't' }
func (f *wordsField) AnalyzedLength() int                 { return f.length }

func (f *wordsField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

func (f *wordsField) Size() int {
	n := wordsFieldSize + len(f.name) + 8*len(f.arrayPositions) + len(f.value)
	if f.freqs != nil {
		n += f.freqs.Size()
	}
	return n
}

func (f *wordsField) Analyze() {
	if f.analysed {
		return
	}
	in := f.value
	if f.options.IsStored() {
		// As TextField: terms alias the analysed bytes, which must not
		// be the stored value.
		in = append([]byte(nil), in...)
	}
	var words, stems *freqCounter
	if !f.analyzer.noWords {
		words = newFreqCounter(len(in), f.arrayPositions, f.options)
	}
	switch {
	case f.stems != nil:
		stems = newFreqCounter(len(in), f.arrayPositions, f.stems.options)
	case f.analyzer.noWords:
		stems = newFreqCounter(len(in), f.arrayPositions, f.options)
	}
	f.analyzer.scan(in, func(start, end, pos int, term []byte, _ analysis.TokenType, stem bool) {
		if stem {
			if stems != nil {
				stems.add(pos, term)
			}
		} else if words != nil {
			words.add(pos, term)
		}
	})
	switch {
	case f.stems != nil:
		f.freqs, f.length = words.tf, words.n
		f.stems.freqs, f.stems.length, f.stems.analysed = stems.tf, stems.n, true
	case f.analyzer.noWords:
		f.freqs, f.length = stems.tf, stems.n
	default:
		f.freqs, f.length = words.tf, words.n
	}
	f.analysed = true
}

// freqCounter counts the terms of one field into its term frequencies
// (analysis.TokenFrequency without the token stream in between), with the
// locations and frequency records carved from slabs.
type freqCounter struct {
	tf             index.TokenFrequencies
	n              int
	arrayPositions []uint64
	vectors        bool
	counts         bool
	slab           int // slab size, from the text length
	locs           []index.TokenLocation
	recs           []index.TokenFreq
	ptrs           []*index.TokenLocation
}

func newFreqCounter(textLen int, arrayPositions []uint64, options index.FieldIndexingOptions) *freqCounter {
	// About one distinct term per 12 bytes of mail text (words and stems
	// together); the map grows if there are more.
	return &freqCounter{
		tf:             make(index.TokenFrequencies, textLen/24+1),
		arrayPositions: arrayPositions,
		vectors:        options.IncludeTermVectors(),
		counts:         !options.SkipFreqNorm(),
		slab:           textLen,
	}
}

func (c *freqCounter) add(pos int, term []byte) {
	c.n++
	cur := c.tf[string(term)]
	if cur == nil {
		if len(c.recs) == cap(c.recs) {
			c.recs = make([]index.TokenFreq, 0, min(max(c.slab/32, 16), 512))
		}
		c.recs = append(c.recs, index.TokenFreq{Term: term})
		cur = &c.recs[len(c.recs)-1]
		c.tf[string(term)] = cur
		if c.vectors {
			if len(c.ptrs) == cap(c.ptrs) {
				c.ptrs = make([]*index.TokenLocation, 0, min(max(c.slab/32, 16), 512))
			}
			// A one-element window of the slab: a second location
			// appends to a copy, never over the next term's.
			c.ptrs = append(c.ptrs, nil)
			cur.Locations = c.ptrs[len(c.ptrs)-1 : len(c.ptrs) : len(c.ptrs)][:0]
		}
	}
	if c.vectors {
		if len(c.locs) == cap(c.locs) {
			c.locs = make([]index.TokenLocation, 0, min(max(c.slab/8, 16), 1024))
		}
		c.locs = append(c.locs, index.TokenLocation{ArrayPositions: c.arrayPositions, Position: pos})
		cur.Locations = append(cur.Locations, &c.locs[len(c.locs)-1])
	}
	if c.counts {
		cur.SetFrequency(cur.Frequency() + 1)
	}
}
