package search

import (
	"bytes"
	"context"
	"slices"

	bsearch "github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// phraseSearcher matches a phrase of words on one field, as bleve's
// PhraseSearcher does with no slop and no fuzziness (a "" word is a gap
// that any word fills; gaps before the first word and after the last
// one do not count), for searches that neither score nor ask for
// locations: a date-sorted page or a count.
//
// bleve's searcher turns the positions of every document holding all
// the words into maps of locations (DocumentMatch.Complete) and walks
// them recursively: allocations per candidate document, which made a
// phrase of common words (b:"Reviewed-by", tc:linux-fsdevel) the
// slowest queries at scale (doc/scaling.md). This one reads the
// positions straight from the term readers, into buffers it reuses, and
// checks them in place: the same documents, no garbage per candidate.
type phraseSearcher struct {
	words   []phraseWord // the words of the phrase, rarest first
	count   uint64       // documents holding the rarest word (Count)
	started bool
	done    bool
}

// phraseWord is one word of a phrase: its term reader, its place in the
// phrase (offset from the first word) and the reader's current document.
type phraseWord struct {
	r   index.TermFieldReader
	off uint64
	doc *index.TermFieldDoc // nil once the reader ran out
	buf index.TermFieldDoc  // reused by r's Next and Advance
}

// newPhraseSearcher opens a term reader with positions for every word
// of terms on field. terms has at least one word that is not "".
func newPhraseSearcher(ctx context.Context, r index.IndexReader, terms []string, field string) (*phraseSearcher, error) {
	s := &phraseSearcher{}
	first := -1
	for i, t := range terms {
		if t == "" {
			continue
		}
		if first < 0 {
			first = i
		}
		tr, err := r.TermFieldReader(ctx, []byte(t), field, false, false, true)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.words = append(s.words, phraseWord{r: tr, off: uint64(i - first)})
	}
	slices.SortStableFunc(s.words, func(a, b phraseWord) int {
		ca, cb := a.r.Count(), b.r.Count()
		switch {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		}
		return 0
	})
	if len(s.words) > 0 {
		s.count = s.words[0].r.Count()
	}
	return s, nil
}

// step moves word w to its first document at or after id (the next one
// with a nil id).
func (w *phraseWord) step(id index.IndexInternalID) error {
	var err error
	if id == nil {
		w.doc, err = w.r.Next(&w.buf)
	} else {
		w.doc, err = w.r.Advance(id, &w.buf)
	}
	return err
}

// align moves the words until they all stand on one document (true) or
// one of them runs out (false). The rarest word leads.
func (s *phraseSearcher) align() (bool, error) {
	for {
		lead := s.words[0].doc
		if lead == nil {
			return false, nil
		}
		same := true
		for i := 1; i < len(s.words); i++ {
			w := &s.words[i]
			if w.doc == nil || w.doc.ID.Compare(lead.ID) < 0 {
				if err := w.step(lead.ID); err != nil {
					return false, err
				}
				if w.doc == nil {
					return false, nil
				}
			}
			if w.doc.ID.Compare(lead.ID) > 0 {
				// Past the lead: the lead jumps to this document.
				if err := s.words[0].step(w.doc.ID); err != nil {
					return false, err
				}
				same = false
				break
			}
		}
		if same {
			return true, nil
		}
	}
}

// matches reports whether the words' current positions hold the phrase:
// a place p where every word w stands at p + w.off, in the same value of
// the field (array positions).
func (s *phraseSearcher) matches() bool {
	anchor := 0 // the word with the fewest positions here
	for i := range s.words {
		if len(s.words[i].doc.Vectors) < len(s.words[anchor].doc.Vectors) {
			anchor = i
		}
	}
	a := &s.words[anchor]
next:
	for _, v := range a.doc.Vectors {
		if v.Pos < a.off+1 {
			continue // no room before it for the words that come first
		}
		start := v.Pos - a.off
		for i := range s.words {
			if i == anchor {
				continue
			}
			w := &s.words[i]
			if !hasPosition(w.doc.Vectors, start+w.off, v.ArrayPositions) {
				continue next
			}
		}
		return true
	}
	return false
}

// hasPosition reports whether vs holds position pos in the value at
// array positions ap.
func hasPosition(vs []*index.TermFieldVector, pos uint64, ap []uint64) bool {
	for _, v := range vs {
		if v.Pos == pos && slices.Equal(v.ArrayPositions, ap) {
			return true
		}
	}
	return false
}

// next finds the next matching document from where the words stand.
func (s *phraseSearcher) next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	for !s.done {
		ok, err := s.align()
		if err != nil {
			return nil, err
		}
		if !ok {
			s.done = true
			break
		}
		id := s.words[0].doc.ID
		hit := s.matches()
		var dm *bsearch.DocumentMatch
		if hit {
			dm = ctx.DocumentMatchPool.Get()
			dm.IndexInternalID = append(dm.IndexInternalID[:0], id...)
		}
		// The lead moves on; the others follow in align.
		if err := s.words[0].step(nil); err != nil {
			return nil, err
		}
		if hit {
			return dm, nil
		}
	}
	return nil, nil
}

// start puts every word on its first document at or after id (nil: the
// first).
func (s *phraseSearcher) start(id index.IndexInternalID) error {
	s.started = true
	if len(s.words) == 0 {
		s.done = true
		return nil
	}
	for i := range s.words {
		if err := s.words[i].step(id); err != nil {
			return err
		}
	}
	return nil
}

func (s *phraseSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	if !s.started {
		if err := s.start(nil); err != nil {
			return nil, err
		}
	}
	return s.next(ctx)
}

func (s *phraseSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	if !s.started {
		if err := s.start(id); err != nil {
			return nil, err
		}
		return s.next(ctx)
	}
	if s.done {
		return nil, nil
	}
	if lead := s.words[0].doc; lead != nil && bytes.Compare(lead.ID, id) < 0 {
		if err := s.words[0].step(id); err != nil {
			return nil, err
		}
	}
	return s.next(ctx)
}

func (s *phraseSearcher) Close() error {
	var first error
	for _, w := range s.words {
		if err := w.r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *phraseSearcher) Weight() float64            { return 1 }
func (s *phraseSearcher) SetQueryNorm(float64)       {}
func (s *phraseSearcher) Count() uint64              { return s.count }
func (s *phraseSearcher) Min() int                   { return 0 }
func (s *phraseSearcher) DocumentMatchPoolSize() int { return 1 }

func (s *phraseSearcher) Size() int {
	n := 64
	for _, w := range s.words {
		n += 64 + w.r.Size()
	}
	return n
}
