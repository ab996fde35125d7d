package radar_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/link"
	"patchtrail/internal/radar"
	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
)

// fixtureStore imports the fixture into a new data directory, with the
// radar's hook unless noRadar.
func fixtureStore(t *testing.T, noRadar bool) (*store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "foo.mbox")
	if err := os.WriteFile(src, []byte(radar.FixtureForTest()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := filepath.Join(dir, "data")
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var hooks []indexer.Hook
	if !noRadar {
		h, err := indexer.OpenRadarHook(ctx, st, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, h)
	}
	if _, err := indexer.Import(ctx, st, src, &indexer.Options{List: "foo", Hooks: hooks}); err != nil {
		t.Fatal(err)
	}
	return st, data
}

// direct scores the store's patches from its raw messages (radar.Load),
// newest version of each patch: what the stored scores must equal.
func direct(t *testing.T, st *store.Store, m *radar.Model) map[string]float64 {
	t.Helper()
	c, err := radar.Load(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := radar.LabelsFromStore(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range c.Patches(time.Time{}, time.Time{}, labels) {
		out[r.MessageID] = math.Round(m.Score(r)*1000) / 1000
	}
	return out
}

func stored(t *testing.T, st *store.Store) map[string]float64 {
	t.Helper()
	items, err := radar.List(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, it := range items {
		out[it.MessageID] = it.Score
	}
	return out
}

// Scores are stored as messages are imported, and equal the scores
// computed from the raw messages; also when the update reads the
// discussion of one thread at a time.
func TestScoredAtImport(t *testing.T) {
	for _, chunk := range []int{0, 1} {
		t.Run(fmt.Sprintf("chunk=%d", chunk), func(t *testing.T) {
			if chunk > 0 {
				radar.SetChunkThreadsForTest(t, chunk)
			}
			testScoredAtImport(t)
		})
	}
}

func testScoredAtImport(t *testing.T) {
	st, _ := fixtureStore(t, false)
	want := direct(t, st, radar.Default())
	if len(want) < 3 {
		t.Fatalf("fixture has %d patches, want at least 3", len(want))
	}
	if d := cmp.Diff(want, stored(t, st)); d != "" {
		t.Errorf("stored scores (-direct +stored):\n%s", d)
	}
	items, err := radar.List(context.Background(), st, &radar.Query{MinScore: 0.5, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Score < 0.5 || len(it.Signals) == 0 || it.Signals[0].Evidence == "" {
			t.Errorf("item %+v: want a score >= 0.5 with signals and evidence", it)
		}
	}
}

// A store imported without the hook (or killed before scoring) is read
// and scored when the hook opens, to the same scores; a queued message
// is rescored by the next update.
func TestScoresResume(t *testing.T) {
	st, data := fixtureStore(t, true)
	ctx := context.Background()
	if _, err := radar.List(ctx, st, nil); err == nil {
		t.Fatal("List on a store never scored: want an error")
	}
	if _, err := indexer.OpenRadarHook(ctx, st, data, nil); err != nil {
		t.Fatal(err)
	}
	want := direct(t, st, radar.Default())
	if d := cmp.Diff(want, stored(t, st)); d != "" {
		t.Errorf("scores after resume (-direct +stored):\n%s", d)
	}
	// Lose the scores as a crash between message and score would, with
	// the message still queued.
	if _, err := st.DB().Exec(`DELETE FROM radar_scores; INSERT INTO radar_queue(message) SELECT message FROM radar_evidence`); err != nil {
		t.Fatal(err)
	}
	n, err := radar.NewScorer(st, nil, nil).Update(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("Update scored nothing with every message queued")
	}
	if d := cmp.Diff(want, stored(t, st)); d != "" {
		t.Errorf("scores after the queue was scored (-direct +stored):\n%s", d)
	}
	if q, err := st.RadarQueued(ctx); err != nil || len(q) != 0 {
		t.Errorf("queue after Update = %v, %v; want empty", q, err)
	}
}

// The age of a Fixes: target comes from the commits of registered
// repositories when they hold it: new commits queue the postings whose
// Fixes: they date, an update of a few messages reads only the commits
// its rows name, to the scores of a whole rescoring.
func TestFixesAgeFromCommits(t *testing.T) {
	st := importScored(t, twoVersions)
	ctx := context.Background()
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := tx.EnsureRepo("foo", "/nonexistent")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*store.CommitRow{
		{SHA: "0123456789abcdef0123456789abcdef01234567", Subject: "foo: add foo_read", NormSubject: radar.TitleKey("foo: add foo_read"),
			AuthorDate: time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), CommitDate: time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)},
		{SHA: "fedcba9876543210fedcba9876543210fedcba98", Subject: "bar: something else", NormSubject: radar.TitleKey("bar: something else"),
			AuthorDate: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), CommitDate: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := tx.PutCommit(repo, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	sc := radar.NewScorer(st, nil, nil)
	if _, err := sc.Update(ctx); err != nil { // new commits: the postings whose Fixes: they date
		t.Fatal(err)
	}
	if read, local := radar.LastUpdateForTest(sc); !local || read == 0 {
		t.Errorf("the update after new commits read %d postings (only its neighbourhood: %v), want the fix's", read, local)
	}
	words := func() string {
		items, err := radar.List(ctx, st, nil)
		if err != nil || len(items) != 1 {
			t.Fatalf("List = %d items, %v; want the patch", len(items), err)
		}
		for _, sig := range items[0].Signals {
			if sig.Name == "fixes_age" {
				return sig.Words
			}
		}
		return ""
	}
	if w := words(); w != "Fixes: a commit 5 years old" {
		t.Errorf("fixes_age after the update of the new commits = %q, want the commit's age (5 years)", w)
	}
	whole := stored(t, st)
	if _, err := st.DB().Exec(`INSERT INTO radar_queue(message) SELECT id FROM messages`); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if _, local := radar.LastUpdateForTest(sc); !local {
		t.Fatal("the update of two queued messages read every posting")
	}
	if w := words(); w != "Fixes: a commit 5 years old" {
		t.Errorf("fixes_age after an update of the queue = %q, want the commit's age (5 years)", w)
	}
	if d := cmp.Diff(whole, stored(t, st)); d != "" {
		t.Errorf("scores (-whole rescoring +update of the queue):\n%s", d)
	}
	if d := cmp.Diff(direct(t, st, radar.Default()), whole); d != "" {
		t.Errorf("scores (-direct +whole rescoring):\n%s", d)
	}
}

// A queue longer than an update's part is scored in parts, each reading
// only what it reaches, to the scores of a whole scoring.
func TestScoredInParts(t *testing.T) {
	st, _ := fixtureStore(t, false)
	ctx := context.Background()
	want := direct(t, st, radar.Default())
	// Every message queued without its terms, as if just stored.
	if _, err := st.DB().Exec(`DELETE FROM radar_scores; DELETE FROM radar_terms; INSERT INTO radar_queue(message) SELECT message FROM radar_evidence`); err != nil {
		t.Fatal(err)
	}
	radar.SetLocalForTest(t, 2, 50000)
	sc := radar.NewScorer(st, nil, nil)
	if _, err := sc.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if _, local := radar.LastUpdateForTest(sc); !local {
		t.Error("the last part read every posting, want only its neighbourhood")
	}
	if d := cmp.Diff(want, stored(t, st)); d != "" {
		t.Errorf("scores of a queue scored in parts (-direct +stored):\n%s", d)
	}
	if q, err := st.RadarQueued(ctx); err != nil || len(q) != 0 {
		t.Errorf("queue after Update = %v, %v; want empty", q, err)
	}
}

// Once the hook has read the evidence of every message, an open reads
// only the messages stored since (store.RadarMissing's mark): a message
// imported without the hook is the only one missing, and the next open
// reads and scores it; other rules read every message again.
func TestEvidenceMark(t *testing.T) {
	st, data := fixtureStore(t, false)
	ctx := context.Background()
	ids, mark, err := st.RadarMissing(ctx, radar.Rules())
	if err != nil || len(ids) != 0 || mark == 0 {
		t.Fatalf("RadarMissing after a scored import = %v, %d, %v; want none and a mark", ids, mark, err)
	}
	src := filepath.Join(t.TempDir(), "one.mbox")
	one := fooMbox(fooPost{mid: "late@example.org", day: "Mon, 2 Feb 2026", subject: "[PATCH] foo: fix a late race in foo_read",
		changelog: "Take the lock.", fixes: `0123456789ab ("foo: add foo_read")`})
	if err := os.WriteFile(src, []byte(one), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := indexer.Import(ctx, st, src, &indexer.Options{List: "foo"}); err != nil {
		t.Fatal(err)
	}
	ids, _, err = st.RadarMissing(ctx, radar.Rules())
	if err != nil || len(ids) != 1 || ids[0] <= mark {
		t.Fatalf("RadarMissing after an import without the hook = %v, %v; want the one new message (after row %d)", ids, err, mark)
	}
	if _, err := indexer.OpenRadarHook(ctx, st, data, nil); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(direct(t, st, radar.Default()), stored(t, st)); d != "" {
		t.Errorf("scores after the open read the new message (-direct +stored):\n%s", d)
	}
	if ids, _, err := st.RadarMissing(ctx, radar.Rules()); err != nil || len(ids) != 0 {
		t.Errorf("RadarMissing after the open = %v, %v; want none", ids, err)
	}
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := st.RadarMissing(ctx, "other rules"); err != nil || len(ids) != n {
		t.Errorf("RadarMissing with other rules = %d ids, %v; want every message (%d)", len(ids), err, n)
	}
}

// Training on the store's labels is deterministic, starts from the
// default model, writes the model file, and rescoring uses it.
func TestTrainStore(t *testing.T) {
	ctx := context.Background()
	var files [][]byte
	for range 2 {
		st, data := fixtureStore(t, false)
		tx, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []store.CVERow{
			{ID: "CVE-2024-1", Title: "foo: fix use-after-free in foo_release", Published: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)},
			{ID: "CVE-2024-2", Title: "foo: fix an overflow in foo_read", Published: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		} {
			c.NormTitle = radar.TitleKey(c.Title)
			if err := tx.PutCVE(&c); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := radar.TrainStore(ctx, st, data, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)); err == nil {
			t.Error("TrainStore --until 2024-02-01: want an error (no CVE was published before)")
		}
		m, err := radar.TrainStore(ctx, st, data, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(data, radar.ModelFile))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
		if m.Trained.Positives == 0 || m.Trained.Prior != "default model" {
			t.Errorf("trained %+v, want positives from the default model", m.Trained)
		}
		if _, err := radar.NewScorer(st, m, nil).Update(ctx); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(direct(t, st, m), stored(t, st)); d != "" {
			t.Errorf("scores after training (-direct +stored):\n%s", d)
		}
		got, err := radar.StoreModel(data)
		if err != nil || got.Bias != m.Bias {
			t.Errorf("StoreModel = %v, %v; want the trained model", got, err)
		}
	}
	if string(files[0]) != string(files[1]) {
		t.Errorf("the same data trained two different model files:\n%s\n%s", files[0], files[1])
	}
	if string(files[0]) == string(radar.Default().Marshal()) {
		t.Error("training left the default model unchanged")
	}
}

// fooPost is one posting of a patch to fs/foo/read.c that takes a lock
// (and with unlock, drops it again); fixes is its Fixes: trailer, if any.
type fooPost struct {
	mid, day, subject, changelog, fixes string
	unlock                              bool
}

// fooMbox is an mbox of posts by one sender, each at 10:00 UTC of its day.
func fooMbox(posts ...fooPost) string {
	var b strings.Builder
	for i, p := range posts {
		if i > 0 {
			b.WriteString("\n")
		}
		date, err := time.Parse("Mon, 2 Jan 2006", p.day)
		if err != nil {
			panic(err)
		}
		date = date.Add(10 * time.Hour)
		trailers := "Signed-off-by: Alice Dev <alice@example.org>\n"
		if p.fixes != "" {
			trailers = "Fixes: " + p.fixes + "\n" + trailers
		}
		hunk, unlock := "@@ -1,2 +1,3 @@", ""
		if p.unlock {
			hunk, unlock = "@@ -1,2 +1,4 @@", "+\tspin_unlock(&f->lock);\n"
		}
		fmt.Fprintf(&b, "From alice %s\nFrom: Alice Dev <alice@example.org>\nTo: foo@lists.example.org\n"+
			"Subject: %s\nDate: %s\nMessage-ID: <%s>\n\n%s\n\n%s---\n"+
			"diff --git a/fs/foo/read.c b/fs/foo/read.c\n--- a/fs/foo/read.c\n+++ b/fs/foo/read.c\n"+
			"%s static int foo_read(struct foo *f)\n+\tspin_lock(&f->lock);\n \tf->n++;\n%s \treturn 0;\n",
			date.Format(time.ANSIC), p.subject, date.Format("Mon, 2 Jan 2006 15:04:05 -0700"), p.mid, p.changelog, trailers, hunk, unlock)
	}
	return b.String()
}

var twoVersions = fooMbox(
	fooPost{"v1@example.org", "Mon, 3 Jun 2024", "[PATCH] foo: fix a race in foo_read", "Take the lock.", "", false},
	fooPost{"v2@example.org", "Mon, 10 Jun 2024", "[PATCH v2] foo: fix a race in foo_read", "Take the lock, and drop it.",
		`0123456789ab ("foo: add foo_read")`, true},
)

// Versions fold into the newest; when the newest leaves the archive,
// the one before it is the patch's row again.
func TestVersionRemoved(t *testing.T) {
	ctx := context.Background()
	st := importScored(t, twoVersions)
	rows := func() []string {
		items, err := radar.List(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.MessageID+" "+strings.Join(it.Versions, ","))
		}
		return out
	}
	if d := cmp.Diff([]string{"v2@example.org v1@example.org,v2@example.org"}, rows()); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	removeAndRescore(t, st, "v2@example.org")
	if d := cmp.Diff([]string{"v1@example.org v1@example.org"}, rows()); d != "" {
		t.Errorf("rows after v2 left (-want +got):\n%s", d)
	}
}

var renamed = fooMbox(
	fooPost{"r1@example.org", "Mon, 3 Jun 2024", "[PATCH] foo: fix a race in foo_read", "Take the lock.", "", false},
	fooPost{"r2@example.org", "Thu, 6 Jun 2024", "[PATCH v2] foo: fix the race in foo_read under the lock", "Take the lock, and drop it.", "", true},
)

// A newer version under a reworded subject folds the older posting into
// its row; when it is removed, the older posting is the patch's row
// again, without the mark of a newer version.
func TestRenamedRemoved(t *testing.T) {
	ctx := context.Background()
	st := importScored(t, renamed)
	rows := func() []string {
		items, err := radar.List(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			row := it.MessageID + " " + strings.Join(it.Versions, ",")
			for _, s := range it.Signals {
				if s.Name == "renamed_later" {
					row += " renamed_later"
				}
			}
			out = append(out, row)
		}
		return out
	}
	if d := cmp.Diff([]string{"r2@example.org r1@example.org,r2@example.org"}, rows()); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	removeAndRescore(t, st, "r2@example.org")
	if d := cmp.Diff([]string{"r1@example.org r1@example.org"}, rows()); d != "" {
		t.Errorf("rows after r2 left (-want +got):\n%s", d)
	}
}

// importScored imports mbox as list foo into a new data directory with
// the radar hook, as `patchtrail import` does.
func importScored(t *testing.T, mbox string) *store.Store {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "foo.mbox")
	if err := os.WriteFile(src, []byte(mbox), 0o644); err != nil {
		t.Fatal(err)
	}
	st, h := openScored(t, filepath.Join(dir, "data"))
	if _, err := indexer.Import(context.Background(), st, src, &indexer.Options{List: "foo", Hooks: []indexer.Hook{h}}); err != nil {
		t.Fatal(err)
	}
	return st
}

// removeAndRescore scores every message, then removes mid as an archive
// purge does (deleted, queued) and rescores.
func removeAndRescore(t *testing.T, st *store.Store, mid string) {
	t.Helper()
	ctx := context.Background()
	sc := radar.NewScorer(st, nil, nil)
	if _, err := sc.Update(ctx); err != nil { // reads every message
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`UPDATE messages SET deleted = 1 WHERE message_id = ?;
		INSERT INTO radar_queue(message) SELECT id FROM messages WHERE message_id = ?`, mid, mid); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Update(ctx); err != nil {
		t.Fatal(err)
	}
}

// A long import scores between batches once the oldest batch not scored
// yet is old enough (RadarHook.Interval); a short one leaves everything
// queued for its end (Finish). Either way the end gives the scores of a
// whole scoring.
func TestScoredBetweenBatches(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		interval time.Duration
		between  bool // scored before Finish
	}{{0, true}, {time.Hour, false}} {
		dir := t.TempDir()
		src := filepath.Join(dir, "foo.mbox")
		if err := os.WriteFile(src, []byte(radar.FixtureForTest()), 0o644); err != nil {
			t.Fatal(err)
		}
		st, h := openScored(t, filepath.Join(dir, "data"))
		h.Interval = tc.interval
		// One message a batch, and Finish left to the test.
		opts := &indexer.Options{List: "foo", Hooks: []indexer.Hook{h}, BatchBytes: 1, DeferFinish: true}
		res, err := indexer.Import(ctx, st, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		q, err := st.RadarQueued(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if scored := len(q) < res.Added; scored != tc.between {
			t.Errorf("interval %v: %d of %d messages queued before Finish; want scoring between batches %v", tc.interval, len(q), res.Added, tc.between)
		}
		if err := indexer.FinishHooks(ctx, opts.Hooks); err != nil {
			t.Fatal(err)
		}
		if q, err := st.RadarQueued(ctx); err != nil || len(q) != 0 {
			t.Errorf("interval %v: queue after Finish %v, %v; want empty", tc.interval, q, err)
		}
		if d := cmp.Diff(direct(t, st, radar.Default()), stored(t, st)); d != "" {
			t.Errorf("interval %v: scores (-direct +stored):\n%s", tc.interval, d)
		}
	}
}

// A fuzzer's report in a thread of its own, and the fix that closes it
// in another: the fix's row reads the report, also when the update
// reads the discussion of one thread at a time.
const closedReport = `From syzbot Sat Jun  1 10:00:00 2024
From: syzbot <syzbot+0123456789abcdef@syzkaller.appspotmail.com>
To: foo@lists.example.org
Subject: [syzbot] KASAN: slab-use-after-free Read in foo_read
Date: Sat, 1 Jun 2024 10:00:00 +0000
Message-ID: <report@example.org>

BUG: KASAN: slab-use-after-free in foo_read+0x10/0x20
Read of size 8 at addr ffff888012345678 by task syz-executor/1234

From alice Mon Jun  3 10:00:00 2024
From: Alice Dev <alice@example.org>
To: foo@lists.example.org
Subject: [PATCH] foo: fix a use-after-free in foo_read
Date: Mon, 3 Jun 2024 10:00:00 +0000
Message-ID: <fix@example.org>

foo_read reads f after foo_release freed it. Hold a reference.

Reported-by: syzbot+0123456789abcdef@syzkaller.appspotmail.com
Closes: https://lore.kernel.org/all/report@example.org/
Signed-off-by: Alice Dev <alice@example.org>
---
diff --git a/fs/foo/read.c b/fs/foo/read.c
--- a/fs/foo/read.c
+++ b/fs/foo/read.c
@@ -1,2 +1,3 @@ static int foo_read(struct foo *f)
+	foo_get(f);
 	f->n++;
 	return 0;
`

func TestClosedReportChunked(t *testing.T) {
	radar.SetChunkThreadsForTest(t, 1)
	st := importScored(t, closedReport)
	items, err := radar.List(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d rows, want the fix's", len(items))
	}
	var names []string
	for _, s := range items[0].Signals {
		if s.Evidence == "report@example.org" {
			names = append(names, s.Name)
		}
	}
	if !slices.Contains(names, "answers_report") || !slices.Contains(names, "sanitizer_thread") {
		t.Errorf("signals with the report as evidence: %v; want answers_report and sanitizer_thread", names)
	}
	if d := cmp.Diff(direct(t, st, radar.Default()), stored(t, st)); d != "" {
		t.Errorf("stored scores (-direct +stored):\n%s", d)
	}
}

// pullRequest is a maintainer's pull request for a tree of fixes whose
// shortlog names the fixture's fix, a few days after it was posted.
const pullRequest = `From maintainer Mon Jan  1 00:00:00 2024
From: Foo Maintainer <maint@example.org>
Subject: [GIT PULL] foo fixes for 6.10-rc3
Date: Mon, 10 Jun 2024 10:00:00 +0000
Message-ID: <pull@example.org>

The following changes since commit 83a7eefedc9b56fe7bfeff13b6c7356688ffa670:

  Linux 6.10-rc2 (2024-06-02 15:44:56 -0700)

are available in the Git repository at:

  git://git.kernel.org/pub/scm/linux/kernel/git/foo/foo.git tags/foo-fixes-2024-06-10

for you to fetch changes up to 1b9c17fd0a7fdcbe69ec5d6fe8e50bc5ed7f01f2:

  foo: fix use-after-free in foo_release (2024-06-07 13:26:53 -0500)

----------------------------------------------------------------
Fixes for foo.

----------------------------------------------------------------
Fix Author (1):
      foo: fix use-after-free in foo_release

 fs/foo/release.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)
`

// Messages arriving one at a time, each scored before the next (an
// update per message, as a sync round of one message scores it), give
// the scores of a whole scoring: what a message changes reaches every
// posting it changes (Corpus.affected), in archive order and against it.
// The pull request, arriving after the fix it names, rescores it.
func TestScoredOneAtATime(t *testing.T) {
	var msgs []string
	for i, part := range strings.Split("\n"+radar.FixtureForTest()+"\n"+closedReport+"\n"+pullRequest, "\nFrom ") {
		if i > 0 && strings.TrimSpace(part) != "" {
			msgs = append(msgs, "From "+part+"\n")
		}
	}
	if len(msgs) < 8 {
		t.Fatalf("split the fixture into %d messages", len(msgs))
	}
	for _, order := range []string{"archive", "reversed"} {
		t.Run(order, func(t *testing.T) {
			ms := slices.Clone(msgs)
			if order == "reversed" {
				slices.Reverse(ms)
			}
			ctx := context.Background()
			dir := t.TempDir()
			st, h := openScored(t, filepath.Join(dir, "data"))
			for i, m := range ms {
				src := filepath.Join(dir, fmt.Sprintf("%03d.mbox", i))
				if err := os.WriteFile(src, []byte(m), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := indexer.Import(ctx, st, src, &indexer.Options{List: "foo", Hooks: []indexer.Hook{h}}); err != nil {
					t.Fatal(err)
				}
			}
			if d := cmp.Diff(direct(t, st, radar.Default()), stored(t, st)); d != "" {
				t.Errorf("scores after %d one-message imports (-direct +stored):\n%s", len(ms), d)
			}
			items, err := radar.List(ctx, st, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The pull request (for a tree of fixes) sets pulled and
			// fix_bound, whose interactions carry its evidence too.
			var pulled []string
			for _, it := range items {
				for _, s := range it.Signals {
					if s.Evidence == "pull@example.org" && !strings.Contains(s.Name, "*") {
						pulled = append(pulled, it.Subject+": "+s.Name)
					}
				}
			}
			slices.Sort(pulled)
			if want := []string{"[PATCH] foo: fix use-after-free in foo_release: fix_bound", "[PATCH] foo: fix use-after-free in foo_release: pulled"}; !slices.Equal(pulled, want) {
				t.Errorf("signals with the pull request as evidence: %q, want %q", pulled, want)
			}
		})
	}
}

// The io-uring epoch imported with the radar scoring after every batch
// (about 30 updates, each scoring its batch in parts of 300 messages,
// each part reading only the postings it reaches: hood.go) gives the
// rows of a whole scoring of the same store: what a
// message changes reaches every posting it changes (Corpus.affected), and
// what those postings read is read with them, on real mail. Then single
// postings queued again, each scored by an update of its own, read a
// small part of the store and change no row.
func TestIncrementalEqualsFullOnEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the whole epoch")
	}
	inbox := testcorpus.Inbox(t)
	vulns := testcorpus.Vulns(t)
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The CVEs first, so that the history signals and the labelled
	// terms are read as the epoch arrives.
	if _, err := link.ImportCVEs(ctx, st, vulns, nil); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := indexer.OpenRadarHook(ctx, st, data, &indexer.WriterOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h.Interval, h.Share = 0, 0 // score after every batch
	// Each batch's queue scored in parts (Update), as a bigger import's.
	radar.SetLocalForTest(t, 300, 50000)
	if _, err := indexer.Import(ctx, st, inbox, &indexer.Options{List: "io-uring", Hooks: []indexer.Hook{h}}); err != nil {
		t.Fatal(err)
	}
	radar.SetLocalForTest(t, 10000, 50000)
	if n := strings.Count(logs.String(), "local=true"); n < 30 {
		t.Errorf("%d updates of the import read only what their batch reaches, want most of them:\n%.3000s", n, logs.String())
	}
	list := func() []radar.Item {
		items, err := radar.List(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	incremental, incRows := list(), allScores(t, st)
	sc := radar.NewScorer(st, nil, nil)
	// whole rescores every posting reading every posting at once (no
	// neighbourhood: the reference), or in parts (Scorer.scoreAll).
	whole := func(parts bool) {
		t.Helper()
		if !parts {
			radar.SetLocalForTest(t, 0, 0)
			defer radar.SetLocalForTest(t, 10000, 50000)
		}
		if _, err := st.DB().Exec(`DELETE FROM meta WHERE key = 'radar_stamp'`); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Update(ctx); err != nil {
			t.Fatal(err)
		}
		if _, local := radar.LastUpdateForTest(sc); local != parts {
			t.Errorf("a whole rescoring read only neighbourhoods: %v, want %v", local, parts)
		}
	}
	whole(false)
	full, fullRows := list(), allScores(t, st)
	if len(full) < 1000 {
		t.Fatalf("%d rows after a whole scoring of the epoch", len(full))
	}
	if n := countSignal(fullRows, "history_"); n < 100 {
		t.Fatalf("%d rows with a history signal after a whole scoring of the epoch with its CVEs, want hundreds", n)
	}
	if d := cmp.Diff(full, incremental); d != "" {
		t.Errorf("rows scored batch by batch (-whole scoring +batches):\n%.4000s", d)
	}
	if d := cmp.Diff(fullRows, incRows); d != "" {
		t.Errorf("stored scores scored batch by batch (-whole scoring +batches):\n%.4000s", d)
	}
	total, _ := radar.LastUpdateForTest(sc)
	whole(true)
	if d := cmp.Diff(fullRows, allScores(t, st)); d != "" {
		t.Errorf("stored scores rescored in parts (-whole scoring +parts):\n%.4000s", d)
	}
	newest := slices.Clone(full)
	slices.SortFunc(newest, func(a, b radar.Item) int { return b.Date.Compare(a.Date) })
	for i := 0; i < 200; i += 10 { // 20 of the newest 200
		it := newest[i]
		if _, err := st.DB().Exec(`INSERT INTO radar_queue(message) SELECT id FROM messages WHERE message_id = ?`, it.MessageID); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Update(ctx); err != nil {
			t.Fatal(err)
		}
		read, local := radar.LastUpdateForTest(sc)
		if !local || read > total/20 {
			t.Errorf("queued <%s>: the update read %d of %d postings (only its neighbourhood: %v), want a small part", it.MessageID, read, total, local)
		}
	}
	if d := cmp.Diff(fullRows, allScores(t, st)); d != "" {
		t.Errorf("stored scores after single postings rescored (-whole scoring +after):\n%.4000s", d)
	}

	// CVEs change: 20 withdrawn, 20 published 200 days earlier, 20 new
	// ones titled as fixes that had none. The update rescores what they
	// change, to the scores of a whole rescoring.
	for _, q := range []string{
		`DELETE FROM cve_summary WHERE id IN (SELECT id FROM cve_summary WHERE norm_title IN (SELECT key FROM radar_scores) ORDER BY id LIMIT 20)`,
		`UPDATE cve_summary SET published = published - 200*86400 WHERE id IN (SELECT id FROM cve_summary WHERE norm_title IN (SELECT key FROM radar_scores) ORDER BY id DESC LIMIT 20)`,
		`INSERT INTO cve_summary(id, title, norm_title, severity, cvss, published, files, fixes, dyad)
			SELECT 'CVE-TEST-' || message, subject, key, '', 0, date + 60*86400, '[]', '[]', '' FROM radar_scores
			WHERE head = 1 AND signals LIKE '%"name":"fixes"%' AND key NOT IN (SELECT norm_title FROM cve_summary) ORDER BY message LIMIT 20`,
	} {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sc.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if _, local := radar.LastUpdateForTest(sc); !local {
		t.Error("the update after new CVEs read every posting, want only what they change")
	}
	changed := allScores(t, st)
	if cmp.Equal(changed, fullRows) {
		t.Fatal("no score changed with 60 CVEs changed")
	}
	whole(false)
	if d := cmp.Diff(allScores(t, st), changed); d != "" {
		t.Errorf("stored scores after CVEs changed (-whole rescoring +update):\n%.4000s", d)
	}
}

// countSignal counts the rows (allScores) with a signal whose name
// starts with prefix.
func countSignal(rows map[string]string, prefix string) int {
	n := 0
	for _, r := range rows {
		if strings.Contains(r, `"name":"`+prefix) {
			n++
		}
	}
	return n
}

// allScores returns every stored score row, by Message-ID.
func allScores(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT message_id, head, score, versions, signals FROM radar_scores`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var mid, versions, signals string
		var head bool
		var score float64
		if err := rows.Scan(&mid, &head, &score, &versions, &signals); err != nil {
			t.Fatal(err)
		}
		out[mid] = fmt.Sprintf("head=%v score=%.12g versions=%s signals=%s", head, score, versions, signals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// syncBuffer is a bytes.Buffer for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// openScored opens a store in the data directory data, closed when the
// test ends, with the radar's hook.
func openScored(t *testing.T, data string) (*store.Store, *indexer.RadarHook) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := indexer.OpenRadarHook(ctx, st, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st, h
}
