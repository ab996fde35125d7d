package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRecordSync(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	add(t, s, "io-uring", msg("one", []string{"1@x"}), msg("two", []string{"2@x"}))
	tx, _ := s.Begin(ctx)
	tx.SourceSynced(1, time.Unix(100, 0), 2, "")
	tx.AddSourceProblem(1, "git/0.git commit abc", "blob missing")
	tx.Commit()

	t1, t2 := time.Unix(1000, 0), time.Unix(2000, 0)
	steps := []struct {
		path, list string
		when       time.Time
		err        string
	}{
		{"/src/io-uring", "", t1, ""},                             // known source: synced
		{"/src/io-uring", "", t2, "git fetch: exit status 128"},   // failure keeps the time
		{"imaps://me@h/INBOX", "netdev", t1, "dial tcp: refused"}, // new source under its list
		{"imaps://me@h/INBOX", "netdev", t2, ""},
		{"/unknown", "", t1, "boom"}, // unknown, no list: ignored
	}
	for _, st := range steps {
		if err := s.RecordSync(ctx, st.path, st.list, st.when, st.err); err != nil {
			t.Fatalf("RecordSync(%s): %v", st.path, err)
		}
	}
	got, err := s.SourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []SourceState{
		{Path: "/src/io-uring", List: "io-uring", LastSync: t1, LastError: "git fetch: exit status 128", Messages: 2, Problems: 1},
		{Path: "imaps://me@h/INBOX", List: "netdev", LastSync: t2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SourceStates (-want +got):\n%s", diff)
	}
}
