package search

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// Stemming as public-inbox does it (PublicInbox::Search and SearchIdx with
// Xapian's TermGenerator and QueryParser, both set to the English Snowball
// stemmer with STEM_SOME):
//
//   - Index: every word of every text field is indexed as itself (with its
//     position) and, when its first character is a letter (not a digit or
//     '_'), also as its stem in the field's stem field (schema.go's
//     stemField; Xapian's "Z" terms), counted but without a position, as
//     Xapian's TermGenerator adds them, unless the stem is the word
//     itself (fix, sqpoll, most identifiers of code): the word's term
//     stands for it, and the query looks such a stem up in both fields.
//     Keyword fields (mid:, lid:, blob ids, patch-ids) have no stems.
//   - Query: a word is looked up by its stem alone, unless it starts with
//     anything but a lower-case letter (Fixed, IORING_OP_READV, 5.15,
//     _foo), is followed by one of ( / \ @ < > = * [ { " (Xapian's "stem
//     preventers"), is quoted, is part of a phrase (fs/io_uring.c,
//     zero-copy), or ends in '*'. Those match the word exactly.
//
// So s:fixed finds "fix", "fixes" and "Fixing", while s:Fixed and
// s:"fixed" find "fixed" only. A stemmed query word finds nothing in the
// keyword fields, since they hold no stems: b:deadbeef1 does not search
// blob ids while b:1eadbeef does, exactly as on lore.
//
// The stemmer is bleve's Snowball English (Porter2); it gives the same
// stem as Xapian 1.4's for every one of the 1,380,283 distinct words of
// the io-uring archive that start with a letter (doc/query_syntax.md).

// stemPreventers are the characters after which Xapian's QueryParser
// leaves a word unstemmed.
const stemPreventers = `(/\@<>=*[{"`

// indexStemmable reports whether the indexer adds a stem for the
// lower-cased word w: Xapian's TermGenerator stems words whose first
// character is a lower-case, title-case, modifier or other letter.
func indexStemmable(w []byte) bool {
	r, _ := utf8.DecodeRune(w)
	return isStemLetter(r)
}

// queryStemmable reports whether a query word as typed (not lower-cased)
// is looked up by its stem, before the context (quotes, phrases, the
// next character) is considered.
func queryStemmable(typed string) bool {
	r, _ := utf8.DecodeRuneInString(typed)
	return isStemLetter(r)
}

func isStemLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.In(r, unicode.Ll, unicode.Lt, unicode.Lm, unicode.Lo)
}

// stemmedWord reports whether an unquoted query term as typed (Term.Text)
// is looked up by its stem, and returns its one (lower-cased) word if so.
// A term that analyses to several words is a phrase; a term followed
// within its text by a stem preventer ("kmalloc(") is not stemmed; the
// character after the text itself is a space, ')' or the end of the
// query, none of which prevents stemming.
func stemmedWord(text string) (string, bool) {
	toks := (wordAnalyzer{}).Analyze([]byte(text))
	if len(toks) != 1 {
		return "", false
	}
	tok := toks[0]
	if !queryStemmable(text[tok.Start:tok.End]) {
		return "", false
	}
	if r, _ := utf8.DecodeRuneInString(text[tok.End:]); tok.End < len(text) && strings.ContainsRune(stemPreventers, r) {
		return "", false
	}
	return string(tok.Term), true
}

// stemCacheMax bounds the memo of stems; the vocabulary of mail is
// Zipfian, so the common words stay in it and the long tail (base64
// debris, hex ids) is stemmed each time.
const (
	stemCacheMax     = 1 << 17
	stemCacheWordMax = 24
)

var stemCache struct {
	sync.RWMutex
	m map[string][]byte // word → stem
}

// Stem returns the English Snowball stem of the lower-case word w.
func Stem(w string) string {
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}

// stemTermBytes is the index term (in a stem field) of the stem of the
// lower-case word w, memoised; callers must not modify it.
func stemTermBytes(w []byte) []byte {
	if len(w) <= stemCacheWordMax {
		stemCache.RLock()
		t, ok := stemCache.m[string(w)]
		stemCache.RUnlock()
		if ok {
			return t
		}
	}
	t := []byte(Stem(string(w)))
	if len(w) <= stemCacheWordMax {
		stemCache.Lock()
		if stemCache.m == nil {
			stemCache.m = make(map[string][]byte, 1024)
		}
		if len(stemCache.m) < stemCacheMax {
			stemCache.m[string(w)] = t
		}
		stemCache.Unlock()
	}
	return t
}

// stemTerm is the index term of w's stem (in a stem field).
func stemTerm(w string) string { return Stem(w) }
