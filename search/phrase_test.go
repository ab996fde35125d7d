package search

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// TestPhraseSearcherMatchesBleve checks that phraseSearcher (a search
// that does not score) finds exactly the documents bleve's own phrase
// searcher finds (a scored search), alone and inside a conjunction (its
// Advance), on phrases cut from real messages: words of a subject, a
// body, a list of addresses or file names (values of one field, which
// a phrase must not cross), with gaps, swapped words and a phrase made
// of the end of one value and the start of the next.
func TestPhraseSearcherMatchesBleve(t *testing.T) {
	docs, _ := corpusDocs(t, 1500)
	ix, err := Open(t.TempDir(), &Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	indexAll(t, ix, docs, 400) // several segments per shard

	rng := rand.New(rand.NewSource(1))
	words := func(s string) []string {
		var out []string
		for _, tok := range (wordAnalyzer{}).Analyze([]byte(s)) {
			out = append(out, string(tok.Term))
		}
		return out
	}
	type phrase struct {
		field string
		terms []string
	}
	var phrases []phrase
	add := func(field string, terms []string) {
		if len(terms) >= 2 {
			phrases = append(phrases, phrase{field, terms})
		}
	}
	cut := func(field string, ws []string) {
		if len(ws) < 2 {
			return
		}
		n := 2 + rng.Intn(3)
		n = min(n, len(ws))
		k := rng.Intn(len(ws) - n + 1)
		terms := slices.Clone(ws[k : k+n])
		add(field, terms)
		if n >= 3 { // a gap in the middle
			g := slices.Clone(terms)
			g[1] = ""
			add(field, g)
		}
		add(field, append([]string{""}, terms...)) // a leading gap
		sw := slices.Clone(terms)
		sw[0], sw[1] = sw[1], sw[0]
		add(field, sw)
		add(field, []string{terms[0], terms[0]}) // a word twice
	}
	for i := 0; i < len(docs); i += 41 {
		d := docs[i]
		cut(FieldSubject, words(d.Subject))
		cut(FieldNonQuoted, words(d.NonQuoted))
		cut(FieldDiffAdd, words(d.DiffAdded))
		var to [][]string
		for _, a := range append(slices.Clone(d.To), d.Cc...) {
			to = append(to, words(a.String()))
		}
		for j, ws := range to {
			cut(FieldTo, ws)
			cut(FieldCc, ws)
			if j > 0 && len(to[j-1]) > 0 && len(ws) > 0 {
				cross := []string{to[j-1][len(to[j-1])-1], ws[0]}
				add(FieldTo, cross)
				add(FieldCc, cross)
			}
		}
		for _, f := range d.DiffFileNames {
			cut(FieldDiffName, words(f))
		}
		if len(d.DiffFileNames) > 1 {
			a, b := words(d.DiffFileNames[0]), words(d.DiffFileNames[1])
			if len(a) > 0 && len(b) > 0 {
				add(FieldDiffName, []string{a[len(a)-1], b[0]})
			}
		}
	}
	if len(phrases) < 300 {
		t.Fatalf("only %d phrases cut from the corpus", len(phrases))
	}

	ids := func(q query.Query, score string) ([]string, uint64) {
		t.Helper()
		var out []string
		var total uint64
		for _, s := range ix.allShards() {
			req := bleve.NewSearchRequestOptions(q, len(docs), 0, false)
			req.Score = score
			res, err := s.SearchInContext(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				out = append(out, h.ID)
			}
			total += res.Total
		}
		slices.Sort(out)
		return out, total
	}
	// A rare clause leads a conjunction: the phrase is advanced to its
	// documents (every twentieth message).
	var some []query.Query
	for i := 0; i < len(docs); i += 20 {
		some = append(some, termOn(FieldMID, docs[i].MessageID))
	}
	rare := query.NewDisjunctionQuery(some)
	none := bsearch.SearcherOptions{Score: "none"}
	matched := 0
	for _, p := range phrases {
		gp := newGuardedPhrase(p.terms, p.field)
		name := fmt.Sprintf("%s:%q", p.field, strings.Join(p.terms, " "))
		if !gp.plain(none) {
			t.Fatalf("%s: not run on phraseSearcher", name)
		}
		want, wantN := ids(gp, "")
		got, gotN := ids(gp, "none")
		if !slices.Equal(got, want) || gotN != wantN {
			t.Errorf("%s: phraseSearcher found %d %v, bleve %d %v", name, gotN, got, wantN, want)
			continue
		}
		if len(want) > 0 {
			matched++
		}
		conj := query.NewConjunctionQuery([]query.Query{rare, gp})
		want, _ = ids(conj, "")
		got, _ = ids(conj, "none")
		if !slices.Equal(got, want) {
			t.Errorf("%s AND some mid: phraseSearcher found %v, bleve %v", name, got, want)
		}
	}
	t.Logf("%d phrases, %d with hits", len(phrases), matched)
	if matched < len(phrases)/3 {
		t.Errorf("only %d of %d phrases matched: the test checks little", matched, len(phrases))
	}
}
