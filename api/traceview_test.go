package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/indexer"
	"patchtrail/internal/link"
	"patchtrail/internal/store"
)

// Message-IDs of the sample archive used by the trace tests.
const (
	traceV1p2  = "20240115090002.310051-2-alice@example.org"
	traceV2p2  = "20240201083002.310221-2-alice@example.org"
	traceV2Cov = "20240201083000.310187-0-alice@example.org"
	traceFix   = "20240205230000.310306-1-dave@example.org"
	traceFix61 = "20240220180000.310374-1-dave@example.org"
)

// linkedSample is the sample archive in a writable store, the v2 series
// applied with git am to a repository registered as "test" and linked,
// and one CVE whose fix is in no repository.
func linkedSample(t *testing.T) (st *store.Store, commits map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := indexer.Import(ctx, st, samplePath, &indexer.Options{List: "io-uring"}); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	git := func(stdin string, args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C",
			"GIT_AUTHOR_NAME=Erin Maintainer", "GIT_AUTHOR_EMAIL=erin@example.org", "GIT_AUTHOR_DATE=@1710892800 +0000",
			"GIT_COMMITTER_NAME=Erin Maintainer", "GIT_COMMITTER_EMAIL=erin@example.org", "GIT_COMMITTER_DATE=@1710892800 +0000")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("", "init", "-q", "-b", "main")
	if err := os.CopyFS(repo, os.DirFS("../testdata/sample/base")); err != nil {
		t.Fatal(err)
	}
	git("", "add", "-A")
	git("", "commit", "-q", "-m", "base")
	mails := sampleMails(t)
	commits = map[string]string{}
	for _, mid := range []string{"20240201083001.310204-1-alice@example.org", traceV2p2, "20240201083003.310238-3-alice@example.org"} {
		git(mails[mid], "am", "-q", "--patch-format=mboxrd")
		commits[mid] = git("", "rev-parse", "HEAD")
	}
	if err := link.AddRepo(ctx, st, "test", repo); err != nil {
		t.Fatal(err)
	}
	if _, err := link.Link(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	vulns := filepath.Join(t.TempDir(), "cve", "published", "2024")
	if err := os.MkdirAll(vulns, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"CVE-2024-1000.json": `{"cveMetadata":{"cveId":"CVE-2024-1000","state":"PUBLISHED"},"containers":{"cna":{
			"title":"io_uring: fix use-after-free in io_rw_done()","descriptions":[{"lang":"en","value":"..."}],
			"affected":[{"programFiles":["io_uring/rw.c"]}]}}}`,
		"CVE-2024-1000.sha1": "8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809\n",
		"CVE-2024-1000.dyad": "6.1:0123456789abcdef0123456789abcdef01234567:6.1.80:2222222222222222222222222222222222222222\n" +
			"6.1:0123456789abcdef0123456789abcdef01234567:6.8:8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809\n",
		"CVE-2024-1000.vulnerable": "0123456789abcdef0123456789abcdef01234567\n",
	} {
		if err := os.WriteFile(filepath.Join(vulns, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := link.ImportCVEs(ctx, st, filepath.Dir(filepath.Dir(filepath.Dir(vulns))), nil); err != nil {
		t.Fatal(err)
	}
	return st, commits
}

// sampleMails splits the sample mbox into messages by Message-ID.
func sampleMails(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	midRE := regexp.MustCompile(`(?mi)^Message-ID:\s*<([^>]+)>`)
	out := map[string]string{}
	for _, m := range bytes.Split(data, []byte("\nFrom ")) {
		if !bytes.HasPrefix(m, []byte("From ")) {
			m = append([]byte("From "), m...)
		}
		hdr, _, _ := bytes.Cut(m, []byte("\n\n"))
		if id := midRE.FindSubmatch(hdr); id != nil && out[string(id[1])] == "" {
			out[string(id[1])] = string(m) + "\n"
		}
	}
	return out
}

func people(ps []TracePerson) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s v%d %s <%s>", p.Role, p.Email, p.Version, p.Kind, p.MessageID))
	}
	return out
}

func events(tl []TimelineEvent) []string {
	var out []string
	for _, e := range tl {
		s := e.Event
		if e.Date == nil {
			s += " ?"
		}
		if e.DaysSinceFix != nil {
			s += fmt.Sprintf(" fix+%.1fd", *e.DaysSinceFix)
		}
		out = append(out, s)
	}
	return out
}

// TestTraceCVEWithoutRepo traces a CVE whose fix commit is in no
// repository: the posting is found by the CVE title.
func TestTraceCVEWithoutRepo(t *testing.T) {
	st, _ := linkedSample(t)
	v, err := LoadTrace(context.Background(), st, "CVE-2024-1000")
	if err != nil {
		t.Fatal(err)
	}
	if v.Posting == nil || v.Posting.MessageID != traceFix || v.Posting.Found != "subject" {
		t.Fatalf("posting = %+v, want <%s> found by subject", v.Posting, traceFix)
	}
	if len(v.FixCommits) != 1 || v.FixCommits[0].Known {
		t.Errorf("fix commits = %+v, want one unknown", v.FixCommits)
	}
	wantPeople := []string{
		"reported syzbot+5e1c1b2a3d4f6e7a8b9c@syzkaller.example.com v1 patch <" + traceFix + ">",
		"tested frank@example.com v1 reply <20240206081010.310340-0-frank@example.com>",
		"reviewed bob@example.net v1 reply <20240206133000.310323-0-bob@example.net>",
	}
	if diff := cmp.Diff(wantPeople, people(v.People)); diff != "" {
		t.Errorf("people (-want +got):\n%s", diff)
	}
	var bp []string
	for _, b := range v.Backports {
		s := b.Version + " " + b.Source
		if b.Posting != nil {
			s += " <" + b.Posting.MessageID + ">"
		}
		bp = append(bp, s)
	}
	if diff := cmp.Diff([]string{"6.1.80 cve <" + traceFix61 + ">"}, bp); diff != "" {
		t.Errorf("backports (-want +got):\n%s", diff)
	}
	if len(v.Fixes) != 1 || v.Fixes[0].Commit.SHA != "0123456789abcdef0123456789abcdef01234567" || v.Fixes[0].Title != "io_uring: add io_rw_done() helper" {
		t.Errorf("fixes = %+v, want the .vulnerable commit with the Fixes: title", v.Fixes)
	}
	// Applied on Feb 6 19:00 UTC, backport posted Feb 20 18:00 UTC.
	want := []string{"first_posted", "last_version_posted", "applied", "backport fix+14.0d", "cve_published ?"}
	if diff := cmp.Diff(want, events(v.Timeline)); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	// Per branch: the .dyad lines, as internal/cve reads them.
	const intro = "0123456789abcdef0123456789abcdef01234567"
	wantBranches := []CVEBranch{
		{Branch: "6.1", IntroducedVersion: "6.1", IntroducedSHA: intro, FixedVersion: "6.1.80", FixedSHA: "2222222222222222222222222222222222222222"},
		{Branch: "mainline", IntroducedVersion: "6.1", IntroducedSHA: intro, FixedVersion: "6.8", FixedSHA: "8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809"},
	}
	if diff := cmp.Diff(wantBranches, v.Branches); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	// The patch gap from the same postings: no publication date, so no
	// day counts; the fixes undated (no registered kernel tree).
	if v.Gap == nil {
		t.Fatal("no gap")
	}
	var steps []string
	for _, s := range v.Gap.Steps {
		e := s.Event + " " + s.Version + " " + s.MessageID
		if s.Date == nil {
			e += " ?"
		}
		steps = append(steps, strings.TrimSpace(e))
	}
	wantSteps := []string{"first_posted  " + traceFix, "last_version_posted  " + traceFix,
		"applied  20240206190000.310357-0-erin@example.org", "mainline_fix 6.8  ?", "backport 6.1.80  ?"}
	if diff := cmp.Diff(wantSteps, steps); diff != "" || v.Gap.Days != nil {
		t.Errorf("gap days %v, steps (-want +got):\n%s", v.Gap.Days, diff)
	}
}

// TestTraceCommit traces a linked commit, and the same story from an
// earlier version's Message-ID.
func TestTraceCommit(t *testing.T) {
	st, commits := linkedSample(t)
	ctx := context.Background()
	for _, q := range []string{commits[traceV2p2][:12], traceV1p2} {
		v, err := LoadTrace(ctx, st, q)
		if err != nil {
			t.Fatal(err)
		}
		if v.Posting == nil || v.Posting.MessageID != traceV2p2 || v.Posting.Found != "link" {
			t.Fatalf("%s: posting = %+v, want <%s> by link", q, v.Posting, traceV2p2)
		}
		if len(v.Earlier) != 1 || v.Earlier[0].MessageID != traceV1p2 {
			t.Errorf("%s: earlier = %+v, want <%s>", q, v.Earlier, traceV1p2)
		}
		if len(v.FixCommits) != 1 || v.FixCommits[0].SHA != commits[traceV2p2] || !v.FixCommits[0].Known {
			t.Errorf("%s: fix commits = %+v", q, v.FixCommits)
		}
		wantPeople := []string{
			"tested dave@example.org v1 cover <20240118024500.310136-0-dave@example.org>",
			"reviewed carol@example.com v2 reply <20240201162000.310255-0-carol@example.com>",
			// The same Message-ID again with another body: kept as another message.
			"reviewed carol@example.com v2 reply <2501c81969bb2ef80ecad2b485aa5324@generated.patchtrail.invalid>",
			"acked ivan@example.com v2 cover <20240202070000.310272-0-ivan@example.com>",
		}
		if diff := cmp.Diff(wantPeople, people(v.People)); diff != "" {
			t.Errorf("%s: people (-want +got):\n%s", q, diff)
		}
		var reviews []string
		for _, r := range v.Reviews {
			reviews = append(reviews, fmt.Sprintf("v%d %s next=%s", r.Version, r.From.Email, r.NextPosted))
		}
		wantReviews := []string{
			"v1 carol@example.com next=" + traceV2p2,
			// alice's own answer on v1 is no review, nor is erin's
			// "Applied" on v2 (the timeline's applied step).
			"v1 dave@example.org next=" + traceV2p2,
			"v2 carol@example.com next=",
			"v2 carol@example.com next=",
			"v2 ivan@example.com next=",
		}
		if diff := cmp.Diff(wantReviews, reviews); diff != "" {
			t.Errorf("%s: reviews (-want +got):\n%s", q, diff)
		}
		want := []string{"first_posted", "last_version_posted", "applied", "committed"}
		if diff := cmp.Diff(want, events(v.Timeline)); diff != "" {
			t.Errorf("%s: timeline (-want +got):\n%s", q, diff)
		}
	}
}

func TestLoadCommit(t *testing.T) {
	st, commits := linkedSample(t)
	ctx := context.Background()
	c, err := LoadCommit(ctx, st, commits[traceV2p2])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range c.Links {
		got = append(got, fmt.Sprintf("%s %s %s v%d", l.MessageID, l.Role, l.Grade, l.Version))
	}
	want := []string{traceV2p2 + " applied strong v2", traceV1p2 + " earlier fuzzy v1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	mc, err := LoadMessageCommits(ctx, st, traceV1p2)
	if err != nil {
		t.Fatal(err)
	}
	if len(mc) != 1 || mc[0].SHA != commits[traceV2p2] || mc[0].Role != store.RoleEarlier {
		t.Errorf("LoadMessageCommits(v1 2/3) = %+v", mc)
	}
	sv, err := LoadSeries(ctx, st, traceV2Cov)
	if err != nil {
		t.Fatal(err)
	}
	became := map[string]string{}
	for _, p := range sv.Parts {
		for _, c := range p.Commits {
			became[p.MessageID] = c.SHA
		}
	}
	if len(became) != 3 || became[traceV2p2] != commits[traceV2p2] {
		t.Errorf("commits of the v2 series' parts = %v", became)
	}
	if _, err := LoadCommit(ctx, st, "0000000"); err == nil {
		t.Error("LoadCommit(unknown) succeeded")
	}
}

// TestTraceOtherStarts starts from a stable backport: its posting and
// its commit id (known only from the CVE's .dyad) lead to the fix.
func TestTraceOtherStarts(t *testing.T) {
	st, _ := linkedSample(t)
	for _, q := range []string{traceFix61, "2222222222222222222222222222222222222222", traceFix} {
		v, err := LoadTrace(context.Background(), st, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if v.Posting == nil || v.Posting.MessageID != traceFix || v.CVE == nil || v.CVE.ID != "CVE-2024-1000" {
			t.Errorf("%s: posting %+v, CVE %+v; want <%s> and CVE-2024-1000", q, v.Posting, v.CVE, traceFix)
		}
	}
	if _, err := LoadTrace(context.Background(), st, "1234567"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LoadTrace(unknown sha) error = %v, want ErrNotFound", err)
	}
}

// TestCommitAndTracePages renders the commit and trace pages of linked
// data.
func TestCommitAndTracePages(t *testing.T) {
	st, commits := linkedSample(t)
	base := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t)}))
	sha := commits[traceV2p2]
	for url, want := range map[string]string{
		"/_/commit/" + sha[:12]:        "reject unknown flags in io_send_prep()",
		"/_/trace/" + sha:              "Timeline",
		"/_/trace/CVE-2024-1000":       "io_uring: fix use-after-free in io_rw_done()",
		"/_/trace/CVE-2024-1000?":      "Per branch",
		"/_/trace/CVE-2024-1000?gap":   "days before the CVE",
		"/_/commit/ffffffffffffffffff": "",
	} {
		r := do(t, "GET", base+url, "")
		if want == "" {
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", url, r.Status)
			}
			continue
		}
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), html.EscapeString(want)) {
			t.Errorf("%s: status %d, page lacks %q", url, r.Status, want)
		}
	}
}

// TestTraceCommitLinks: commits a registered repository holds link to
// their page, the others to the configured web address.
func TestTraceCommitLinks(t *testing.T) {
	st, commits := linkedSample(t)
	const unknownFix = "8b4e0f9f1d2c3b4a5e6f708192a3b4c5d6e7f809"
	for _, tc := range []struct {
		pattern, want string
	}{
		{"", "https://git.kernel.org/stable/c/" + unknownFix},
		{"https://example.org/linux/commit/{sha}?x=1", "https://example.org/linux/commit/" + unknownFix + "?x=1"},
		{"https://example.org/c/", "https://example.org/c/" + unknownFix},
	} {
		base := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t), CommitURL: tc.pattern}))
		body := string(do(t, "GET", base+"/_/trace/CVE-2024-1000", "").Body)
		if !strings.Contains(body, `href="`+html.EscapeString(tc.want)+`"`) {
			t.Errorf("CommitURL %q: trace lacks a link to %s", tc.pattern, tc.want)
		}
		if strings.Contains(body, `href="/_/commit/`+unknownFix) {
			t.Errorf("CommitURL %q: trace links the unknown fix to its (404) commit page", tc.pattern)
		}
		// The .dyad's 6.1 backport is in no repository either.
		bp := strings.ReplaceAll(tc.want, unknownFix, strings.Repeat("2", 40))
		if !strings.Contains(body, `href="`+html.EscapeString(bp)+`"`) || strings.Contains(body, `href="/_/commit/2222`) {
			t.Errorf("CommitURL %q: the backport does not link to the web", tc.pattern)
		}
	}
	base := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t)}))
	sha := commits[traceV2p2]
	body := string(do(t, "GET", base+"/_/trace/"+sha, "").Body)
	if !strings.Contains(body, `href="/_/commit/`+sha+`"`) || strings.Contains(body, "git.kernel.org/stable/c/"+sha) {
		t.Errorf("trace of a registered commit does not link to its commit page")
	}
}

// TestTracePageMentions renders the discussion and bug report sections
// of the trace page.
func TestTracePageMentions(t *testing.T) {
	when := time.Date(2024, 7, 17, 8, 0, 0, 0, time.UTC)
	tr := &Trace{Query: "CVE-2024-41001",
		Discussion: []TraceMention{{MessageID: "d@example.org", Subject: "Re: CVE-2024-41001: io_uring/sqpoll: leak", Date: when, Messages: 3, Found: "cve"}},
		BugReports: []TraceMention{{MessageID: "b@example.org", Subject: "[bug report] io_uring: free entries via RCU", Date: when, Messages: 1,
			Target: "5cf4f52e6d8a0000000000000000000000000000", Found: "subject"}}}
	var b bytes.Buffer
	d := traceData{pageBase: pageBase{Title: "t", List: "all"}, T: tr, commitURL: "https://git.kernel.org/stable/c/"}
	if err := loadPages().t["trace"].ExecuteTemplate(&b, "layout", d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Discussion of the CVE", "Re: CVE-2024-41001: io_uring/sqpoll: leak", "3 messages",
		"Bug reports against the Fixes: targets", `href="https://git.kernel.org/stable/c/5cf4f52e6d8a0000000000000000000000000000"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("trace page lacks %q", want)
		}
	}
}

// TestPagesSayWhatPatchesBecame: message, thread and series pages name
// the commit a patch became and the CVE it fixes, with links.
func TestPagesSayWhatPatchesBecame(t *testing.T) {
	st, commits := linkedSample(t)
	base := newServerFor(t, New(st, nil, &Options{Logger: testLogger(t)}))
	sha := commits[traceV2p2]
	for _, c := range []struct {
		url  string
		want []string
	}{
		{messageURL("io-uring", traceV2p2), []string{`href="/_/commit/` + sha + `"`, "Became"}},
		{messageURL("io-uring", traceV2p2) + "t/", []string{`href="/_/commit/` + sha + `"`}},
		{messageURL("io-uring", traceV2p2) + "series/", []string{`href="/_/commit/` + sha + `"`, "became commit"}},
		// v1 was an earlier version of the same commit.
		{messageURL("io-uring", traceV1p2), []string{"an earlier version of commit"}},
		// The fix of CVE-2024-1000 is in no repository: its posting has
		// the CVE's title.
		{messageURL("io-uring", traceFix), []string{`href="/_/trace/CVE-2024-1000"`, "title is this subject"}},
		{messageURL("io-uring", traceFix) + "t/", []string{`href="/_/trace/CVE-2024-1000"`}},
	} {
		r := do(t, "GET", base+c.url, "")
		for _, w := range c.want {
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body), w) {
				t.Errorf("%s: status %d, page lacks %s", c.url, r.Status, w)
			}
		}
	}
	// A reply became nothing.
	r := do(t, "GET", base+messageURL("io-uring", "20240206133000.310323-0-bob@example.net"), "")
	if strings.Contains(string(r.Body), `class="became"`) {
		t.Errorf("a reply's page says what it became")
	}
}

// TestLinkHitsOneQuery checks that LinkHits, which reads the commits of
// all message hits in one query, gives every message what MessageCommits
// gives it alone.
func TestLinkHitsOneQuery(t *testing.T) {
	st, _ := linkedSample(t)
	ctx := context.Background()
	var hits []Hit
	want := map[string][]HitCommit{}
	linked := 0
	for _, mid := range []string{traceV1p2, traceV2p2, traceV2Cov, "no-such-message@example.org"} {
		hits = append(hits, Hit{Kind: "message", MessageID: mid})
		id, err := st.Resolve(ctx, mid)
		if err != nil {
			continue
		}
		mcs, err := st.MessageCommits(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, mc := range mcs {
			hc := HitCommit{SHA: mc.SHA, Grade: mc.Grade, Role: mc.Role, Score: mc.Score}
			if len(mc.Repos) > 0 {
				hc.Repo = mc.Repos[0]
			}
			want[mid] = append(want[mid], hc)
			linked++
		}
	}
	if linked < 2 {
		t.Fatalf("the linked sample gives %d links to compare; want at least 2", linked)
	}
	if err := LinkHits(ctx, st, hits); err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if diff := cmp.Diff(want[h.MessageID], h.Commits); diff != "" {
			t.Errorf("%s: commits (-want +got):\n%s", h.MessageID, diff)
		}
	}
}

// TestLinkHitsCommitPostings checks that LinkHits, which reads the
// postings of all commit hits in one query, gives every commit hit what
// CommitLinks and Message give it alone, in the same order, whatever the
// case of its id; a commit the store does not hold gets none.
func TestLinkHitsCommitPostings(t *testing.T) {
	st, commits := linkedSample(t)
	ctx := context.Background()
	var hits []Hit
	want := map[string][]HitPosting{}
	linked := 0
	for _, sha := range commits {
		c, err := st.Commit(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		links, err := st.CommitLinks(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			m, err := st.Message(ctx, l.Message)
			if err != nil {
				t.Fatal(err)
			}
			want[sha] = append(want[sha], HitPosting{MessageID: l.MessageID, Subject: m.Subject, Date: m.Date,
				Grade: l.Grade, Role: l.Role, Score: l.Score})
			linked++
		}
		hits = append(hits, Hit{Kind: "commit", SHA: sha})
	}
	if linked < 2 {
		t.Fatalf("the linked sample gives %d links to compare; want at least 2", linked)
	}
	// The same commit in upper case, a commit not stored, a message hit.
	for sha := range want {
		hits = append(hits, Hit{Kind: "commit", SHA: strings.ToUpper(sha)})
		want[strings.ToUpper(sha)] = want[sha]
		break
	}
	hits = append(hits, Hit{Kind: "commit", SHA: strings.Repeat("0", 40)}, Hit{Kind: "message", MessageID: traceV2p2})
	if err := LinkHits(ctx, st, hits); err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.Kind != "commit" {
			if len(h.Commits) == 0 || h.Postings != nil {
				t.Errorf("message hit %s: commits %v, postings %v", h.MessageID, h.Commits, h.Postings)
			}
			continue
		}
		if diff := cmp.Diff(want[h.SHA], h.Postings); diff != "" {
			t.Errorf("%s: postings (-want +got):\n%s", h.SHA, diff)
		}
	}
}
