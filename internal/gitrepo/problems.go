package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Problem kinds.
const (
	// ProblemMissingObject: git could not read an object the commit's
	// diff needs (a blob or tree absent from a partial clone, or a
	// damaged repository).
	ProblemMissingObject = "missing-object"
	// ProblemShallow: the commit is a shallow boundary; its parents are
	// not in the clone, so git shows its whole tree as added.
	ProblemShallow = "shallow"
	// ProblemReplaced: the commit is replaced (refs/replace) or grafted
	// (info/grafts); git shows the replacement's history, so its diff is
	// not the commit's own change.
	ProblemReplaced = "replaced"
	// ProblemUnreadable: git failed on the commit for another reason.
	ProblemUnreadable = "unreadable"
)

// Problem is a commit whose changes could not be read. A commit whose
// metadata could still be read is returned by LogReader.Next with
// Commit.Problem set and no Files, PatchID or Diff; one that could not
// be read at all is only listed by LogReader.Problems.
type Problem struct {
	Commit string `json:"commit"`           // the commit's id
	Kind   string `json:"kind"`             // Problem* constant
	Object string `json:"object,omitempty"` // the object git could not read, or the replacement
	Detail string `json:"detail"`           // what git said, or why the diff is not the commit's own
	// Skipped says not even the commit's metadata could be read: it was
	// not returned.
	Skipped bool `json:"skipped,omitempty"`
}

func (p *Problem) String() string {
	s := p.Kind + ": " + p.Detail
	if p.Skipped {
		s += " (commit skipped)"
	}
	return s
}

// maxProblems bounds the commits a LogReader reads one by one after git
// failed on them (three git processes each); past it the remaining
// commits are read without their changes, with one problem saying so
// (a blobless clone, say).
var maxProblems = 1000

// objectRE finds the object id in git's complaints about unreadable
// objects ("unable to read <oid>", "bad object <oid>", "missing blob
// <oid>", "Could not read <oid>", "could not fetch <oid> from promisor
// remote").
var objectRE = regexp.MustCompile(`(?i)(?:unable to read|bad object|missing (?:blob|tree|commit) (?:object )?|could not (?:read|fetch)|object) ([0-9a-f]{40,64})`)

// problemOf classifies a failed git run for commit sha.
func problemOf(sha string, err error) *Problem {
	p := &Problem{Commit: sha, Kind: ProblemUnreadable, Detail: err.Error()}
	var ge *GitError
	if errors.As(err, &ge) && ge.Stderr != "" {
		p.Detail = lastLine(ge.Stderr)
		if m := objectRE.FindStringSubmatch(ge.Stderr); m != nil {
			p.Kind, p.Object = ProblemMissingObject, strings.ToLower(m[1])
		}
	}
	return p
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// history is what makes the history git shows differ from the commits'
// own: shallow boundaries and replaced or grafted commits.
type history struct {
	shallow  map[string]bool
	replaced map[string]string // commit → replacement ("" for a graft)
}

// readHistory finds the shallow boundaries (the shallow file), the
// replaced commits (refs under refs/replace/, or GIT_REPLACE_REF_BASE)
// and the grafted ones (info/grafts) of the repository, with two short
// git commands.
func readHistory(ctx context.Context, repoDir string) (*history, error) {
	h := &history{}
	out, err := runGit(ctx, repoDir, nil, "rev-parse", "--path-format=absolute", "--git-path", "shallow", "--git-path", "info/grafts")
	if err != nil {
		return nil, err
	}
	paths := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(paths) != 2 {
		return nil, fmt.Errorf("%w: rev-parse --git-path answered %q", ErrMalformedOutput, out)
	}
	readIDs := func(path string, each func(id string, rest []string)) error {
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("gitrepo: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && isHex(f[0], 40, 64) {
				each(strings.ToLower(f[0]), f[1:])
			}
		}
		return nil
	}
	if err := readIDs(paths[0], func(id string, _ []string) {
		if h.shallow == nil {
			h.shallow = map[string]bool{}
		}
		h.shallow[id] = true
	}); err != nil {
		return nil, err
	}
	if err := readIDs(paths[1], func(id string, _ []string) {
		if h.replaced == nil {
			h.replaced = map[string]string{}
		}
		h.replaced[id] = ""
	}); err != nil {
		return nil, err
	}
	base := os.Getenv("GIT_REPLACE_REF_BASE")
	if base == "" {
		base = "refs/replace/"
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if os.Getenv("GIT_NO_REPLACE_OBJECTS") != "" {
		return h, nil
	}
	out, err = runGit(ctx, repoDir, nil, "for-each-ref", "--format=%(refname) %(objectname)", base)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		ref, obj, ok := strings.Cut(sc.Text(), " ")
		name := strings.TrimPrefix(ref, base)
		if ok && isHex(name, 40, 64) {
			if h.replaced == nil {
				h.replaced = map[string]string{}
			}
			h.replaced[strings.ToLower(name)] = obj
		}
	}
	return h, sc.Err()
}

// check returns the problem of a commit the history makes unreadable:
// a shallow boundary or a replaced commit. Nil for an ordinary commit.
func (h *history) check(sha string) *Problem {
	if h == nil {
		return nil
	}
	if h.shallow[sha] {
		return &Problem{Commit: sha, Kind: ProblemShallow, Object: sha,
			Detail: "shallow boundary: the parents of " + sha + " are not in the clone, so its changes cannot be read"}
	}
	if repl, ok := h.replaced[sha]; ok {
		if repl == "" {
			return &Problem{Commit: sha, Kind: ProblemReplaced, Object: sha,
				Detail: "grafted (info/grafts): git shows " + sha + " with other parents, so its diff is not its own"}
		}
		return &Problem{Commit: sha, Kind: ProblemReplaced, Object: repl,
			Detail: "replaced by " + repl + " (refs/replace): git shows the replacement's parents and tree, so its diff is not its own"}
	}
	return nil
}
