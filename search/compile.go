package search

import (
	"errors"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
)

// ErrQueryTooBroad is returned (wrapped) when a word* expands to more words
// than Options.MaxWildcardTerms; callers map it to a client error.
var ErrQueryTooBroad = errors.New("query too broad")

// Compile turns a parsed query into a bleve query over the fields of
// schema.go. Words are analysed like indexed text; a word that analyses to
// several words (fs/io_uring.c) becomes a phrase, as in Xapian.
func Compile(n Node) (query.Query, error) {
	switch n := n.(type) {
	case *And:
		var must, mustNot []query.Query
		nodes := n.Nodes
		if kept := withoutAllKinds(nodes); len(kept) > 0 && len(kept) < len(nodes) && hasPositive(kept) {
			nodes = kept // (is:commit OR is:message) s:x is s:x over both kinds
		}
		for _, c := range nodes {
			if not, ok := c.(*Not); ok {
				q, err := Compile(not.Node)
				if err != nil {
					return nil, err
				}
				mustNot = append(mustNot, q)
				continue
			}
			q, err := Compile(c)
			if err != nil {
				return nil, err
			}
			must = append(must, q)
		}
		if len(must) == 0 {
			return nil, errors.New("search: compile: AND without a positive term")
		}
		if len(mustNot) == 0 {
			return query.NewConjunctionQuery(must), nil
		}
		return query.NewBooleanQuery(must, nil, mustNot), nil
	case *Or:
		var qs []query.Query
		for _, c := range n.Nodes {
			q, err := Compile(c)
			if err != nil {
				return nil, err
			}
			qs = append(qs, q)
		}
		return query.NewDisjunctionQuery(qs), nil
	case *Not:
		return nil, errors.New("search: compile: NOT outside AND")
	case *Term:
		return compileTerm(specOf(n.Field), n.Text, false)
	case *Phrase:
		return compileTerm(specOf(n.Field), n.Text, true)
	case *Wildcard:
		return compileWildcard(specOf(n.Field), n.Text), nil
	case *Range:
		return compileRange(n)
	}
	return nil, fmt.Errorf("search: compile: unknown node %T", n)
}

func specOf(field string) *prefixSpec {
	if field == "" {
		return defaultPrefix
	}
	if s := prefixByName[field]; s != nil {
		return s
	}
	return defaultPrefix
}

func termOn(field, term string) query.Query {
	q := query.NewTermQuery(term)
	q.SetField(field)
	return q
}

func prefixOn(field, prefix string) query.Query {
	q := query.NewPrefixQuery(prefix)
	q.SetField(field)
	return q
}

func anyOf(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// phraseTerms analyses text into terms by position, "" marking a gap
// left by a dropped (over-long) word, as bleve's phrase searcher expects.
func phraseTerms(text string) []string {
	toks := (wordAnalyzer{}).Analyze([]byte(text))
	if len(toks) == 0 {
		return nil
	}
	first := toks[0].Position
	out := make([]string, toks[len(toks)-1].Position-first+1)
	for _, t := range toks {
		out[t.Position-first] = string(t.Term)
	}
	return out
}

func wordsOn(field string, terms []string) query.Query {
	if len(terms) == 1 {
		return termOn(field, terms[0])
	}
	return newGuardedPhrase(terms, field)
}

func compileTerm(spec *prefixSpec, text string, quoted bool) (query.Query, error) {
	switch spec.kind {
	case kindMID:
		return termOn(FieldMID, text), nil
	case kindRef:
		return termOn(FieldRefs, text), nil
	case kindListID:
		return termOn(FieldListID, text), nil
	case kindPatchID:
		return termOn(FieldPatchID, text), nil
	case kindCommit:
		if len(text) >= 40 {
			return termOn(FieldSHA, text), nil
		}
		return prefixOn(FieldSHA, text), nil
	case kindRepo:
		return termOn(FieldRepo, text), nil
	case kindCVE:
		return termOn(FieldCVE, text), nil
	case kindIs:
		return compileIs(text), nil
	case kindBlob:
		var qs []query.Query
		for _, f := range spec.fields {
			qs = append(qs, blobQueries(f, text)...)
		}
		return anyOf(qs), nil
	case kindWords:
	default:
		return nil, fmt.Errorf("search: compile: %s: is not a word prefix", spec.name)
	}
	var qs []query.Query
	if addr := strings.ToLower(trimID(text)); len(spec.addrs) > 0 && isAddrSpec(addr) {
		for _, f := range spec.addrs {
			qs = append(qs, termOn(f, addr))
		}
		if spec != defaultPrefix {
			// f:a@b.c: the address keyword alone, not the (slower)
			// phrase a b c over the header words.
			return anyOf(qs), nil
		}
	}
	if !quoted {
		if w, ok := stemmedWord(text); ok {
			// Looked up by its stem alone, as Xapian's STEM_SOME does,
			// in the stem field of each text field; the keyword fields
			// (blob ids, patch-ids) hold no stems. A stem equal to the
			// word it came from is not in the stem field (analyzer.go):
			// the word itself stands for it, so a stem that is its own
			// stem is looked up among the words too. One that is not
			// (Porter2 stems "aliases" to "alias", "alias" to "alia")
			// can only come from another word, so the word alias
			// must not match it.
			s := stemTerm(w)
			self := Stem(s) == s
			for _, f := range spec.fields {
				qs = append(qs, termOn(stemField(f), s))
				if self {
					qs = append(qs, termOn(f, s))
				}
			}
			return anyOf(qs), nil
		}
	}
	terms := phraseTerms(text)
	if len(terms) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	for _, f := range spec.fields {
		qs = append(qs, wordsOn(f, terms))
	}
	if lt := strings.ToLower(text); spec.hex && !quoted && len(lt) >= 7 && len(lt) <= 64 && isHex(lt) {
		qs = append(qs, blobQueries(FieldDiffPre, lt)...)
		qs = append(qs, blobQueries(FieldDiffPost, lt)...)
		if len(lt) == 40 || len(lt) == 64 {
			qs = append(qs, termOn(FieldPatchID, lt))
		}
	}
	return anyOf(qs), nil
}

// isAddrSpec reports whether s looks like a whole address: local@domain.
func isAddrSpec(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " \t<>\"(),;:")
}

// blobQueries match blob ids starting with id, and abbreviated ids (of 7+
// digits, as in "index" lines) that id starts with.
func blobQueries(field, id string) []query.Query {
	qs := []query.Query{prefixOn(field, id)}
	for k := 7; k < len(id); k++ {
		qs = append(qs, termOn(field, id[:k]))
	}
	return qs
}

// compileWildcard: "io_ur*" is a prefix query on every field; a wildcard
// after several words ("fs/io_ur*") requires the leading words and the
// prefix in the same field (not as an exact phrase).
func compileWildcard(spec *prefixSpec, text string) query.Query {
	words := Words(text)
	last := words[len(words)-1]
	var qs []query.Query
	for _, f := range spec.fields {
		if len(words) == 1 {
			qs = append(qs, prefixOn(f, last))
			continue
		}
		parts := []query.Query{wordsOn(f, words[:len(words)-1]), prefixOn(f, last)}
		qs = append(qs, query.NewConjunctionQuery(parts))
	}
	return anyOf(qs)
}

func rangeField(name string) string {
	switch name {
	case "rt":
		return FieldReceived
	case "z":
		return FieldSize
	}
	return FieldDate
}

func compileRange(r *Range) (query.Query, error) {
	var lo, hi *float64
	if r.HasMin {
		v := float64(r.Min)
		lo = &v
	}
	if r.HasMax {
		v := float64(r.Max)
		hi = &v
	}
	if lo == nil && hi == nil {
		return nil, errors.New("search: compile: open range on both ends")
	}
	return newNumberRange(rangeField(r.Field), lo, hi), nil
}

// wildcards lists the (field, prefix) pairs a query expands.
func wildcards(n Node, out [][2]string) [][2]string {
	switch n := n.(type) {
	case *And:
		for _, c := range n.Nodes {
			out = wildcards(c, out)
		}
	case *Or:
		for _, c := range n.Nodes {
			out = wildcards(c, out)
		}
	case *Not:
		out = wildcards(n.Node, out)
	case *Wildcard:
		words := Words(n.Text)
		for _, f := range specOf(n.Field).fields {
			out = append(out, [2]string{f, words[len(words)-1]})
		}
	}
	return out
}
