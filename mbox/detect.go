package mbox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// epochDirRE matches the name of a public-inbox v2 epoch directory.
var epochDirRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.git$`)

// withDefaults returns a copy of opts with every field set.
func withDefaults(opts *Options) *Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Checkpoint == nil {
		o.Checkpoint = func(string) (string, bool) { return "", false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &o
}

// open detects the kind of source at path and opens the matching reader:
//
//   - a directory holding git/N.git epochs: a public-inbox v2 inbox;
//   - a bare git directory (HEAD and objects/): a single v2 epoch when its
//     tree holds m or d, a v1 inbox otherwise;
//   - a directory holding cur/ or new/: a Maildir;
//   - anything else: an mbox file, compressed or not.
//
// An imap:// or imaps:// URL is an IMAP mailbox.
func open(ctx context.Context, path string, opts *Options) (Reader, error) {
	o := withDefaults(opts)
	if IsIMAPURL(path) {
		return openIMAP(ctx, path, o)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("mbox: %w", err)
	}
	if !fi.IsDir() {
		return openMboxFile(ctx, path, o)
	}
	if epochs, err := listEpochs(path); err != nil {
		return nil, err
	} else if len(epochs) > 0 {
		return openInbox(ctx, path, baseName(path), epochs, o)
	}
	if isBareGit(path) {
		return openGitDir(ctx, path, o)
	}
	if isDir(filepath.Join(path, "cur")) || isDir(filepath.Join(path, "new")) {
		return openMaildir(ctx, path, o)
	}
	return nil, fmt.Errorf("mbox: %s: directory is neither a public-inbox, a git directory nor a Maildir", path)
}

// listEpochs returns the epochs of the v2 inbox at dir in numeric order,
// or none when dir is no v2 inbox.
func listEpochs(dir string) ([]epoch, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "git"))
	if os.IsNotExist(err) || (err == nil && len(entries) == 0) {
		return nil, nil
	}
	if err != nil {
		// git is a file or unreadable: not an inbox layout we know.
		if !isDir(filepath.Join(dir, "git")) {
			return nil, nil
		}
		return nil, fmt.Errorf("mbox: %w", err)
	}
	type numbered struct {
		n int
		e epoch
	}
	var found []numbered
	for _, ent := range entries {
		m := epochDirRE.FindStringSubmatch(ent.Name())
		if m == nil {
			continue
		}
		p := filepath.Join(dir, "git", ent.Name())
		if !isBareGit(p) {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue // absurdly large number
		}
		found = append(found, numbered{n, epoch{dir: p, key: "git/" + ent.Name()}})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n < found[j].n })
	epochs := make([]epoch, len(found))
	for i, f := range found {
		epochs[i] = f.e
	}
	return epochs, nil
}

// openGitDir opens a bare git directory: one v2 epoch or a v1 inbox.
func openGitDir(ctx context.Context, dir string, o *Options) (Reader, error) {
	base := baseName(dir)
	parent := filepath.Dir(absPath(dir))
	if epochDirRE.MatchString(base) && filepath.Base(parent) == "git" {
		name := baseName(filepath.Dir(parent))
		return openInbox(ctx, dir, name, []epoch{{dir: dir, key: "git/" + base}}, o)
	}
	v2, err := looksLikeEpoch(ctx, dir)
	if err != nil {
		return nil, err
	}
	if v2 {
		return openInbox(ctx, dir, "", []epoch{{dir: dir, key: base}}, o)
	}
	name := trimGitSuffix(base)
	return openInbox(ctx, dir, name, []epoch{{dir: dir, key: "", v1: true}}, o)
}

// looksLikeEpoch reports whether the tree at HEAD of the bare repository
// dir holds the single file m or d of a v2 epoch. An empty repository
// counts as an epoch: there is nothing to read either way.
func looksLikeEpoch(ctx context.Context, dir string) (bool, error) {
	tip, err := resolveTip(ctx, dir)
	if err != nil || tip == "" {
		return true, err
	}
	out, err := gitOutput(ctx, dir, "ls-tree", "--name-only", tip)
	if err != nil {
		return false, err
	}
	for _, name := range splitLines(out) {
		if name == "m" || name == "d" {
			return true, nil
		}
	}
	return false, nil
}

// absPath returns p made absolute, or cleaned if that fails.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// baseName returns the last element of p ("" for a root): the name of
// "." is that of the current directory.
func baseName(p string) string {
	b := filepath.Base(absPath(p))
	if b == "." || b == string(filepath.Separator) {
		return ""
	}
	return b
}

func trimGitSuffix(s string) string {
	if len(s) > 4 && s[len(s)-4:] == ".git" {
		return s[:len(s)-4]
	}
	return s
}

// isBareGit reports whether dir looks like a bare git repository.
func isBareGit(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "HEAD"))
	return err == nil && fi.Mode().IsRegular() && isDir(filepath.Join(dir, "objects"))
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
