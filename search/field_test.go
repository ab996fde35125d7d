package search

import (
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// sameFreqs reports the first difference between two analyses of one
// field, "" when there is none. Locations are compared by position and
// array positions; ours (b) carry no character offsets.
func sameFreqs(a, b index.TokenFrequencies) string {
	if len(a) != len(b) {
		return "different number of terms"
	}
	for term, fa := range a {
		fb := b[term]
		switch {
		case fb == nil:
			return "term " + term + " missing"
		case string(fa.Term) != string(fb.Term) || fa.Frequency() != fb.Frequency() || len(fa.Locations) != len(fb.Locations):
			return "term " + term + " differs"
		}
		for i, la := range fa.Locations {
			lb := fb.Locations[i]
			if la.Position != lb.Position || la.Field != lb.Field || !slices.Equal(la.ArrayPositions, lb.ArrayPositions) {
				return "location of " + term + " differs"
			}
			if lb.Start != 0 || lb.End != 0 {
				return "location of " + term + " has offsets"
			}
		}
	}
	return ""
}

// analyzerOf is the analyzer bleve's TextField would use for a field of
// the schema (NewMapping).
func analyzerOf(name string) wordAnalyzer {
	if specByName[name].kind == kindStem {
		return wordAnalyzer{stems: true, noWords: true}
	}
	return wordAnalyzer{}
}

// checkWordsField analyses doc's word and stem fields (built by toDocument
// as wordsField pairs, the words' scan filling the stems) and, for each,
// the same value as bleve's TextField with the field's analyzer and as a
// lone wordsField (asWordsField), and fails on any difference.
func checkWordsField(t *testing.T, what string, doc *document.Document) {
	t.Helper()
	for _, f := range doc.Fields {
		f.Analyze()
	}
	stemFields := 0
	for _, f := range doc.Fields {
		if _, ok := f.(*wordsField); !ok {
			continue
		}
		if specByName[f.Name()].kind == kindStem {
			stemFields++
		}
		ref := document.NewTextFieldCustom(f.Name(), f.ArrayPositions(), f.Value(), f.Options(), analyzerOf(f.Name()))
		alone := asWordsField(ref)
		if _, ok := alone.(*wordsField); !ok {
			t.Fatalf("%s: field %s: asWordsField kept the TextField", what, f.Name())
		}
		ref.Analyze()
		alone.Analyze()
		for _, got := range []document.Field{f, alone} {
			if ref.AnalyzedLength() != got.AnalyzedLength() {
				t.Errorf("%s: field %s: length %d, want %d", what, f.Name(), got.AnalyzedLength(), ref.AnalyzedLength())
			}
			if d := sameFreqs(ref.AnalyzedTokenFrequencies(), got.AnalyzedTokenFrequencies()); d != "" {
				t.Errorf("%s: field %s: %s", what, f.Name(), d)
			}
		}
	}
	if stemFields == 0 {
		t.Errorf("%s: no stem field in the document", what)
	}
}

func TestWordsFieldSameAsTextField(t *testing.T) {
	kw := NewMapping().AnalyzerNamed("keyword")
	for _, text := range []string{
		"", " ", "Fixes: io_uring: don't fix the fixes AT&T 5.15 1,000 fixed fixing",
		"Jens Axboe <axboe@kernel.dk>", "fs/io_uring.c", "日本語のテキスト と English",
		"a " + string(make([]byte, 100)) + " " + "x123456789012345678901234567890123456789012345678901234567890123456789 b",
		"Ünïcödé wörds ŁÓDŹ’s and ’quotes’ ‍zero‍width",
		"repeat repeat repeat Repeat REPEAT repeats repeated",
	} {
		d := &Doc{MessageID: "x@y", Subject: text, NonQuoted: text + "\n" + text, From: []Address{{Name: text, Addr: "a@b"}},
			DiffFileNames: []string{text, "b/" + text}}
		doc, err := toDocument(d, kw)
		if err != nil {
			t.Fatal(err)
		}
		checkWordsField(t, "text "+text, doc)
	}
	docs, _ := corpusDocs(t, 400)
	for _, d := range docs {
		doc, err := toDocument(d, kw)
		if err != nil {
			t.Fatal(err)
		}
		checkWordsField(t, d.MessageID, doc)
	}
}

// analysedFields analyses every field of doc and returns each field's
// analysis by name and array position.
func analysedFields(doc *document.Document) map[string]document.Field {
	out := map[string]document.Field{}
	for _, f := range doc.Fields {
		f = asWordsField(f)
		f.Analyze()
		key := f.Name()
		for _, p := range f.ArrayPositions() {
			key += "/" + string(rune('0'+p))
		}
		out[key] = f
	}
	return out
}

// TestAnalyzeSameDocument: a document indexed with the analysis made
// ahead (Analyze) of it, or of the document it was made from, indexes
// the same terms as one analysed when indexed, also when a field changed
// after Analyze.
func TestAnalyzeSameDocument(t *testing.T) {
	kw := NewMapping().AnalyzerNamed("keyword")
	for _, d := range testDocs() {
		an, err := Analyze(d)
		if err != nil {
			t.Fatal(err)
		}
		changed := *d // what a caller changes after Analyze
		changed.Subject += " changed words"
		changed.MessageIDs = append(slices.Clip(changed.MessageIDs), "other@id")
		changed.States = []string{StateApplied}
		other := &Doc{MessageID: d.MessageID, Subject: d.Subject, From: d.From, NonQuoted: "other text", States: []string{StateOfflist}}
		reused := 0
		for _, c := range []struct {
			name string
			doc  *Doc
		}{{"ahead", d}, {"changed", &changed}, {"other", other}} {
			gdoc, err := toDocumentWith(c.doc, kw, an)
			if err != nil {
				t.Fatal(err)
			}
			wdoc, err := toDocument(c.doc, kw)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range gdoc.Fields {
				if w, ok := f.(*wordsField); ok && w.analysed {
					reused++
				}
			}
			got, want := analysedFields(gdoc), analysedFields(wdoc)
			if len(got) != len(want) {
				t.Errorf("%s %s: %d fields, want %d", d.MessageID, c.name, len(got), len(want))
			}
			for k, wf := range want {
				gf := got[k]
				if gf == nil {
					t.Errorf("%s %s: field %s missing", d.MessageID, c.name, k)
					continue
				}
				if gf.AnalyzedLength() != wf.AnalyzedLength() {
					t.Errorf("%s %s: field %s: length %d, want %d", d.MessageID, c.name, k, gf.AnalyzedLength(), wf.AnalyzedLength())
				}
				if diff := sameFreqs(wf.AnalyzedTokenFrequencies(), gf.AnalyzedTokenFrequencies()); diff != "" {
					t.Errorf("%s %s: field %s: %s", d.MessageID, c.name, k, diff)
				}
			}
		}
		if reused == 0 {
			t.Errorf("%s: no analysed field reused", d.MessageID)
		}
	}
}
