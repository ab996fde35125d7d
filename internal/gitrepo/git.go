package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// ErrNotRepository is matched (errors.Is) by a *GitError whose git process
// said the directory is not a git repository.
var ErrNotRepository = errors.New("gitrepo: not a git repository")

// ErrUnknownRevision is returned when a revision named in LogOptions.Refs
// does not resolve to a commit.
var ErrUnknownRevision = errors.New("gitrepo: unknown revision")

// ErrMalformedOutput is returned when git's output does not follow the
// format this package asked for (a git bug or an incompatible git).
var ErrMalformedOutput = errors.New("gitrepo: malformed git output")

// GitError is a git process that failed.
type GitError struct {
	Args     []string // git arguments, without the -C and -c options
	ExitCode int      // -1 when the process did not exit normally
	Stderr   string   // the start of its standard error, trimmed
	Err      error    // the underlying *exec.ExitError or start error
}

func (e *GitError) Error() string {
	name := "git"
	if len(e.Args) > 0 {
		name += " " + e.Args[0]
	}
	msg := fmt.Sprintf("gitrepo: %s: %v", name, e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap returns the process error and, when git reported it,
// ErrNotRepository.
func (e *GitError) Unwrap() []error {
	errs := []error{e.Err}
	if strings.Contains(e.Stderr, "not a git repository") {
		errs = append(errs, ErrNotRepository)
	}
	return errs
}

// stderrLimit bounds how much of a failing git's stderr is kept.
const stderrLimit = 4096

// configOverrides pin every setting that changes the text of `git log -p`
// and therefore patch-ids and file lists. They apply to all commands.
var configOverrides = []string{
	"-c", "core.quotePath=true",
	"-c", "diff.noprefix=false",
	"-c", "diff.mnemonicPrefix=false",
	"-c", "diff.renames=true",
	"-c", "diff.algorithm=myers",
	"-c", "diff.indentHeuristic=true",
	"-c", "diff.suppressBlankEmpty=false",
	"-c", "diff.relative=false",
	"-c", "diff.context=3",
	"-c", "diff.interHunkContext=0",
	"-c", "log.showSignature=false",
	"-c", "color.ui=never",
}

// gitCommand builds a git command run in dir with the pinned config and a
// C locale (so stderr can be matched).
func gitCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	full := make([]string, 0, 2+len(configOverrides)+len(args))
	full = append(full, "-C", dir)
	full = append(full, configOverrides...)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANGUAGE=C", "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat")
	return cmd
}

// limitedBuffer keeps the first stderrLimit bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := stderrLimit - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}

// gitError wraps a failed process; ctx errors win so cancellation is
// reported as such rather than as "signal: killed".
func gitError(ctx context.Context, args []string, stderr *limitedBuffer, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("gitrepo: git %s: %w", args[0], cerr)
	}
	ge := &GitError{Args: args, ExitCode: -1, Err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ge.ExitCode = ee.ExitCode()
	}
	if stderr != nil {
		ge.Stderr = strings.TrimSpace(stderr.String())
	}
	return ge
}

// runGit runs a short git command to completion, feeding it stdin (may be
// nil), and returns its standard output. Only for outputs of bounded
// size; streams use LogReader.
func runGit(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := gitCommand(ctx, dir, args...)
	var stdout bytes.Buffer
	var stderr limitedBuffer
	cmd.Stdin = stdin
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), gitError(ctx, args, &stderr, err)
	}
	return stdout.Bytes(), nil
}

// exitCode returns the exit status carried by a *GitError, or -1.
func exitCode(err error) int {
	var ge *GitError
	if errors.As(err, &ge) {
		return ge.ExitCode
	}
	return -1
}
