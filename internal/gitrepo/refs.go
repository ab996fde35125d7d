package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Heads returns the repository's branch heads, ref name → commit id
// ("refs/heads/main" → "<40 hex>"), plus "HEAD" when HEAD resolves (it
// may be detached). An empty repository yields an empty map. This is the
// checkpoint to pass back as LogOptions.Since on the next read; a
// LogReader with default Refs reports the snapshot it read from (see
// LogReader.Heads), which is the one to store.
func Heads(ctx context.Context, repoDir string) (map[string]string, error) {
	out, err := runGit(ctx, repoDir, nil, "show-ref", "--head", "--heads")
	if err != nil {
		// show-ref exits 1 when no ref matched: an empty repository.
		if exitCode(err) == 1 && len(bytes.TrimSpace(out)) == 0 {
			return map[string]string{}, nil
		}
		return nil, err
	}
	heads := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		sha, ref, ok := strings.Cut(sc.Text(), " ")
		if !ok || !isHex(sha, 40, 64) {
			return nil, fmt.Errorf("%w: show-ref line %q", ErrMalformedOutput, sc.Text())
		}
		heads[ref] = sha
	}
	return heads, sc.Err()
}

// IsAncestor reports whether commit a is an ancestor of (or equal to)
// commit b. An unknown commit is an error.
func IsAncestor(ctx context.Context, repoDir, a, b string) (bool, error) {
	if err := checkRevName(a); err != nil {
		return false, err
	}
	if err := checkRevName(b); err != nil {
		return false, err
	}
	_, err := runGit(ctx, repoDir, nil, "merge-base", "--is-ancestor", a, b)
	switch {
	case err == nil:
		return true, nil
	case exitCode(err) == 1:
		return false, nil
	default:
		return false, err
	}
}

// ResolveShort expands abbreviated commit ids (4 to 64 hex digits, as in
// "Fixes: 1234567890ab") to full ids with one `git cat-file --batch-check`
// process. An abbreviation is resolved as a commit (tags are peeled, and
// an abbreviation shared with a blob or tree is not ambiguous). The result
// maps each input, as given, to its full lowercase id; inputs that are
// not hex, unknown or ambiguous between commits are absent.
func ResolveShort(ctx context.Context, repoDir string, shorts []string) (map[string]string, error) {
	var names []string
	for _, s := range shorts {
		if isHex(s, 4, 64) {
			names = append(names, s)
		}
	}
	return resolveCommits(ctx, repoDir, names)
}

// resolveCommits resolves revision names to commit ids with one
// `git cat-file --batch-check`. Names must already be validated (no
// newline). Unresolvable names are absent from the result.
func resolveCommits(ctx context.Context, repoDir string, names []string) (map[string]string, error) {
	res := make(map[string]string, len(names))
	if len(names) == 0 {
		return res, nil
	}
	uniq := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	var in bytes.Buffer
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		uniq = append(uniq, n)
		in.WriteString(n)
		in.WriteString("^{commit}\n")
	}
	out, err := runGit(ctx, repoDir, &in, "cat-file", "--batch-check=%(objectname) %(objecttype)")
	if err != nil {
		return nil, err
	}
	// One output line per input line, in order: "<oid> commit" or
	// "<input> missing" / "<input> ambiguous".
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(uniq) {
		return nil, fmt.Errorf("%w: cat-file answered %d lines for %d names", ErrMalformedOutput, len(lines), len(uniq))
	}
	for i, line := range lines {
		oid, typ, _ := strings.Cut(line, " ")
		if typ == "commit" && isHex(oid, 40, 64) {
			res[uniq[i]] = oid
		}
	}
	return res, nil
}

// checkRevName rejects revision names git could read as an option or
// that would break a line-based protocol.
func checkRevName(name string) error {
	if name == "" || strings.HasPrefix(name, "-") || strings.ContainsAny(name, "\n\r\x00") {
		return fmt.Errorf("gitrepo: invalid revision name %q", name)
	}
	return nil
}

// isHex reports whether s is min to max hex digits (either case).
func isHex(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
