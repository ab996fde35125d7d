package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// verifyGit applies the sample's patch mails to the base tree with git am
// (in the order the README documents) and checks git patch-id --stable.
func verifyGit(msgs []*msg) error {
	find := func(prefix string) *msg {
		for _, m := range msgs {
			if strings.HasPrefix(m.subject, prefix) {
				return m
			}
		}
		panic("gen: no message with subject " + prefix)
	}
	dir, err := os.MkdirTemp("", "patchtrail-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	git := func(stdin []byte, args ...string) (string, error) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=Gen", "-c", "user.email=gen@example.org",
			"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir, cmd.Stdin = dir, bytes.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	repo := func() error {
		os.RemoveAll(dir)
		if err := writeTree(dir, baseTree()); err != nil {
			return err
		}
		for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "base"}} {
			if _, err := git(nil, args...); err != nil {
				return err
			}
		}
		return nil
	}
	am := func(prefixes ...string) error {
		if err := repo(); err != nil {
			return err
		}
		for _, p := range prefixes {
			if _, err := git(writeMbox(mboxrd, []*msg{find(p)}), "am", "-q", "--patch-format=mboxrd"); err != nil {
				return err
			}
		}
		fmt.Printf("gen: git am ok: %s\n", strings.Join(prefixes, " + "))
		return nil
	}
	for _, order := range [][]string{
		{"[PATCH v2 1/3]", "[PATCH v2 2/3]", "[PATCH v2 3/3]", "[PATCH] io_uring: fix use-after-free", "[PATCH] io_uring/rw: drop impossible"},
		{"[PATCH 1/3]", "[PATCH 2/3]", "[PATCH 3/3]"},
		{"[PATCH 6.1.y]"},
		{"[PATCH liburing v2 1/2]", "[PATCH liburing v2 2/2]"},
		{"[RFC PATCH]"},
	} {
		if err := am(order...); err != nil {
			return err
		}
	}
	pid := func(prefix string) (string, error) {
		out, err := git(find(prefix).render(), "patch-id", "--stable")
		if err != nil || len(out) < 40 {
			return "", fmt.Errorf("patch-id of %s: %q %v", prefix, out, err)
		}
		return out[:40], nil
	}
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"[PATCH 1/3]", "[PATCH v2 1/3]", true},
		{"[PATCH 2/3]", "[PATCH v2 2/3]", false},
		{"[PATCH 3/3]", "[PATCH v2 3/3]", true},
		{"[PATCH] io_uring: fix use-after-free", "[PATCH 6.1.y]", true},
		{"[PATCH liburing v2 1/2]", "[PATCH liburing v2 2/2]", false},
		{"[RFC PATCH]", "[PATCH] io_uring/rw: drop impossible", false},
	} {
		a, err := pid(c.a)
		if err != nil {
			return err
		}
		b, err := pid(c.b)
		if err != nil {
			return err
		}
		if (a == b) != c.same {
			return fmt.Errorf("patch-id %s = %s, %s = %s, want same=%v", c.a, a, c.b, b, c.same)
		}
		fmt.Printf("gen: patch-id %s %s / %s %s\n", a[:12], c.a, b[:12], c.b)
	}
	return nil
}
