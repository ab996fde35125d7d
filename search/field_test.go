package search

import (
	"testing"

	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// sameFreqs reports the first difference between two analyses of one
// field, "" when there is none.
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
			if la.Start != lb.Start || la.End != lb.End || la.Position != lb.Position || la.Field != lb.Field ||
				len(la.ArrayPositions) != len(lb.ArrayPositions) {
				return "location of " + term + " differs"
			}
		}
	}
	return ""
}

// checkWordsField analyses doc's fields both ways, as bleve's TextField
// with wordAnalyzer and as wordsField, and fails on any difference.
func checkWordsField(t *testing.T, what string, doc *document.Document) {
	t.Helper()
	for _, f := range doc.Fields {
		wf := asWordsField(f)
		if wf == f {
			continue
		}
		f.Analyze()
		wf.Analyze()
		if f.AnalyzedLength() != wf.AnalyzedLength() {
			t.Errorf("%s: field %s: length %d, want %d", what, f.Name(), wf.AnalyzedLength(), f.AnalyzedLength())
		}
		if d := sameFreqs(f.AnalyzedTokenFrequencies(), wf.AnalyzedTokenFrequencies()); d != "" {
			t.Errorf("%s: field %s: %s", what, f.Name(), d)
		}
	}
}

func TestWordsFieldSameAsTextField(t *testing.T) {
	words, kw := wordAnalyzer{stems: true}, NewMapping().AnalyzerNamed("keyword")
	for _, text := range []string{
		"", " ", "Fixes: io_uring: don't fix the fixes AT&T 5.15 1,000 fixed fixing",
		"Jens Axboe <axboe@kernel.dk>", "fs/io_uring.c", "日本語のテキスト と English",
		"a " + string(make([]byte, 100)) + " " + "x123456789012345678901234567890123456789012345678901234567890123456789 b",
		"Ünïcödé wörds ŁÓDŹ’s and ’quotes’ ‍zero‍width",
		"repeat repeat repeat Repeat REPEAT repeats repeated",
	} {
		d := &Doc{MessageID: "x@y", Subject: text, NonQuoted: text + "\n" + text, From: []Address{{Name: text, Addr: "a@b"}},
			DiffFileNames: []string{text, "b/" + text}}
		doc, err := toDocument(d, words, kw)
		if err != nil {
			t.Fatal(err)
		}
		checkWordsField(t, "text "+text, doc)
	}
	docs, _ := corpusDocs(t, 400)
	for _, d := range docs {
		doc, err := toDocument(d, words, kw)
		if err != nil {
			t.Fatal(err)
		}
		checkWordsField(t, d.MessageID, doc)
	}
}
