package link

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"patchtrail/indexer"
	"patchtrail/internal/store"
)

// Message-IDs of the sample archive (testdata/README.md).
const (
	midV1p1  = "20240115090001.310034-1-alice@example.org" // [PATCH 1/3] io_uring/net: add io_net_retry() helper
	midV1p2  = "20240115090002.310051-2-alice@example.org"
	midV1p3  = "20240115090003.310068-3-alice@example.org"
	midV2p1  = "20240201083001.310204-1-alice@example.org" // [PATCH v2 1/3], same patch-id as v1 1/3
	midV2p2  = "20240201083002.310221-2-alice@example.org" // changed from v1 2/3
	midV2p3  = "20240201083003.310238-3-alice@example.org" // same patch-id as v1 3/3
	midFix   = "20240205230000.310306-1-dave@example.org"  // [PATCH] io_uring: fix use-after-free in io_rw_done()
	midFix61 = "20240220180000.310374-1-dave@example.org"  // [PATCH 6.1.y] backport of the fix
	midAttch = "20240306154500.310544-1-frank@example.com" // patch as an attachment
)

// sampleDir is testdata/sample of the repository.
func sampleDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// importSample imports the sample archive into a new store.
func importSample(t testing.TB) *store.Store {
	t.Helper()
	st := newStore(t)
	importInto(t, st)
	return st
}

// importInto imports the sample archive into st.
func importInto(t testing.TB, st *store.Store) {
	t.Helper()
	if _, err := indexer.Import(context.Background(), st, filepath.Join(sampleDir(t), "sample.mbox"), &indexer.Options{List: "io-uring", Workers: 2}); err != nil {
		t.Fatal(err)
	}
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sampleMails splits sample.mbox (mboxrd) into its messages by Message-ID,
// each with its "From " line, ready for `git am --patch-format=mboxrd`.
func sampleMails(t testing.TB) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sampleDir(t), "sample.mbox"))
	if err != nil {
		t.Fatal(err)
	}
	midRE := regexp.MustCompile(`(?mi)^Message-ID:\s*<([^>]+)>`)
	out := map[string][]byte{}
	for _, m := range bytes.Split(data, []byte("\nFrom ")) {
		if !bytes.HasPrefix(m, []byte("From ")) {
			m = append([]byte("From "), m...)
		}
		hdr, _, _ := bytes.Cut(m, []byte("\n\n"))
		if id := midRE.FindSubmatch(hdr); id != nil {
			if _, dup := out[string(id[1])]; !dup {
				out[string(id[1])] = append(m, '\n')
			}
		}
	}
	return out
}

// gitRepo is a scratch repository holding testdata/sample/base.
type gitRepo struct {
	t     testing.TB
	dir   string
	mails map[string][]byte
	// committed is the committer date of the next git command.
	committed string
	tick      int
}

func newGitRepo(t testing.TB) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &gitRepo{t: t, dir: t.TempDir(), mails: sampleMails(t)}
	r.git("", "init", "-q", "-b", "main")
	if err := os.CopyFS(r.dir, os.DirFS(filepath.Join(sampleDir(t), "base"))); err != nil {
		t.Fatal(err)
	}
	r.git("", "add", "-A")
	r.git("", "commit", "-q", "-m", "base")
	return r
}

// git runs git with fixed identities and a committer date after every
// posting used by the tests and before the archive ends (March 2024, one
// minute later per command).
func (r *gitRepo) git(stdin string, args ...string) string {
	r.t.Helper()
	r.tick++
	date := fmt.Sprintf("@%d +0000", 1710892800+r.tick*60) // 2024-03-20
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Erin Maintainer", "GIT_AUTHOR_EMAIL=erin@example.org", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Erin Maintainer", "GIT_COMMITTER_EMAIL=erin@example.org", "GIT_COMMITTER_DATE="+date, "LC_ALL=C")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// am applies the sample message mid with git am (mboxrd) and returns the
// new commit id; extra are git am options such as --message-id.
func (r *gitRepo) am(mid string, extra ...string) string {
	r.t.Helper()
	m, ok := r.mails[mid]
	if !ok {
		r.t.Fatalf("no message <%s> in the sample", mid)
	}
	r.git(string(m), append([]string{"am", "-q", "--patch-format=mboxrd"}, extra...)...)
	return r.head()
}

// amend rewrites the message of HEAD, keeping its author and date.
func (r *gitRepo) amend(msg string) string {
	r.t.Helper()
	r.git(msg, "commit", "-q", "--amend", "-F", "-")
	return r.head()
}

// commit writes a file and commits it with msg.
func (r *gitRepo) commit(path, content, msg string) string {
	r.t.Helper()
	full := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("", "add", "-A")
	r.git(msg, "commit", "-q", "-F", "-")
	return r.head()
}

func (r *gitRepo) head() string {
	r.t.Helper()
	return strings.TrimSpace(r.git("", "rev-parse", "HEAD"))
}

// message returns the commit message of rev.
func (r *gitRepo) message(rev string) string {
	r.t.Helper()
	return r.git("", "log", "-1", "--format=%B", rev)
}

// addAndLink registers the repository in st and links it.
func addAndLink(t testing.TB, st *store.Store, r *gitRepo, opts *Options) *Result {
	t.Helper()
	ctx := context.Background()
	if err := AddRepo(ctx, st, "test", r.dir); err != nil {
		t.Fatal(err)
	}
	return linkOnce(t, st, opts)
}

func linkOnce(t testing.TB, st *store.Store, opts *Options) *Result {
	t.Helper()
	res, err := Link(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("Link returned %d results, want 1", len(res))
	}
	return res[0]
}

// linkSummary is a link as tests compare it.
type linkSummary struct {
	MessageID string
	Role      string
	Grade     string
}

// linksOf returns the links of commit sha, best first.
func linksOf(t testing.TB, st *store.Store, sha string) []linkSummary {
	t.Helper()
	ctx := context.Background()
	c, err := st.Commit(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := st.CommitLinks(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []linkSummary
	for _, l := range ls {
		out = append(out, linkSummary{l.MessageID, l.Role, l.Grade})
	}
	return out
}
