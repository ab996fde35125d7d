package search

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStem(t *testing.T) {
	// Stems as Xapian 1.4's English stemmer gives them
	// (perl -MSearch::Xapian -e 'print Search::Xapian::Stem->new("english")->stem_word($w)').
	tests := map[string]string{
		"fixed": "fix", "fixes": "fix", "fixing": "fix", "fix": "fix",
		"buffers": "buffer", "leaks": "leak", "leaking": "leak",
		"cancellation": "cancel", "cancelled": "cancel", "running": "run",
		"generously": "generous", "io_uring": "io_ur", "patches": "patch",
		"registered": "regist", "it's": "it", "sqpoll": "sqpoll",
	}
	for w, want := range tests {
		if got := Stem(w); got != want {
			t.Errorf("Stem(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestStemmedWord(t *testing.T) {
	tests := []struct {
		text string
		want string // "" = not stemmed
	}{
		{"fixes", "fixes"},
		{"fixes,", "fixes"},
		{"über", "über"},
		{"Fixes", ""},           // capitalised
		{"IORING_OP_READV", ""}, // capitalised
		{"_foo", ""},            // '_' is not a letter
		{"5fix", ""},            // digit
		{"kmalloc(", ""},        // stem preventer after the word
		{"foo@", ""},            // stem preventer
		{"fs/io_uring.c", ""},   // a phrase
		{"zero-copy", ""},       // a phrase
		{"!!!", ""},             // no word
		{"doesn't", "doesn't"},  // one word, as in Xapian
		{"don’t", "don't"},
	}
	for _, tt := range tests {
		got, ok := stemmedWord(tt.text)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("stemmedWord(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
		}
	}
}

func TestAnalyzerStems(t *testing.T) {
	var got []string
	var pos []int
	for _, tok := range (wordAnalyzer{stems: true}).Analyze([]byte("Fixes 5.10 _x io_uring")) {
		got = append(got, string(tok.Term))
		pos = append(pos, tok.Position)
	}
	want := []string{"fixes", "fix", "5.10", "_x", "io_uring", "io_ur"}
	if !cmp.Equal(got, want) || !cmp.Equal(pos, []int{1, 1, 2, 3, 4, 4}) {
		t.Errorf("analysed to %q at %v, want %q at 1 1 2 3 4 4", got, pos, want)
	}
}
