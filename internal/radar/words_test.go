package radar

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPostingWords(t *testing.T) {
	for _, tc := range []struct {
		subject, changelog string
		want               []string
	}{
		{"io_uring: fix UAF in poll", "", []string{"fix", "in", "io_uring", "poll", "s:fix", "s:in", "s:io_uring", "s:poll", "s:uaf", "uaf"}},
		{"ab: cd", "The 2nd check of len is missing since commit 1234567abc.\n\nFixes: 1234567abcde (\"x: add y\")\nReported-by: A <a@b.c>\nSigned-off-by: B <b@c.d>\n> quoted words\n",
			[]string{"ab", "cd", "check", "commit", "is", "len", "missing", "of", "s:ab", "s:cd", "since", "the"}},
	} {
		if got := postingWords(tc.subject, tc.changelog); !cmp.Equal(got, tc.want) {
			t.Errorf("postingWords(%q, %q) = %q, want %q", tc.subject, tc.changelog, got, tc.want)
		}
	}
}

// wordRows are rows of three lists whose words tell the label: "overflow"
// in one posting in two of the positives, "refactor" in negatives; each
// list has a word of its own.
func wordRows() []Example {
	var ex []Example
	for g := range 3 {
		for i := range 400 {
			pos := i%8 == 0
			w := []string{"the", "patch", fmt.Sprintf("list%d", g)}
			switch {
			case pos && i%16 == 0:
				w = append(w, "overflow")
			case !pos && i%3 == 0:
				w = append(w, "refactor")
			case !pos && i%50 == 1:
				w = append(w, "overflow")
			}
			x := make([]float64, len(features))
			x[featureIndex["fixes"]] = float64(i % 2)
			ex = append(ex, Example{X: x, Positive: pos, Group: g, Words: w})
		}
	}
	return ex
}

func TestTrainWords(t *testing.T) {
	a, err := Train(wordRows(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(wordRows(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Marshal(), b.Marshal()) {
		t.Errorf("two trainings with words differ:\n%s\n%s", a.Marshal(), b.Marshal())
	}
	back, err := ParseModel(a.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Marshal(), a.Marshal()) {
		t.Error("a model with words read back marshals differently")
	}
	if a.Words["overflow"] <= 0 || a.Words["refactor"] >= 0 {
		t.Errorf("word weights overflow %v refactor %v do not follow the data", a.Words["overflow"], a.Words["refactor"])
	}
	if _, ok := a.Words["list1"]; ok {
		t.Error("a word of one list only has a weight")
	}
	if a.Weights["words"] <= 0 {
		t.Errorf("the words feature's weight is %v, want > 0", a.Weights["words"])
	}
	// The score reads the words.
	r := &Row{X: make([]float64, len(features)), ev: make([]evidence, len(features)), Words: []string{"overflow", "the"}}
	plain := &Row{X: make([]float64, len(features)), ev: make([]evidence, len(features)), Words: []string{"the", "refactor"}}
	if a.Score(r) <= a.Score(plain) {
		t.Errorf("score with overflow %v, with refactor %v", a.Score(r), a.Score(plain))
	}
	if s := a.Signals(r); len(s) == 0 || s[0].Name != "words" || !bytes.Contains([]byte(s[0].Words), []byte("overflow")) {
		t.Errorf("signals %+v do not name the word", s)
	}
	// Left out, the model has no words.
	c, err := Train(wordRows(), &TrainOptions{Without: []Group{GroupWords}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Words) != 0 || c.Weights["words"] != 0 {
		t.Errorf("without the words group: %d words, weight %v", len(c.Words), c.Weights["words"])
	}
	// Trained with a prior, the prior's word weights are kept.
	d, err := Train(wordRows()[:400], &TrainOptions{Prior: a})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(d.Words, a.Words) {
		t.Error("trained with a prior, the word weights changed")
	}
	// Given word scores, they are the words feature and no word model
	// is fitted.
	rows := wordRows()
	scores := make([]float64, len(rows))
	for i, r := range rows {
		if r.Positive {
			scores[i] = 1
		}
	}
	e, err := Train(rows, &TrainOptions{WordScores: scores})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Words) != 0 || e.Weights["words"] <= a.Weights["words"] {
		t.Errorf("with word scores: %d words, weight %v (fitted words: %v)", len(e.Words), e.Weights["words"], a.Weights["words"])
	}
	if _, err := Train(rows, &TrainOptions{WordScores: scores[1:]}); err == nil {
		t.Error("word scores short of the rows: no error")
	}
}
