package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/config"
	"patchtrail/internal/link"
	"patchtrail/internal/mirror"
	"patchtrail/internal/store"
	"patchtrail/internal/testserver"
	"patchtrail/search"
)

// maildir writes n synthetic messages tagged tag into a new Maildir.
func maildir(t *testing.T, tag string, n int) string {
	t.Helper()
	md := filepath.Join(t.TempDir(), tag)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range testserver.Synthetic(tag, 0, n, 0) {
		if err := os.WriteFile(filepath.Join(md, "cur", fmt.Sprintf("%06d:2,", i)), m, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return md
}

// fakeMirror makes dir look like a mirror that `clone` made.
func fakeMirror(t *testing.T, dir, list, url string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(mirror.Mirror{URL: url, List: list})
	if err := os.WriteFile(filepath.Join(dir, mirror.MetaFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gitRepo makes a repository with the given commit subjects.
func gitRepo(t *testing.T, subjects ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := filepath.Join(t.TempDir(), "code")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@patchtrail.test",
			"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@patchtrail.test", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", dir)
	for _, s := range subjects {
		git("-C", dir, "commit", "-q", "--allow-empty", "-m", s)
	}
	return dir
}

// withLink gives the link job of o package link, as cmd/patchtrail does.
func withLink(o *SyncOptions) *SyncOptions {
	o.AddRepo = link.AddRepo
	o.Link = func(ctx context.Context, st *store.Store, logger *slog.Logger) (string, error) {
		res, err := link.Link(ctx, st, &link.Options{Logger: logger})
		var parts []string
		for _, r := range res {
			parts = append(parts, fmt.Sprintf("%s: %d new commits, %d linked", r.Repo, r.Read, r.Linked))
		}
		return strings.Join(parts, "; "), err
	}
	return o
}

func jobNames(jobs []mirror.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

func TestMirrorDir(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{
		{0, "/d/mirrors/io-uring"},
		{1, "/d/mirrors/io-uring.2"},
		{2, "/d/mirrors/io-uring.3"},
	} {
		if got := MirrorDir("/d/mirrors", "io-uring", tc.i); got != tc.want {
			t.Errorf("MirrorDir(%d) = %q, want %q", tc.i, got, tc.want)
		}
	}
}

// TestSyncJobs lists the jobs of a round: configured sources in order,
// mirrors on disk the configuration does not name (once), and the link
// job when repositories are configured or registered and the options
// can link.
func TestSyncJobs(t *testing.T) {
	lists := []config.List{
		{Name: "pi", Sources: []config.Source{{Mirror: "https://lore.example/pi"}, {Mirror: "https://other.example/pi"}}},
		{Name: "mail", Sources: []config.Source{{IMAP: "imaps://me@imap.example/INBOX", PasswordFile: "/pw"}}},
		{Name: "local", Sources: []config.Source{{Path: "/srv/local.mbox"}}},
	}
	configured := []string{
		"pi mirror https://lore.example/pi",
		"pi mirror https://other.example/pi",
		"mail imap imaps://me@imap.example/INBOX",
		"local path /srv/local.mbox",
	}
	for _, tc := range []struct {
		name       string
		lists      []config.List
		cfgRepos   bool // a [[repo]] in the configuration
		storeRepos bool // a repository registered in the store
		mirrors    bool // mirrors on disk: one configured, one not
		noLink     bool // SyncOptions without AddRepo and Link
		want       []string
	}{
		{name: "empty"},
		{name: "configured", lists: lists, want: configured},
		{name: "clone mirrors", lists: lists, mirrors: true,
			want: append(append([]string{}, configured...), "cloned mirror https://cloned.example/cloned")},
		{name: "only clone mirrors", mirrors: true,
			want: []string{"cloned mirror https://cloned.example/cloned", "pi mirror https://lore.example/pi"}}, // directory order
		{name: "configured repo", lists: lists, cfgRepos: true, want: append(append([]string{}, configured...), "link commits")},
		{name: "registered repo", storeRepos: true, want: []string{"link commits"}},
		{name: "configured repo, cannot link", lists: lists, cfgRepos: true, noLink: true, want: configured},
		{name: "registered repo, cannot link", storeRepos: true, noLink: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			cfg := &config.Config{Lists: tc.lists}
			if tc.cfgRepos {
				cfg.Repos = []config.Repo{{Name: "code", Path: "/nonexistent"}}
			}
			if tc.storeRepos {
				if err := link.AddRepo(context.Background(), st, "code", gitRepo(t, "first")); err != nil {
					t.Fatal(err)
				}
			}
			mirrors := filepath.Join(t.TempDir(), "mirrors")
			if tc.mirrors {
				// The first mirror source of pi is on disk already.
				fakeMirror(t, MirrorDir(mirrors, "pi", 0), "pi", "https://lore.example/pi")
				fakeMirror(t, filepath.Join(mirrors, "cloned"), "cloned", "https://cloned.example/cloned")
				if err := os.MkdirAll(filepath.Join(mirrors, "not-a-mirror"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			opts := &SyncOptions{MirrorsDir: mirrors}
			if !tc.noLink {
				opts = withLink(opts)
			}
			jobs, err := NewSyncer(st, nil, cfg, opts).Jobs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, jobNames(jobs)); diff != "" {
				t.Errorf("jobs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSyncMirrorsDirDefault: without SyncOptions.MirrorsDir the mirrors are
// those in the store's directory.
func TestSyncMirrorsDirDefault(t *testing.T) {
	st := openStore(t)
	fakeMirror(t, filepath.Join(st.Dir(), MirrorsDirName, "x"), "x", "https://x.example/x")
	jobs, err := NewSyncer(st, nil, nil, nil).Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"x mirror https://x.example/x"}, jobNames(jobs)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

func sourceStates(t *testing.T, st *store.Store) map[string]store.SourceState {
	t.Helper()
	ss, err := st.SourceStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.SourceState{}
	for _, s := range ss {
		out[s.Path] = s
	}
	return out
}

// TestSyncRoundRecords runs a round over a good and a missing path: each
// outcome is recorded on its source, the report names the failure and
// carries what the good job did.
func TestSyncRoundRecords(t *testing.T) {
	st := openStore(t)
	good := maildir(t, "good", 4)
	missing := filepath.Join(t.TempDir(), "missing.mbox")
	cfg := &config.Config{
		Sync: config.Sync{Retries: 1, Backoff: config.Duration(time.Millisecond)},
		Lists: []config.List{
			{Name: "good", Sources: []config.Source{{Path: good}}},
			{Name: "bad", Sources: []config.Source{{Path: missing}}},
		},
	}
	s := NewSyncer(st, nil, cfg, nil)
	jobs, err := s.Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep := s.Round(context.Background(), jobs)

	type row struct {
		Name     string
		Attempts int
		Failed   bool
		Detail   string
	}
	var got []row
	for _, r := range rep.Results {
		got = append(got, row{r.Name, r.Attempts, r.Err != nil, r.Detail})
	}
	want := []row{
		{"good path " + good, 1, false, "read 4, added 4, duplicates 0, rejected 0"},
		{"bad path " + missing, 2, true, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bad path " + missing}, rep.Failed()); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	wantErr := "1 of 2 sync jobs failed: bad path " + missing
	if err := rep.Err(); err == nil || err.Error() != wantErr {
		t.Errorf("Err() = %v, want %s", err, wantErr)
	}

	ss := sourceStates(t, st)
	if g := ss[good]; g.List != "good" || g.LastSync.IsZero() || g.LastError != "" || g.Messages != 4 {
		t.Errorf("state of the good source: %+v", g)
	}
	if b := ss[missing]; b.List != "bad" || !b.LastSync.IsZero() || b.LastError == "" {
		t.Errorf("state of the missing source: %+v", b)
	}

	// A round starts with no details: once the Maildir is gone, the good
	// job fails and says nothing of the previous round.
	if err := os.RemoveAll(good); err != nil {
		t.Fatal(err)
	}
	rep = s.Round(context.Background(), jobs[:1])
	if r := rep.Results[0]; r.Err == nil || r.Detail != "" {
		t.Errorf("round after removing the Maildir: err %v, detail %q; want an error and no detail", r.Err, r.Detail)
	}
	if g := sourceStates(t, st)[good]; g.LastError == "" {
		t.Errorf("state of the removed source: %+v", g)
	}
}

// TestSyncRecordSkipsInterrupted: a job ended by a cancelled context
// records nothing, where one that failed otherwise does.
func TestSyncRecordSkipsInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cancel     bool
		wantRecord bool
	}{
		{"failed", false, true},
		{"interrupted", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			// Only the cancellation fails the readable Maildir.
			src := filepath.Join(t.TempDir(), "missing.mbox")
			if tc.cancel {
				src = maildir(t, "cut", 2)
			}
			cfg := &config.Config{Lists: []config.List{{Name: "l", Sources: []config.Source{{Path: src}}}}}
			jobs, err := NewSyncer(st, nil, cfg, nil).Jobs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			err = jobs[0].Run(ctx)
			if err == nil || errors.Is(err, context.Canceled) != tc.cancel {
				t.Fatalf("Run = %v, want an error (cancelled: %v)", err, tc.cancel)
			}
			_, recorded := sourceStates(t, st)[src]
			if recorded != tc.wantRecord {
				t.Errorf("source recorded = %v, want %v", recorded, tc.wantRecord)
			}
		})
	}
}

// TestSyncLinkJob registers the configured repository and links its
// commits; a repository that cannot be fetched fails the job; without
// SyncOptions.AddRepo the configured repository is not registered.
func TestSyncLinkJob(t *testing.T) {
	repo := gitRepo(t, "io_uring: first", "io_uring: second")
	for _, tc := range []struct {
		name       string
		repo       config.Repo
		noAddRepo  bool
		wantDetail string
		wantRepos  int
		wantErr    string
	}{
		{name: "link", repo: config.Repo{Name: "code", Path: repo}, wantDetail: "code: 2 new commits, 0 linked", wantRepos: 1},
		{name: "fetch fails", repo: config.Repo{Name: "code", Path: t.TempDir(), Fetch: true}, wantErr: "git fetch in "},
		{name: "no AddRepo", repo: config.Repo{Name: "code", Path: repo}, noAddRepo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			cfg := &config.Config{Repos: []config.Repo{tc.repo}, Sync: config.Sync{Retries: 1, Backoff: config.Duration(time.Millisecond)}}
			opts := withLink(&SyncOptions{})
			if tc.noAddRepo {
				opts.AddRepo = nil
			}
			s := NewSyncer(st, nil, cfg, opts)
			jobs, err := s.Jobs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rep := s.Round(context.Background(), jobs)
			if len(rep.Results) != 1 {
				t.Fatalf("results %+v, want one", rep.Results)
			}
			r := rep.Results[0]
			if tc.wantErr != "" {
				if r.Err == nil || !strings.HasPrefix(r.Err.Error(), tc.wantErr) {
					t.Errorf("error = %v, want one starting %q", r.Err, tc.wantErr)
				}
				return
			}
			if r.Err != nil || r.Detail != tc.wantDetail {
				t.Errorf("link job: err %v, detail %q; want detail %q", r.Err, r.Detail, tc.wantDetail)
			}
			repos, err := st.Repos(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(repos) != tc.wantRepos || len(repos) == 1 && (repos[0].Name != "code" || repos[0].Commits != 2) {
				t.Errorf("registered repos: %+v", repos)
			}
		})
	}
}

// TestSyncResultJSON: a SyncResult encodes as the mirror.JobResult it
// embeds (the output of `sync --json`).
func TestSyncResultJSON(t *testing.T) {
	jr := mirror.JobResult{Name: "l path /x", Attempts: 2, Err: errors.New("down"), Error: "down", Elapsed: time.Second}
	want, err := json.Marshal(jr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(SyncResult{JobResult: jr, Detail: "read 1"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("json.Marshal(SyncResult) = %s, want %s", got, want)
	}
}

// TestSyncLoop: a round whose configuration cannot be loaded is skipped,
// the next ones take the reloaded configuration, messages queued for
// the index are indexed first, and Loop returns when ctx ends.
func TestSyncLoop(t *testing.T) {
	st := openStore(t)
	ix, err := search.Open(filepath.Join(t.TempDir(), "index"), &search.Options{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	// Three messages imported without the index wait in its queue.
	if _, err := Import(ctx, st, maildir(t, "queued", 3), &Options{List: "queued"}); err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueAll(ctx); err != nil {
		t.Fatal(err)
	}

	src := maildir(t, "live", 2)
	cfg := &config.Config{Lists: []config.List{{Name: "live", Sources: []config.Source{{Path: src}}}}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var reloads []time.Time
	reload := func() (*config.Config, error) {
		reloads = append(reloads, time.Now())
		switch len(reloads) {
		case 1:
			return nil, errors.New("broken")
		case 3:
			cancel()
		}
		return cfg, nil
	}
	s := NewSyncer(st, []Hook{NewSearchHook(st, ix, nil)}, &config.Config{},
		&SyncOptions{Reload: reload, Index: ix})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Loop(ctx, 20*time.Millisecond)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Loop did not return after its context ended")
	}
	if len(reloads) != 3 {
		t.Errorf("%d reloads, want 3", len(reloads))
	}
	for i := 1; i < len(reloads); i++ {
		if d := reloads[i].Sub(reloads[i-1]); d < 20*time.Millisecond {
			t.Errorf("round %d started %s after the previous one, want at least the interval", i+1, d)
		}
	}
	if g := sourceStates(t, st)[src]; g.Messages != 2 || g.LastError != "" {
		t.Errorf("state of the synced source: %+v", g)
	}
	if q, err := st.Queued(context.Background(), 0, 10); err != nil || len(q) != 0 {
		t.Errorf("queued after the loop: %v %v", q, err)
	}
	if n, err := ix.DocCount(); err != nil || n != 5 {
		t.Errorf("index holds %d documents (%v), want 5", n, err)
	}
}

// finishCounter is a hook that counts its Finish calls and fails them
// with err.
type finishCounter struct {
	n   int
	err error
}

func (f *finishCounter) Begin(*store.Tx) (HookBatch, error) { return nopBatch{}, nil }
func (f *finishCounter) Finish(context.Context) error       { f.n++; return f.err }

type nopBatch struct{}

func (nopBatch) Stored(*store.Added, *Parsed) error { return nil }
func (nopBatch) Deleted(int64) error                { return nil }
func (nopBatch) Commit() error                      { return nil }
func (nopBatch) Committed(context.Context) error    { return nil }

// TestSyncRoundFinishesOnce: a round finishes its hooks once after all
// its sources (the radar reads the whole store's evidence to score), not
// once per source, and a failed finish is a failed job of the round.
func TestSyncRoundFinishesOnce(t *testing.T) {
	st := openStore(t)
	cfg := &config.Config{
		Sync: config.Sync{Retries: 0, Backoff: config.Duration(time.Millisecond)},
		Lists: []config.List{
			{Name: "a", Sources: []config.Source{{Path: maildir(t, "a", 3)}}},
			{Name: "b", Sources: []config.Source{{Path: maildir(t, "b", 2)}}},
		},
	}
	fc := &finishCounter{}
	s := NewSyncer(st, []Hook{fc}, cfg, nil)
	jobs, err := s.Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep := s.Round(context.Background(), jobs); rep.Err() != nil || len(rep.Results) != 2 {
		t.Fatalf("round: %v, %d results; want no error, 2 results", rep.Err(), len(rep.Results))
	}
	if fc.n != 1 {
		t.Errorf("Finish called %d times in a round of two sources, want 1", fc.n)
	}
	fc.err = errors.New("boom")
	rep := s.Round(context.Background(), jobs)
	if diff := cmp.Diff([]string{finishJob}, rep.Failed()); diff != "" {
		t.Errorf("failed jobs when Finish fails (-want +got):\n%s", diff)
	}
	if fc.n != 2 {
		t.Errorf("Finish called %d times after two rounds, want 2", fc.n)
	}
}
