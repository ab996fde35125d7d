package search

import (
	"context"
	"slices"
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
	for _, tok := range (wordAnalyzer{stems: true}).Analyze([]byte("Fixes 5.10 _x io_uring sqpoll fix")) {
		got = append(got, string(tok.Term))
		pos = append(pos, tok.Position)
	}
	// sqpoll and fix are their own stems: no stem term of theirs.
	want := []string{"fixes", "fix", "5.10", "_x", "io_uring", "io_ur", "sqpoll", "fix"}
	if !cmp.Equal(got, want) || !cmp.Equal(pos, []int{1, 1, 2, 3, 4, 4, 5, 6}) {
		t.Errorf("analysed to %q at %v, want %q at 1 1 2 3 4 4 5 6", got, pos, want)
	}
}

// TestStemEqualToWord: a stem equal to its word is not indexed in the
// stem field, and a stemmed query finds it through the word, so a query
// finds what it would find with every stem indexed: the words whose stem
// is the query's. Porter2 is not idempotent ("aliases" stems to "alias",
// "alias" to "alia"): the word "alias" has the stem "alia", so b:aliases
// must not find it through the word.
func TestStemEqualToWord(t *testing.T) {
	texts := map[string]string{
		"lock@x":     "the lock is held",
		"locks@x":    "two locks were held",
		"locking@x":  "locking it",
		"alias@x":    "an alias is set",
		"aliases@x":  "aliases are set",
		"aliasing@x": "aliasing here",
		"fix@x":      "a fix and fixes", // the stem fix as a word and as a stem
	}
	var docs []*Doc
	for id, text := range texts {
		docs = append(docs, &Doc{MessageID: id, Subject: "s", Date: at("2024-01-02 10:00"), NonQuoted: text})
	}
	ix := openTestIndex(t, docs)
	for q, want := range map[string][]string{
		"b:lock":     {"lock@x", "locks@x", "locking@x"},
		"b:locks":    {"lock@x", "locks@x", "locking@x"},
		"b:aliases":  {"aliases@x", "aliasing@x"},
		"b:aliasing": {"aliases@x", "aliasing@x"},
		"b:alias":    {"alias@x"},
		"b:fixed":    {"fix@x"},
		`b:"lock"`:   {"lock@x"},
		"held":       {"lock@x", "locks@x"},
	} {
		r, err := ix.Search(context.Background(), q, &SearchOptions{Limit: 100})
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		got := ids(r)
		slices.Sort(got)
		slices.Sort(want)
		if !cmp.Equal(got, want) {
			t.Errorf("Search(%q) = %q, want %q", q, got, want)
		}
	}
}
