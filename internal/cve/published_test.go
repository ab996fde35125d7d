package cve

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadPublished(t *testing.T) {
	in := "# cve\tfirst_published\nCVE-2024-1\t2024-02-26T18:21:24+01:00\n\nCVE-2024-2\t2024-03-01T00:00:00Z\nCVE-2024-1\t2024-02-20T00:00:00Z\n"
	got, err := ReadPublished(strings.NewReader(in), "dates.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["CVE-2024-1"].Equal(time.Date(2024, 2, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ReadPublished = %v, want 2 ids, CVE-2024-1 at its oldest date", got)
	}
	for _, bad := range []struct{ in, want string }{
		{"CVE-2024-1\n", "dates.tsv:1:"},
		{"# x\nCVE-2024-1 yesterday\n", "dates.tsv:2:"},
		{"\n\nCVX-1 2024-03-01T00:00:00Z\n", "dates.tsv:3:"},
	} {
		_, err := ReadPublished(strings.NewReader(bad.in), "dates.tsv")
		if !errors.Is(err, ErrBadDates) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ReadPublished(%q) = %v, want ErrBadDates at %s", bad.in, err, bad.want)
		}
	}
}

func TestReadPublishedCorpus(t *testing.T) {
	name := filepath.Join("..", "..", "..", "shared", "corpus", "cve-published-dates.tsv")
	if _, err := os.Stat(name); err != nil {
		t.Skipf("no %s (the shared corpus): %v", name, err)
	}
	got, err := ReadPublishedFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 14000 {
		t.Errorf("%d dates, want the whole repository", len(got))
	}
	if d := got["CVE-2019-25160"]; d.Format(time.RFC3339) != "2024-02-26T18:21:24+01:00" {
		t.Errorf("CVE-2019-25160 published %v", d)
	}
}

func TestPublishedFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	git := func(date string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.org", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, data string) {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("2024-02-26T18:21:24+01:00", "init", "-q")
	write("cve/published/2024/CVE-2024-1.json", "{}")
	write("cve/published/2024/CVE-2024-1.sha1", "x")
	write("cve/reserved/2024/CVE-2024-2.json", "{}")
	git("2024-02-26T18:21:24+01:00", "add", ".")
	git("2024-02-26T18:21:24+01:00", "commit", "-q", "-m", "one")
	write("cve/published/2024/CVE-2024-1.json", `{"changed":1}`)
	git("2024-03-01T10:00:00Z", "mv", "cve/reserved/2024/CVE-2024-2.json", "cve/published/2024/CVE-2024-2.json")
	git("2024-03-01T10:00:00Z", "commit", "-q", "-a", "-m", "two")
	if !IsGitCheckout(root) {
		t.Fatalf("IsGitCheckout(%s) = false", root)
	}
	got, err := PublishedFromGit(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CVE-2024-1": "2024-02-26T17:21:24Z", "CVE-2024-2": "2024-03-01T10:00:00Z"}
	if len(got) != len(want) {
		t.Errorf("PublishedFromGit = %v, want %v", got, want)
	}
	for id, w := range want {
		if g := got[id].UTC().Format(time.RFC3339); g != w {
			t.Errorf("PublishedFromGit[%s] = %s, want %s", id, g, w)
		}
	}
}
