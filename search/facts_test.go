package search

import (
	"context"
	"testing"
)

// A filter left out because it kept everything comes back as soon as a
// write makes it matter: a second list, a first commit.
func TestFactsFollowWrites(t *testing.T) {
	ctx := context.Background()
	ix := openTestIndex(t, []*Doc{
		{MessageID: "a1@x", ThreadID: "A1", Lists: []string{"one"}, Subject: "sqpoll fix", Date: at("2024-01-10 09:00")},
		{MessageID: "a2@x", ThreadID: "A2", Lists: []string{"one"}, Subject: "sqpoll race", Date: at("2024-01-11 09:00")},
	})
	count := func(q string, o *SearchOptions) uint64 {
		t.Helper()
		r, err := ix.Search(ctx, q, o)
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	if n := count("s:sqpoll", &SearchOptions{List: "one"}); n != 2 {
		t.Fatalf("list one: %d hits, want 2", n)
	}
	if !ix.listHoldsAll("one") || !ix.hasNoCommits() {
		t.Fatal("one list, no commits: both filters should be left out")
	}
	b := ix.Batch()
	if err := b.Index(&Doc{MessageID: "b1@x", ThreadID: "B1", Lists: []string{"two"}, Subject: "sqpoll other list", Date: at("2024-01-12 09:00")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Index(NewCommitDoc(&Commit{SHA: "c1c1c1c1", Repos: []string{"r"}, Subject: "sqpoll commit", AuthorDate: at("2024-01-13 09:00")})); err != nil {
		t.Fatal(err)
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count("s:sqpoll", &SearchOptions{List: "one"}); n != 2 {
		t.Errorf("list one after a second list: %d hits, want 2", n)
	}
	if n := count("s:sqpoll", nil); n != 3 {
		t.Errorf("s:sqpoll after a commit: %d hits, want the 3 messages", n)
	}
	if n := count("is:commit s:sqpoll", nil); n != 1 {
		t.Errorf("is:commit s:sqpoll: %d hits, want 1", n)
	}
}
