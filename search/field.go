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
// locations and frequency records carved from a few slabs. The terms,
// positions and offsets are those of TextField with wordAnalyzer
// (TestWordsFieldSameAsTextField); it only allocates less, which is most
// of the analysis cost of an import.
type wordsField struct {
	name           string
	arrayPositions []uint64
	options        index.FieldIndexingOptions
	value          []byte
	stems          bool

	length int
	freqs  index.TokenFrequencies
}

var wordsFieldSize = int(reflect.TypeOf(wordsField{}).Size())

// asWordsField returns the wordsField doing f's work when f is a text
// field of the word analyzer (kindText in the schema); other fields are
// returned as they are.
func asWordsField(f document.Field) document.Field {
	tf, ok := f.(*document.TextField)
	if !ok || specByName[tf.Name()].kind != kindText || !tf.Options().IsIndexed() {
		return f
	}
	wa, ok := tf.Analyzer().(wordAnalyzer)
	if !ok {
		return f
	}
	return &wordsField{name: tf.Name(), arrayPositions: tf.ArrayPositions(), options: tf.Options(), value: tf.Value(), stems: wa.stems}
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
	in := f.value
	if f.options.IsStored() {
		// As TextField: terms alias the analysed bytes, which must not
		// be the stored value.
		in = append([]byte(nil), in...)
	}
	f.freqs, f.length = wordFrequencies(wordAnalyzer{stems: f.stems}, in, f.arrayPositions, f.options)
}

// wordFrequencies is analysis.TokenFrequency(a.Analyze(in), ...) without
// the token stream in between.
func wordFrequencies(a wordAnalyzer, in []byte, arrayPositions []uint64, options index.FieldIndexingOptions) (index.TokenFrequencies, int) {
	// About one distinct term per 12 bytes of mail text (words and stems
	// together); the map grows if there are more.
	tf := make(index.TokenFrequencies, len(in)/12+1)
	vectors, counts := options.IncludeTermVectors(), !options.SkipFreqNorm()
	var locs []index.TokenLocation
	var recs []index.TokenFreq
	var ptrs []*index.TokenLocation
	n := 0
	a.scan(in, func(start, end, pos int, term []byte, _ analysis.TokenType) {
		n++
		cur := tf[string(term)]
		if cur == nil {
			if len(recs) == cap(recs) {
				recs = make([]index.TokenFreq, 0, min(max(len(in)/16, 16), 512))
			}
			recs = append(recs, index.TokenFreq{Term: term})
			cur = &recs[len(recs)-1]
			tf[string(term)] = cur
			if vectors {
				if len(ptrs) == cap(ptrs) {
					ptrs = make([]*index.TokenLocation, 0, min(max(len(in)/16, 16), 512))
				}
				// A one-element window of the slab: a second location
				// appends to a copy, never over the next term's.
				ptrs = append(ptrs, nil)
				cur.Locations = ptrs[len(ptrs)-1 : len(ptrs) : len(ptrs)][:0]
			}
		}
		if vectors {
			if len(locs) == cap(locs) {
				locs = make([]index.TokenLocation, 0, min(max(len(in)/8, 16), 1024))
			}
			locs = append(locs, index.TokenLocation{ArrayPositions: arrayPositions, Start: start, End: end, Position: pos})
			cur.Locations = append(cur.Locations, &locs[len(locs)-1])
		}
		if counts {
			cur.SetFrequency(cur.Frequency() + 1)
		}
	})
	return tf, n
}
