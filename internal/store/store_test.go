package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msg(body string, ids []string, refs ...string) *NewMessage {
	return &NewMessage{
		IDs: ids, References: refs, ContentHash: sha256.Sum256([]byte(body)),
		Subject: body, NormSubject: body, FromEmail: "a@example.org",
		Date: time.Unix(1700000000, 0), Raw: []byte(body),
	}
}

// add stores msgs in one transaction on a list and returns the results.
func add(t *testing.T, s *Store, list string, msgs ...*NewMessage) []*Added {
	t.Helper()
	ctx := context.Background()
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	l, err := tx.EnsureList(list, list+".example.org")
	if err != nil {
		t.Fatal(err)
	}
	src, err := tx.EnsureSource("/src/"+list, l)
	if err != nil {
		t.Fatal(err)
	}
	var out []*Added
	for _, m := range msgs {
		m.List, m.Source = l, src
		a, err := tx.AddMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

func threadOf(t *testing.T, s *Store, mid string) int64 {
	t.Helper()
	m, err := s.MessageByID(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	return m.Thread
}

func TestDedup(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	r := add(t, s, "a", msg("one", []string{"1@x"}), msg("one", []string{"1@x"}))
	if r[0].Duplicate || !r[1].Duplicate || r[0].ID != r[1].ID {
		t.Fatalf("same id and content: got %+v %+v, want second a duplicate of first", r[0], r[1])
	}
	// The same message on another list: one message, two lists.
	r2 := add(t, s, "b", msg("one", []string{"1@x"}))
	if !r2[0].Duplicate {
		t.Fatalf("cross-list copy not deduplicated")
	}
	m, err := s.MessageByID(ctx, "<1@x>")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, m.Lists); diff != "" {
		t.Errorf("lists (-want +got):\n%s", diff)
	}
	// Same id, other content: kept, under a generated id.
	r3 := add(t, s, "a", msg("other", []string{"1@x"}))
	if r3[0].Duplicate || !r3[0].Generated || r3[0].MessageID == "1@x" {
		t.Fatalf("reused id: got %+v, want a new message with a generated id", r3[0])
	}
	// ... and importing it again finds it.
	if r4 := add(t, s, "a", msg("other", []string{"1@x"})); !r4[0].Duplicate || r4[0].ID != r3[0].ID {
		t.Fatalf("re-import of reused id: got %+v, want duplicate of %d", r4[0], r3[0].ID)
	}
	// No Message-ID: generated from the content, deduplicated too.
	r5 := add(t, s, "a", msg("noid", nil), msg("noid", nil))
	if !r5[0].Generated || !r5[1].Duplicate {
		t.Fatalf("missing id: got %+v %+v", r5[0], r5[1])
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 3 || st.Lists != 2 {
		t.Errorf("stats = %+v, want 3 messages on 2 lists", st)
	}
}

func TestGhostsAndMerge(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	// Two replies to a root that has not arrived: both join its ghost.
	add(t, s, "a", msg("r1", []string{"r1@x"}, "root@x"))
	add(t, s, "a", msg("r2", []string{"r2@x"}, "root@x", "r1@x"))
	// A reply to a message that arrives later, in another thread for now.
	add(t, s, "a", msg("s1", []string{"s1@x"}, "mid@x"))
	if threadOf(t, s, "r1@x") == threadOf(t, s, "s1@x") {
		t.Fatal("unrelated threads share an id")
	}
	st, _ := s.Stats(ctx)
	if st.Ghosts != 2 || st.Threads != 2 {
		t.Fatalf("before: stats %+v, want 2 ghosts in 2 threads", st)
	}
	// mid@x arrives, replying to root: it replaces its ghost and the two
	// threads merge.
	add(t, s, "a", msg("mid", []string{"mid@x"}, "root@x"))
	tid := threadOf(t, s, "r1@x")
	for _, id := range []string{"r2@x", "s1@x", "mid@x"} {
		if got := threadOf(t, s, id); got != tid {
			t.Errorf("thread of %s = %d, want %d", id, got, tid)
		}
	}
	// The root arrives last and takes its ghost's place.
	add(t, s, "a", msg("root", []string{"root@x"}))
	if got := threadOf(t, s, "root@x"); got != tid {
		t.Errorf("root thread = %d, want %d", got, tid)
	}
	st, _ = s.Stats(ctx)
	if st.Ghosts != 0 || st.Threads != 1 || st.Messages != 5 {
		t.Fatalf("after: stats %+v, want 5 messages, 1 thread, no ghost", st)
	}
	msgs, err := s.ThreadMessages(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.MessageID)
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"mid@x", "r1@x", "r2@x", "root@x", "s1@x"}, got); diff != "" {
		t.Errorf("thread members (-want +got):\n%s", diff)
	}
}

func TestCheckpointsAndReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: err = %v, want ErrLocked", err)
	}
	tx, _ := s.Begin(ctx)
	l, _ := tx.EnsureList("a", "")
	src, _ := tx.EnsureSource("/x.mbox", l)
	tx.SetCheckpoint(src, "", "100:abc")
	tx.SetCheckpoint(src, "", "200:def")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// An uncommitted batch leaves nothing behind.
	tx, _ = s.Begin(ctx)
	tx.SetCheckpoint(src, "", "300:xyz")
	tx.Rollback()
	s.Close()
	r, err := Open(ctx, dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cps, err := r.Checkpoints(ctx, "/x.mbox")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"": "200:def"}, cps); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
}

func TestRawRoundTrip(t *testing.T) {
	s := open(t)
	raw := []byte("Message-ID: <z@x>\n\nhello\n")
	m := msg("z", []string{"z@x"})
	m.Raw = s.Compress(raw)
	a := add(t, s, "a", m)
	got, err := s.Raw(context.Background(), a[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(raw) {
		t.Errorf("Raw = %q, want %q", got, raw)
	}
	if _, err := s.Resolve(context.Background(), "nope@x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve unknown: err = %v, want ErrNotFound", err)
	}
}

// TestGenerationMovesOnRemoval: hiding a message (a deletion upstream)
// and showing it again both change Generation, as a new message does,
// so that cached thread answers are not served after either.
func TestGenerationMovesOnRemoval(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	gen := func() int64 {
		t.Helper()
		g, err := s.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g0 := gen()
	m := msg("one", []string{"1@x"})
	add(t, s, "a", m)
	g1 := gen()
	if g1 == g0 {
		t.Fatal("a new message did not change the generation")
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tx.EnsureList("a", "a.example.org")
	if err != nil {
		t.Fatal(err)
	}
	id, err := tx.RemoveMessage([]string{"1@x"}, m.ContentHash, l)
	if err != nil || id == 0 {
		t.Fatalf("RemoveMessage = %d, %v", id, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	g2 := gen()
	if g2 == g1 {
		t.Error("a removal did not change the generation")
	}
	add(t, s, "a", msg("one", []string{"1@x"})) // back again
	if g3 := gen(); g3 == g2 || g3 == g1 {
		t.Errorf("showing the message again gave generation %d (before: %d, %d)", g3, g1, g2)
	}
	if again := gen(); again != gen() {
		t.Error("the generation moved without a change")
	}
}

// TestCVESummaryFill: a store whose CVEs were stored before cve_summary
// existed gets the table filled when it is opened for writing.
func TestCVESummaryFill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	row := &CVERow{ID: "CVE-2024-1", Title: "io_uring: fix x", NormTitle: "io_uring: fix x", Files: []string{"io_uring/rw.c"},
		FixSHAs: []string{strings.Repeat("b", 40), strings.Repeat("a", 40)},
		Backports: []CVEBackport{{IntroducedVersion: "6.1", IntroducedSHA: strings.Repeat("c", 40), FixedVersion: "6.1.80", FixedSHA: strings.Repeat("d", 40)},
			{FixedVersion: "6.8", FixedSHA: strings.Repeat("a", 40)}}}
	if err := tx.PutCVE(row); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var direct []*CVERow
	if err := st.EachCVE(ctx, func(c *CVERow) error { direct = append(direct, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `DROP TABLE cve_summary`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = Open(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var filled []*CVERow
	if err := st.EachCVE(ctx, func(c *CVERow) error { filled = append(filled, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(direct, filled); d != "" || len(filled) != 1 || len(filled[0].Backports) != 2 || filled[0].FixSHAs[0] != strings.Repeat("a", 40) {
		t.Errorf("EachCVE after the fill (-before +after):\n%s\n%+v", d, filled)
	}
	states, err := st.CVEStates(ctx)
	if err != nil || len(states) != 1 {
		t.Errorf("CVEStates = %v, %v", states, err)
	}
}

// TestStatsReadNoMail: no count of Stats scans the messages table, whose
// rows hold the raw mail (seconds at 400k messages); each reads an index.
func TestStatsReadNoMail(t *testing.T) {
	s := open(t)
	add(t, s, "l", msg("one", []string{"1@x"}), msg("two", []string{"2@x"}, "1@x"))
	ctx := context.Background()
	for _, c := range statsCounts {
		rows, err := s.DB().QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.sql)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, d := range plan {
			if d == "SCAN messages" {
				t.Errorf("%s: plan %q scans the messages table", c.sql, plan)
			}
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 2 || st.Threads != 1 || st.Deleted != 0 {
		t.Errorf("stats: %d messages, %d threads, %d deleted; want 2, 1, 0", st.Messages, st.Threads, st.Deleted)
	}
}
