package mbox

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestGitMemoryBounded checks that the git processes reading an archive
// run with the bounds of gitMemory on what they map and cache.
func TestGitMemoryBounded(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Skipf("git init: %v: %s", err, out)
	}
	for key, want := range map[string]string{"core.packedGitLimit": "64m", "core.packedGitWindowSize": "32m", "core.deltaBaseCacheLimit": "16m"} {
		p, err := startGit(context.Background(), dir, false, "config", "--get", key)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(p.stdout)
		if err := p.wait(); err != nil {
			t.Fatalf("git config --get %s: %v", key, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}
