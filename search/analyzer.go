package search

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// AnalyzerName is the bleve analyzer of the text fields (words) and
// StemAnalyzerName that of their stem fields (schema.go); both are
// registered with bleve's registry so an index on disk can be reopened.
const (
	AnalyzerName     = "patchtrail_words"
	StemAnalyzerName = "patchtrail_stems"
)

// maxWordBytes drops longer words (base64 and uuencode debris); the
// position still advances so a phrase never bridges a dropped word.
// SHA-256 hex ids (64 bytes) stay searchable.
const maxWordBytes = 64

func init() {
	for name, a := range map[string]wordAnalyzer{AnalyzerName: {}, StemAnalyzerName: {stems: true, noWords: true}} {
		err := registry.RegisterAnalyzer(name, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
			return a, nil
		})
		if err != nil {
			panic(err)
		}
	}
}

// wordAnalyzer splits text into words as Xapian's TermGenerator does:
// maximal runs of letters, marks, numbers and '_', lowercased, where a
// single apostrophe or '&' between word characters ("don't", "AT&T") and
// a '.', ',' or ';' between digits ("5.15", "1,000") belong to the word. Han, Hiragana, Katakana and Hangul
// characters are one word each (there are no spaces to split on). Everything
// else separates words: "fs/io_uring.c" is fs, io_uring, c and
// "Jens Axboe <axboe@kernel.dk>" is jens, axboe, axboe, kernel, dk.
//
// With stems, a word starting with a letter is followed by its stem term
// (stem.go) at the same position: "Fixes" gives fixes and fix. With
// noWords only the stems are kept: the analyzer of the stem fields, whose
// terms are indexed without positions (schema.go).
type wordAnalyzer struct{ stems, noWords bool }

func (a wordAnalyzer) Analyze(input []byte) analysis.TokenStream {
	var slab []analysis.Token
	stream := make(analysis.TokenStream, 0, len(input)/8+1)
	a.scan(input, func(start, end, pos int, term []byte, typ analysis.TokenType, stem bool) {
		if !stem && a.noWords {
			return
		}
		if len(slab) == cap(slab) {
			slab = make([]analysis.Token, 0, 64)
		}
		slab = append(slab, analysis.Token{Start: start, End: end, Term: term, Position: pos, Type: typ})
		stream = append(stream, &slab[len(slab)-1])
	})
	return stream
}

// scan calls emit for every term of input in order: each word, then its
// stem term (stem set) at the same position when a.stems (see
// wordAnalyzer; a.noWords is the caller's to apply). Words longer than
// maxWordBytes are left out but take their position. term may alias
// input. Analyze and wordFrequencies (field.go) both use it, so the index
// gets the same terms whichever builds them.
func (a wordAnalyzer) scan(input []byte, emit func(start, end, pos int, term []byte, typ analysis.TokenType, stem bool)) {
	pos := 0
	word := func(start, end int, term []byte, typ analysis.TokenType) {
		pos++
		if end-start > maxWordBytes {
			return
		}
		emit(start, end, pos, term, typ, false)
		if a.stems && indexStemmable(term) {
			// A stem equal to its word is not indexed: the word's own
			// term stands for it (compile.go looks a stem up in both).
			if st := stemTermBytes(term); !bytes.Equal(st, term) {
				emit(start, end, pos, st, typ, true)
			}
		}
	}
	i := 0
	for i < len(input) {
		c := input[i]
		if c < utf8.RuneSelf && !isASCIIWord(c) {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(input[i:])
			if isIdeograph(r) {
				word(i, i+size, lowerWord(input[i:i+size], false), analysis.Ideographic)
				i += size
				continue
			}
			if !isWordRune(r) {
				i += size
				continue
			}
		}
		start := i
		simple := true // ASCII without upper case or infix changes: the term can alias input
		var prev rune
		for i < len(input) {
			c := input[i]
			r, size := rune(c), 1
			if c >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(input[i:])
			}
			if c < utf8.RuneSelf && isASCIIWord(c) || c >= utf8.RuneSelf && isWordRune(r) && !isIdeograph(r) {
				if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
					simple = false
				}
				prev = r
				i += size
				continue
			}
			// A single apostrophe, '&' and the like between word characters,
			// or a '.', ',' or ';' between digits, is part of the word.
			next, _ := utf8.DecodeRune(input[i+size:])
			if i+size >= len(input) || !isWordRune(next) || isIdeograph(next) {
				break
			}
			in := infixRune(prev, r, next)
			if in == 0 {
				break
			}
			if in != r {
				simple = false
			}
			i += size
		}
		if simple {
			word(start, i, input[start:i], analysis.AlphaNumeric)
		} else {
			word(start, i, buildWord(input[start:i]), analysis.AlphaNumeric)
		}
	}
}

// infixRune decides, as Xapian's tokenizer does (check_infix and
// check_infix_digit), whether r between the word characters prev and next
// joins them: it returns 0 if not, -1 if r is dropped (zero-width
// characters) and otherwise the character to keep (’ becomes ').
func infixRune(prev, r, next rune) rune {
	if unicode.IsDigit(prev) && unicode.IsDigit(next) {
		switch r {
		case ',', '.', ';', 0x037e, 0x0589, 0x060d, 0x07f8, 0x2044, 0xfe10, 0xfe13, 0xfe14:
			return r
		}
	} else {
		switch r {
		case '\'', '&', 0xb7, 0x5f4, 0x2027:
			return r
		case 0x2019, 0x201b:
			return '\''
		}
	}
	if r >= 0x200b && r <= 0x200d || r == 0x2060 || r == 0xfeff {
		return -1
	}
	return 0
}

// buildWord is the lower-cased term of a word that infixRune accepted.
func buildWord(w []byte) []byte {
	out := make([]byte, 0, len(w))
	var prev rune
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRune(w[i:])
		if isWordRune(r) {
			out = utf8.AppendRune(out, unicode.ToLower(r))
			prev = r
		} else {
			next, _ := utf8.DecodeRune(w[i+size:])
			if in := infixRune(prev, r, next); in > 0 {
				out = utf8.AppendRune(out, in)
			}
		}
		i += size
	}
	return out
}

func lowerWord(w []byte, simple bool) []byte {
	if simple {
		return w
	}
	return bytes.ToLower(w)
}

func isASCIIWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIWord(byte(r))
	}
	// Xapian's is_wordchar: letters, marks, numbers, connector punctuation.
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r))
}

func isIdeograph(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
}

// Words returns the words the index holds for text (without their stems):
// the analyzer's output as strings. Query terms go through the same
// function.
func Words(text string) []string {
	toks := wordAnalyzer{}.Analyze([]byte(text))
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		out = append(out, string(t.Term))
	}
	return out
}

// hasWord reports whether text contains at least one indexable word.
func hasWord(text string) bool {
	for _, t := range (wordAnalyzer{}).Analyze([]byte(text)) {
		if len(t.Term) > 0 {
			return true
		}
	}
	return false
}
