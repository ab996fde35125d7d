package search

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2"
)

// TestExactCounts checks the counts from the postings bitmaps against
// bleve's own count of the same query, partition by partition, in an
// index of several segments per shard holding updated and deleted
// messages and commits (so every search carries the kind filter), and
// that a date-sorted search's total of a words-only query is exact (not
// flagged as an estimate, however small the counting budget) and the
// same as the sum of the partitions' counts.
func TestExactCounts(t *testing.T) {
	ctx := context.Background()
	docs := spreadDocs(1500)
	ix, err := Open(filepath.Join(t.TempDir(), "ix"), &Options{CacheEntries: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	indexAll(t, ix, docs, 200)
	b := ix.Batch()
	for i := 0; i < len(docs); i += 7 { // updated: the same date, another subject
		d := *docs[i]
		d.Subject = "rewritten " + d.Subject
		if err := b.Index(&d); err != nil {
			t.Fatal(err)
		}
	}
	for i := 3; i < len(docs); i += 11 {
		b.Delete(docs[i].MessageID)
	}
	for i := 0; i < len(docs); i += 13 {
		c := &Commit{SHA: fmt.Sprintf("%040x", i), Repos: []string{"r"}, Subject: docs[i].Subject, AuthorDate: docs[i].Date, Author: docs[i].From[0]}
		if err := b.Index(NewCommitDoc(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if ix.hasNoCommits() {
		t.Fatal("no commit in the index: the kind filter is not tested")
	}
	v := newSynth(7).vocab
	for _, tc := range []struct {
		q     string
		words bool
	}{
		{"s:re", true},
		{v[0], true},
		{v[1] + " OR " + v[2], true},
		{"s:" + v[0] + " AND b:" + v[1], true},
		{"s:rewritten", true},
		{"s:rewritten AND NOT " + v[0], true},
		{"is:message AND NOT s:rewritten", true},
		{"is:commit", true},
		{"is:commit OR s:rewritten", true},
		{"mid:" + docs[14].MessageID, true}, // updated
		{"mid:" + docs[3].MessageID, true},  // deleted
		{"s:nothingatall", true},
		{`s:"re ` + v[0] + `"`, false},
		{"d:2020..2022", false},
		{"s:" + v[0][:2] + "*", false},
	} {
		p, err := ix.prepare(tc.q, &SearchOptions{})
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		if got := wordsOnly(p.q); got != tc.words {
			t.Fatalf("%q: wordsOnly %t, want %t", tc.q, got, tc.words)
		}
		var sum uint64
		for _, part := range ix.parts {
			req := bleve.NewSearchRequestOptions(p.q, 0, 0, false)
			req.Score = "none"
			want, err := searchParts(ctx, []*partition{part}, req)
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := exactCount([]*partition{part}, p.q, nil)
			if err != nil || ok != tc.words {
				t.Fatalf("%q in %s: ok %t, %v; want ok %t", tc.q, part.key, ok, err, tc.words)
			}
			if ok && got != want.Total {
				t.Errorf("%q in %s: %d from the bitmaps, bleve counts %d", tc.q, part.key, got, want.Total)
			}
			sum += want.Total
		}
		if !tc.words {
			continue
		}
		func() {
			defer func(b, n uint64) { countBudget, minGroupDocs = b, n }(countBudget, minGroupDocs)
			countBudget, minGroupDocs = 1, 1 // the page in the newest partition, the rest counted
			r, err := ix.Search(ctx, tc.q, &SearchOptions{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != sum || r.TotalApprox {
				t.Errorf("%q: total %d approx %t, want %d exactly", tc.q, r.Total, r.TotalApprox, sum)
			}
		}()
	}
}
