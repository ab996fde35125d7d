package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"patchtrail/internal/config"
	"patchtrail/internal/mirror"
	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

// MirrorsDirName is the directory of the data directory that holds the
// mirrors.
const MirrorsDirName = "mirrors"

// SyncOptions tunes a Syncer. A nil *SyncOptions means defaults.
type SyncOptions struct {
	// MirrorsDir holds the mirrors (default: MirrorsDirName in the
	// store's directory).
	MirrorsDir string
	// Logger receives the progress of imports and linking and a line per
	// failure; nil discards.
	Logger *slog.Logger
	// Reload, when set, gives Loop the configuration of each round; an
	// error skips the round. Without it every round uses the
	// configuration given to NewSyncer.
	Reload func() (*config.Config, error)
	// Index, when set, is the search index the hooks feed: before each
	// round Loop indexes the messages queued for it (by imports run
	// without the index).
	Index *search.Index
	// AddRepo and Link are the calls of the link job into package link,
	// which indexer cannot import (the tests of link import indexer):
	// AddRepo registers a configured repository (link.AddRepo), Link
	// links the new commits of every registered one and says what it
	// did, e.g. "linux: 12 new commits, 9 linked" (link.Link). Without
	// Link a round has no link job; without AddRepo the configured
	// repositories are fetched but not registered.
	AddRepo func(ctx context.Context, st *store.Store, name, path string) error
	Link    func(ctx context.Context, st *store.Store, logger *slog.Logger) (detail string, err error)
}

// Syncer builds and runs the rounds of `patchtrail sync`, `patchtrail
// fetch` and `serve --sync` over one writable store and its import
// hooks: one job per source of the configuration (internal/config, the
// TOML file doc/config.md describes), one per public-inbox mirror that
// `patchtrail clone` made and the configuration does not name, and one
// that links the commits of the code repositories. Jobs run one at a
// time through mirror.Round, which retries a failing source with a
// doubling backoff while the others go on. A Syncer runs one round at a
// time.
//
// The outcome of each source job is recorded in the store under the
// source's key, the one `patchtrail sources` shows: the absolute
// directory of a mirror, the absolute path of a local archive, the URL
// of an IMAP mailbox (imap:// or imaps://, RFC 5092 without the
// password).
//
// Quirks: the i-th mirror source of list L lives in MIRRORS/L for i = 0
// and MIRRORS/L.(i+1) after that (MirrorDir); a job ended by a
// cancelled context (Ctrl-C, SIGTERM) records no outcome, so an
// interrupted sync never shows up as a failed source; the link job
// exists only when repositories are configured or registered; job
// names double as report lines and as keys of a round's details, so
// two sources with the same name share one detail.
type Syncer struct {
	st    *store.Store
	hooks []Hook
	cfg   *config.Config
	opts  SyncOptions

	details map[string]string // job name → what it did in this round
}

// NewSyncer returns a Syncer that imports into st, passing every batch
// to hooks, and syncs the sources of cfg.
func NewSyncer(st *store.Store, hooks []Hook, cfg *config.Config, opts *SyncOptions) *Syncer {
	s := &Syncer{st: st, hooks: hooks, cfg: cfg}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.MirrorsDir == "" && st != nil {
		s.opts.MirrorsDir = filepath.Join(st.Dir(), MirrorsDirName)
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if s.cfg == nil {
		s.cfg = &config.Config{}
	}
	return s
}

// MirrorDir is the directory of the i-th mirror source (from 0) of list
// under mirrorsDir.
func MirrorDir(mirrorsDir, list string, i int) string {
	if i == 0 {
		return filepath.Join(mirrorsDir, list)
	}
	return filepath.Join(mirrorsDir, fmt.Sprintf("%s.%d", list, i+1))
}

func (s *Syncer) note(job, detail string) {
	if s.details == nil {
		s.details = map[string]string{}
	}
	s.details[job] = detail
}

// Jobs lists the work of one round: every configured source, the
// mirrors made by `clone` that the configuration does not name, and
// linking when there are code repositories.
func (s *Syncer) Jobs(ctx context.Context) ([]mirror.Job, error) {
	var jobs []mirror.Job
	seen := map[string]bool{} // mirror directories with a job
	for _, l := range s.cfg.Lists {
		nm := 0
		for _, src := range l.Sources {
			switch src.Kind() {
			case "mirror":
				dir := MirrorDir(s.opts.MirrorsDir, l.Name, nm)
				nm++
				seen[dir] = true
				jobs = append(jobs, s.MirrorJob(l.Name, src.Mirror, dir))
			case "imap":
				jobs = append(jobs, s.importJob(l.Name, src.IMAP, &mbox.IMAPOptions{PasswordFile: src.PasswordFile}))
			default:
				jobs = append(jobs, s.importJob(l.Name, src.Path, nil))
			}
		}
	}
	ms, err := mirror.List(s.opts.MirrorsDir)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !seen[m.Dir] {
			jobs = append(jobs, s.MirrorJob(m.List, m.URL, m.Dir))
		}
	}
	if s.opts.Link == nil {
		return jobs, nil
	}
	repos, err := s.st.Repos(ctx)
	if err != nil {
		return nil, err
	}
	if len(repos) > 0 || len(s.cfg.Repos) > 0 {
		jobs = append(jobs, s.linkJob())
	}
	return jobs, nil
}

// record notes the outcome of a job on its source in the store; an
// interrupted job (Ctrl-C, SIGTERM) is no outcome.
func (s *Syncer) record(path, list string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if rerr := s.st.RecordSync(context.Background(), path, list, time.Now(), msg); rerr != nil {
		s.opts.Logger.Warn("cannot record the sync of a source", "source", path, "err", rerr)
	}
}

func (s *Syncer) imported(job string, res *Result) {
	if res != nil {
		s.note(job, fmt.Sprintf("read %d, added %d, duplicates %d, rejected %d", res.Read, res.Added, res.Duplicates, res.Rejected))
	}
}

// MirrorJob clones (the first time) or fetches the public-inbox at url
// into dir, then imports what is new into list.
func (s *Syncer) MirrorJob(list, url, dir string) mirror.Job {
	name := list + " mirror " + url
	abs, _ := filepath.Abs(dir)
	return mirror.Job{Name: name, Run: func(ctx context.Context) (err error) {
		defer func() { s.record(abs, list, err) }()
		_, fr, err := mirror.Clone(ctx, url, dir, list, &mirror.Options{Logger: s.opts.Logger})
		if err != nil {
			return err
		}
		res, err := Import(ctx, s.st, dir, &Options{List: list, Logger: s.opts.Logger, Hooks: s.hooks, DeferFinish: true})
		s.imported(name, res)
		if fr != nil && len(fr.Cloned) > 0 {
			s.note(name, fmt.Sprintf("%s; cloned epochs %v", s.details[name], fr.Cloned))
		}
		return err
	}}
}

// importJob imports a local path or polls an IMAP mailbox.
func (s *Syncer) importJob(list, source string, imapOpts *mbox.IMAPOptions) mirror.Job {
	kind, key := "path", source
	if mbox.IsIMAPURL(source) {
		kind = "imap"
	} else if abs, err := filepath.Abs(source); err == nil {
		key = abs
	}
	name := list + " " + kind + " " + source
	return mirror.Job{Name: name, Run: func(ctx context.Context) (err error) {
		defer func() { s.record(key, list, err) }()
		res, err := Import(ctx, s.st, source, &Options{List: list, Logger: s.opts.Logger, Hooks: s.hooks, IMAP: imapOpts, DeferFinish: true})
		s.imported(name, res)
		return err
	}}
}

// linkJob fetches the configured repositories marked fetch = true,
// registers the configured ones, and links the new commits of every
// registered one.
func (s *Syncer) linkJob() mirror.Job {
	const name = "link commits"
	return mirror.Job{Name: name, Run: func(ctx context.Context) error {
		for _, r := range s.cfg.Repos {
			if r.Fetch {
				out, err := exec.CommandContext(ctx, "git", "-C", r.Path, "fetch", "--quiet", "--all", "--prune").CombinedOutput()
				if err != nil {
					return fmt.Errorf("git fetch in %s: %w: %s", r.Path, err, strings.TrimSpace(string(out)))
				}
			}
			if s.opts.AddRepo != nil {
				if err := s.opts.AddRepo(ctx, s.st, r.Name, r.Path); err != nil {
					return err
				}
			}
		}
		detail, err := s.opts.Link(ctx, s.st, s.opts.Logger)
		s.note(name, detail)
		if err != nil {
			return err
		}
		// What link queued for the search index (new commits, relinked
		// messages) is indexed now when this syncer feeds one.
		for _, h := range s.hooks {
			if sh, ok := h.(*SearchHook); ok {
				if _, err := DrainCommits(ctx, s.st, sh.ix, nil, s.opts.Logger); err != nil {
					return err
				}
				_, err := Drain(ctx, s.st, sh.ix, nil)
				return err
			}
		}
		return nil
	}}
}
