package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinkCommands runs repo add/list, link, commit, cve import and
// trace end to end on the sample archive and a repository made by git am
// of its fix.
func TestLinkCommands(t *testing.T) {
	root := repoRoot(t)
	data := t.TempDir()
	pt(t, data, "import", "--no-index", filepath.Join(root, "testdata/sample/sample.mbox"))

	repo := t.TempDir()
	gitRun(t, repo, nil, "init", "-q", "-b", "main")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(root, "testdata/sample/base"))); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, nil, "add", "-A")
	gitRun(t, repo, nil, "commit", "-q", "-m", "base")
	mbox, err := os.ReadFile(filepath.Join(root, "testdata/sample/sample.mbox"))
	if err != nil {
		t.Fatal(err)
	}
	const fixMID = "20240205230000.310306-1-dave@example.org"
	start := strings.Index(string(mbox), "From dave@example.org Mon Feb  5 23:00:00 2024")
	if start < 0 || !strings.Contains(string(mbox[start:start+600]), fixMID) {
		t.Fatal("fix mail not found in the sample")
	}
	mail := string(mbox[start:])
	mail = mail[:strings.Index(mail, "\nFrom ")+1]
	gitRun(t, repo, []byte(mail), "am", "-q", "--patch-format=mboxrd")
	sha := strings.TrimSpace(gitRun(t, repo, nil, "rev-parse", "HEAD"))

	pt(t, data, "repo", "add", "test", repo)
	if out := pt(t, data, "repo", "list"); !strings.Contains(out, "test") {
		t.Errorf("repo list = %q", out)
	}
	pt(t, data, "link")
	var c struct {
		SHA   string `json:"sha"`
		Links []struct {
			MessageID string `json:"message_id"`
			Grade     string `json:"grade"`
		} `json:"links"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "commit", "--json", sha[:10])), &c); err != nil {
		t.Fatal(err)
	}
	if c.SHA != sha || len(c.Links) == 0 || c.Links[0].MessageID != fixMID || c.Links[0].Grade != "strong" {
		t.Errorf("commit --json = %+v, want %s linked to <%s> (strong)", c, sha, fixMID)
	}

	// A shallow clone: link reads what it can and `problems` names the
	// commit at the boundary, whose changes it could not read.
	if err := os.WriteFile(filepath.Join(repo, "notes.txt"), []byte("local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, nil, "add", "notes.txt")
	gitRun(t, repo, nil, "commit", "-q", "-m", "notes: add")
	boundary := strings.TrimSpace(gitRun(t, repo, nil, "rev-parse", "HEAD"))
	shallow := t.TempDir()
	gitRun(t, repo, nil, "clone", "-q", "--no-local", "--depth", "1", "file://"+repo, shallow)
	pt(t, data, "repo", "add", "shallow", shallow)
	pt(t, data, "link")
	var probs []struct {
		Repo     string `json:"repo"`
		Location string `json:"location"`
		Problem  string `json:"problem"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "problems", "--json")), &probs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range probs {
		found = found || (p.Repo == "shallow" && p.Location == "commit "+boundary && strings.HasPrefix(p.Problem, "shallow:"))
	}
	if !found {
		t.Errorf("problems --json = %+v, want the shallow boundary %s of repo shallow", probs, boundary[:12])
	}
	if out := pt(t, data, "problems"); !strings.Contains(out, "repo shallow commit "+boundary) {
		t.Errorf("problems = %q", out)
	}

	vulns := filepath.Join(t.TempDir(), "cve", "published", "2024")
	if err := os.MkdirAll(vulns, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"CVE-2024-1000.json": `{"cveMetadata":{"cveId":"CVE-2024-1000"},"containers":{"cna":{"title":"io_uring: fix use-after-free in io_rw_done()","affected":[{"programFiles":["io_uring/rw.c"]}]}}}`,
		"CVE-2024-1000.sha1": sha + "\n",
		"CVE-2024-1001.json": `not json`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(vulns, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out := pt(t, data, "cve", "import", filepath.Dir(filepath.Dir(filepath.Dir(vulns)))); !strings.Contains(out, "1 added") || !strings.Contains(out, "1 malformed") {
		t.Errorf("cve import = %q", out)
	}
	var tr struct {
		Posting struct {
			MessageID string `json:"message_id"`
			Found     string `json:"found_by"`
		} `json:"posting"`
		FixCommits []struct {
			Known bool `json:"known"`
		} `json:"fix_commits"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "trace", "--json", "CVE-2024-1000")), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Posting.MessageID != fixMID || tr.Posting.Found != "link" || len(tr.FixCommits) != 1 || !tr.FixCommits[0].Known {
		t.Errorf("trace --json = %+v, want <%s> found by link from a known commit", tr, fixMID)
	}
	if out := pt(t, data, "trace", fixMID); !strings.Contains(out, "CVE-2024-1000") || !strings.Contains(out, "timeline:") {
		t.Errorf("trace MSGID output lacks the CVE or the timeline:\n%s", out)
	}
}
