package search

import (
	"fmt"
	"strings"
	"testing"
)

func manyAddresses(n int) []Address {
	as := make([]Address, n)
	for i := range as {
		as[i] = Address{Name: fmt.Sprintf("Person %d", i), Addr: fmt.Sprintf("p%d@example.org", i)}
	}
	return as
}

func TestDocLimit(t *testing.T) {
	bigBody := strings.Repeat("word ", MaxDocBytes/5+1000)
	for _, tc := range []struct {
		name    string
		doc     Doc
		problem string // substring of the problem; "" for none
		check   func(t *testing.T, d *Doc)
	}{
		{name: "small", doc: Doc{MessageID: "a@x", Subject: "hello", Cc: manyAddresses(3), NonQuoted: "body text\n"}},
		{name: "10 MB Cc line", doc: Doc{MessageID: "a@x", Subject: "hello", Cc: manyAddresses(300_000), NonQuoted: "body"},
			problem: "of 300000 Cc addresses",
			check: func(t *testing.T, d *Doc) {
				if len(d.Cc) != MaxDocValues || d.NonQuoted != "body" {
					t.Errorf("kept %d Cc addresses and body %q; want %d and the body", len(d.Cc), d.NonQuoted, MaxDocValues)
				}
			}},
		{name: "huge body", doc: Doc{MessageID: "a@x", Subject: "s", NonQuoted: bigBody, DiffAdded: "more"},
			problem: "bytes of the body",
			check: func(t *testing.T, d *Doc) {
				if len(d.NonQuoted) > MaxDocBytes || !strings.HasSuffix(d.NonQuoted, "word ") || d.DiffAdded != "" {
					t.Errorf("body cut to %d bytes ending %q, added lines %q; want at most %d, cut between words, nothing after",
						len(d.NonQuoted), d.NonQuoted[max(0, len(d.NonQuoted)-8):], d.DiffAdded, MaxDocBytes)
				}
			}},
		{name: "many words", doc: Doc{MessageID: "a@x", NonQuoted: strings.Repeat("a ", MaxDocTerms+10)},
			problem: fmt.Sprintf("indexed %d bytes and %d words", 2*MaxDocTerms, MaxDocTerms)},
		{name: "many references", doc: Doc{MessageID: "a@x", References: strings.Fields(strings.Repeat("r@x ", MaxDocValues+1))},
			problem: fmt.Sprintf("1 of %d References", MaxDocValues+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.doc
			p := d.Limit()
			if tc.problem == "" && p != "" || !strings.Contains(p, tc.problem) {
				t.Errorf("Limit() = %q, want a problem containing %q", p, tc.problem)
			}
			if tc.problem != "" && !strings.HasPrefix(p, "index limit: ") {
				t.Errorf("Limit() = %q, want the kind \"index limit\"", p)
			}
			if tc.check != nil {
				tc.check(t, &d)
			}
			if again := d.Limit(); again != "" {
				t.Errorf("second Limit() = %q, want nothing left to cut", again)
			}
			// Indexing applies the limits whether or not Limit was called.
			raw := tc.doc
			bd, err := toDocument(&raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			var bytes int
			for _, f := range bd.Fields {
				if specByName[f.Name()].kind != kindStem { // a stem field shares its words field's value
					bytes += len(f.Value())
				}
			}
			if bytes > 2*MaxDocBytes+64<<10 {
				t.Errorf("the bleve document holds %d bytes of values, want about %d at most", bytes, 2*MaxDocBytes)
			}
			if len(tc.doc.Cc) != len(raw.Cc) {
				t.Errorf("toDocument changed the caller's Doc")
			}
		})
	}
}
