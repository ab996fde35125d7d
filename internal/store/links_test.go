package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// inTx runs fn in a committed write transaction.
func inTx(t *testing.T, s *Store, fn func(tx *Tx)) {
	t.Helper()
	tx, err := s.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	fn(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestCommitsAndLinks(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	msgs := add(t, s, "a", msg("p1", []string{"p1@x"}), msg("p2", []string{"p2@x"}))
	sha1 := "abcd000000000000000000000000000000000001"
	sha2 := "abcd000000000000000000000000000000000002"
	var repoA, repoB, id1 int64
	inTx(t, s, func(tx *Tx) {
		var err error
		if repoA, err = tx.EnsureRepo("a", "/a"); err != nil {
			t.Fatal(err)
		}
		if repoB, err = tx.EnsureRepo("b", "/b"); err != nil {
			t.Fatal(err)
		}
		c := &CommitRow{SHA: sha1, Subject: "one", Trailers: []CommitTrailer{{Key: "Link", Value: "x"}, {Key: "Fixes", SHA: "1234"}},
			Fixes: []FixRow{{Target: "1234"}}, Sketch: []uint64{1, 1 << 63}, Files: []string{"a.c"}}
		if id1, err = tx.PutCommit(repoA, c); err != nil {
			t.Fatal(err)
		}
		// Stored again from another repository, with fewer trailers.
		c.Trailers, c.Fixes = c.Trailers[:1], nil
		if id, err := tx.PutCommit(repoB, c); err != nil || id != id1 {
			t.Fatalf("PutCommit again = %d, %v; want %d", id, err, id1)
		}
		if _, err := tx.PutCommit(repoA, &CommitRow{SHA: sha2, Subject: "two", Upstream: sha1}); err != nil {
			t.Fatal(err)
		}
		if err := tx.SetLinks(id1, []LinkRow{
			{Message: msgs[1].ID, Role: RoleEarlier, Grade: GradeFuzzy, Score: 0.7},
			{Message: msgs[0].ID, Role: RoleApplied, Grade: GradeStrong, Score: 0.95, Evidence: []Evidence{{Kind: "patch-id"}}},
		}); err != nil {
			t.Fatal(err)
		}
	})
	c, err := s.Commit(ctx, "abcd000000000000000000000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Repos, len(c.Trailers), len(c.Fixes), c.Sketch, c.Files}
	want := []any{[]string{"a", "b"}, 1, 0, []uint64{1, 1 << 63}, []string{"a.c"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored commit (-want +got):\n%s", diff)
	}
	if _, err := s.Commit(ctx, "abcd"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("Commit(abcd) error = %v, want ErrAmbiguous", err)
	}
	for _, bad := range []string{"abc", "xyz12345", "ffff"} {
		if _, err := s.Commit(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Commit(%q) error = %v, want ErrNotFound", bad, err)
		}
	}
	ls, err := s.CommitLinks(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, l := range ls {
		order = append(order, l.MessageID+" "+l.Role)
	}
	if diff := cmp.Diff([]string{"p1@x applied", "p2@x earlier"}, order); diff != "" {
		t.Errorf("links order (-want +got):\n%s", diff)
	}
	if ml, err := s.MessageLinks(ctx, msgs[1].ID); err != nil || len(ml) != 1 || ml[0].SHA != sha1 {
		t.Errorf("MessageLinks = %+v, %v", ml, err)
	}
	if bp, err := s.CommitsWhere(ctx, "upstream", sha1); err != nil || len(bp) != 1 || bp[0].SHA != sha2 {
		t.Errorf("CommitsWhere(upstream) = %v, %v", bp, err)
	}
	if _, err := s.CommitsWhere(ctx, "drop table", sha1); err == nil {
		t.Error("CommitsWhere accepted an unknown relation")
	}
	unlinked, err := s.RepoCommits(ctx, repoA, true)
	if err != nil || len(unlinked) != 1 || unlinked[0].SHA != sha2 {
		t.Errorf("RepoCommits(unlinked) = %v, %v; want only %s", unlinked, err, sha2)
	}
}

func TestPatchesByAuthorFiles(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := add(t, s, "a", msg("p1", []string{"p1@x"}), msg("p2", []string{"p2@x"}))
	inTx(t, s, func(tx *Tx) {
		for i, files := range [][]string{{"io_uring/rw.c"}, {"io%uring/net.c", "README"}} {
			if err := tx.AddPatch(&PatchRow{Message: msgs[i].ID, Counter: 1, Total: 1, Version: 1, NormSubject: "s",
				Author: "a@example.org", Date: day, Files: files}); err != nil {
				t.Fatal(err)
			}
		}
	})
	tests := []struct {
		files []string
		want  []string
	}{
		{[]string{"io_uring/rw.c"}, []string{"p1@x"}},
		{[]string{"ioXuring/rw.c"}, nil}, // '_' is not a wildcard
		{[]string{"io%uring/net.c"}, []string{"p2@x"}},
		{[]string{"ioXXuring/net.c"}, nil}, // nor is '%'
		{[]string{"other.c", "README"}, []string{"p2@x"}},
		{nil, nil},
	}
	for _, tt := range tests {
		ps, err := s.PatchesByAuthor(ctx, "a@example.org", day.Add(-time.Hour), day.Add(time.Hour), tt.files, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.MessageID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("PatchesByAuthor(%v) (-want +got):\n%s", tt.files, diff)
		}
	}
}
