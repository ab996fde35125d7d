package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Commit is one commit read by a LogReader.
type Commit struct {
	SHA     string
	Parents []string

	AuthorName, AuthorEmail       string
	AuthorDate                    time.Time // in the author's time zone
	CommitterName, CommitterEmail string
	CommitDate                    time.Time

	Subject string // first paragraph of the message, lines joined by spaces
	Body    string // the message after the subject paragraph, no trailing newline

	// Files is the diff against the first parent (the empty tree for a
	// root commit), with renames detected; empty for merges.
	Files []FileChange
	// PatchID equals `git show <SHA> | git patch-id --stable`; "" for
	// merges and commits without a textual diff.
	PatchID string
	// Diff is set with LogOptions.WithDiff: the + and - lines of every
	// hunk (no file headers), newline-terminated, at most
	// LogOptions.MaxDiffBytes long; DiffTruncated says lines were left out.
	Diff          string
	DiffTruncated bool
}

// IsMerge reports whether the commit has more than one parent.
func (c *Commit) IsMerge() bool { return len(c.Parents) > 1 }

// LogOptions selects the commits Log reads. The zero value reads every
// branch.
type LogOptions struct {
	// Refs are the revisions to read from (branch names, full ref names,
	// commit ids, "HEAD"); no options. Nil means every branch and HEAD
	// as returned by Heads.
	Refs []string
	// Since excludes every commit reachable from these commit ids: pass
	// the heads stored after the previous read to get only new commits.
	// Ids whose objects are gone are dropped (see LogReader.Dropped).
	Since []string
	// WithDiff fills Commit.Diff.
	WithDiff bool
	// MaxDiffBytes caps Commit.Diff; 0 means DefaultMaxDiffBytes.
	MaxDiffBytes int
	// Reverse yields the oldest commits first (git log --reverse; git
	// then lists the commits before printing the first one).
	Reverse bool
	// Logger receives warnings (dropped Since ids); nil discards them.
	Logger *slog.Logger
}

// DefaultMaxDiffBytes is the default cap of Commit.Diff.
const DefaultMaxDiffBytes = 128 << 10

func (o *LogOptions) withDefaults() LogOptions {
	var out LogOptions
	if o != nil {
		out = *o
	}
	if out.MaxDiffBytes <= 0 {
		out.MaxDiffBytes = DefaultMaxDiffBytes
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// logFormat starts every commit with NUL and ends its message with NUL;
// see the package documentation. With --date=raw, %ad and %cd are
// "<unix seconds> <±hhmm>".
const logFormat = "--format=%x00%H %P%n%an%n%ae%n%ad%n%cn%n%ce%n%cd%n%B%x00"

// logArgs are the fixed arguments of the one git log process. The diff
// options repeat the pinned configuration so that neither the user's
// config nor git's defaults can change patch-ids.
var logArgs = []string{
	"log", "--stdin", logFormat, "--date=raw", "--encoding=UTF-8",
	"-p", "--root", "--diff-merges=off", "-M",
	"--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
	"--src-prefix=a/", "--dst-prefix=b/", "-U3", "--inter-hunk-context=0",
	"--diff-algorithm=myers", "-O/dev/null",
}

// errClosed is the sticky error of a closed reader.
var errClosed = errors.New("gitrepo: log reader closed")

// LogReader streams the commits of one git log process. It is not safe
// for concurrent use.
type LogReader struct {
	ctx     context.Context
	opts    LogOptions
	heads   map[string]string
	dropped []string

	cmd    *exec.Cmd
	args   []string
	stdout io.ReadCloser
	stderr *limitedBuffer
	br     *bufio.Reader
	waited bool

	err  error
	long []byte // buffer for lines longer than br's buffer
	diff []byte // the commit's diff section, for its patch-id
	dp   diffParser
}

// Log starts reading the commits of the repository at repoDir (a work
// tree or a bare repository), newest first unless opts.Reverse. Besides
// the git log process it runs at most two short git commands (show-ref
// for the default heads, one cat-file --batch-check to resolve Refs and
// Since). The caller must Close the reader.
func Log(ctx context.Context, repoDir string, opts *LogOptions) (*LogReader, error) {
	o := opts.withDefaults()
	for _, name := range append(append([]string(nil), o.Refs...), o.Since...) {
		if err := checkRevName(name); err != nil {
			return nil, err
		}
	}
	r := &LogReader{ctx: ctx, opts: o}
	if len(o.Refs) == 0 {
		heads, err := Heads(ctx, repoDir)
		if err != nil {
			return nil, err
		}
		r.heads = heads
	}
	resolved, err := resolveCommits(ctx, repoDir, append(append([]string(nil), o.Refs...), o.Since...))
	if err != nil {
		return nil, err
	}
	if len(o.Refs) > 0 {
		r.heads = make(map[string]string, len(o.Refs))
		for _, ref := range o.Refs {
			sha, ok := resolved[ref]
			if !ok {
				return nil, fmt.Errorf("%w: %q", ErrUnknownRevision, ref)
			}
			r.heads[ref] = sha
		}
	}

	var stdin bytes.Buffer
	seen := make(map[string]bool)
	for _, sha := range r.heads {
		if !seen[sha] {
			seen[sha] = true
			fmt.Fprintf(&stdin, "%s\n", sha)
		}
	}
	if len(seen) == 0 {
		r.err = io.EOF // empty repository: nothing to read, no process
		return r, nil
	}
	for _, s := range o.Since {
		sha, ok := resolved[s]
		if !ok {
			r.dropped = append(r.dropped, s)
			o.Logger.Warn("gitrepo: old head no longer exists; its history will be read again", "repo", repoDir, "commit", s)
			continue
		}
		fmt.Fprintf(&stdin, "^%s\n", sha)
	}

	args := append([]string(nil), logArgs...)
	if o.Reverse {
		args = append(args, "--reverse")
	}
	args = append(args, "--")
	cmd := gitCommand(ctx, repoDir, args...)
	cmd.Stdin = &stdin
	cmd.WaitDelay = 5 * time.Second
	r.stderr = &limitedBuffer{}
	cmd.Stderr = r.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("gitrepo: git log: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, gitError(ctx, args, r.stderr, err)
	}
	r.cmd, r.args, r.stdout = cmd, args, stdout
	r.br = bufio.NewReaderSize(stdout, 64<<10)
	return r, nil
}

// Heads returns the commit each read revision pointed to when the read
// started (ref → id); with default Refs this is the checkpoint to store
// once every commit has been consumed.
func (r *LogReader) Heads() map[string]string { return r.heads }

// Dropped lists the LogOptions.Since ids that no longer exist in the
// repository and could not be excluded.
func (r *LogReader) Dropped() []string { return r.dropped }

// Next returns the next commit, or io.EOF after the last one. Errors are
// sticky.
func (r *LogReader) Next() (*Commit, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.ctx.Err(); err != nil {
		return nil, r.fail(fmt.Errorf("gitrepo: git log: %w", err))
	}
	c, err := r.readCommit()
	if err == io.EOF {
		if werr := r.wait(); werr != nil {
			return nil, r.fail(werr)
		}
		r.err = io.EOF
		return nil, io.EOF
	}
	if err != nil {
		switch {
		case r.ctx.Err() != nil:
			err = fmt.Errorf("gitrepo: git log: %w", r.ctx.Err())
		case !errors.Is(err, ErrMalformedOutput):
			// The output broke off: git died, and its exit status and
			// stderr explain why. Its stdout is at EOF, so waiting is safe.
			_, _ = io.Copy(io.Discard, r.br)
			if werr := r.wait(); werr != nil {
				err = werr
			} else {
				err = fmt.Errorf("gitrepo: git log: %w", err)
			}
		}
		return nil, r.fail(err) // kills git if it still runs
	}
	return c, nil
}

// Close stops git if it is still running (kill, drain, wait). It is
// idempotent and always returns nil: failures are reported by Next.
func (r *LogReader) Close() error {
	if r.cmd != nil && !r.waited {
		r.kill()
	}
	if r.err == nil {
		r.err = errClosed
	}
	return nil
}

func (r *LogReader) fail(err error) error {
	r.err = err
	if r.cmd != nil && !r.waited {
		r.kill()
	}
	return err
}

func (r *LogReader) kill() {
	_ = r.cmd.Process.Kill()
	_, _ = io.Copy(io.Discard, r.stdout)
	_ = r.cmd.Wait()
	r.waited = true
}

// wait reaps git after its output ended and reports a failed exit.
func (r *LogReader) wait() error {
	if r.cmd == nil || r.waited {
		return nil
	}
	r.waited = true
	if err := r.cmd.Wait(); err != nil {
		return gitError(r.ctx, r.args, r.stderr, err)
	}
	return nil
}

// readCommit parses one commit record: NUL, header lines, message, NUL,
// then the diff section up to the next NUL or the end of the output.
func (r *LogReader) readCommit() (*Commit, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return nil, err // io.EOF at a record boundary is the clean end
	}
	if b != 0 {
		return nil, fmt.Errorf("%w: record starts with %q", ErrMalformedOutput, b)
	}
	hdr, err := r.br.ReadBytes(0)
	if err != nil {
		return nil, fmt.Errorf("truncated commit header: %w", noEOF(err))
	}
	c, err := parseHeader(hdr[:len(hdr)-1])
	if err != nil {
		return nil, err
	}
	r.diff = r.diff[:0]
	r.dp.reset(r.opts.WithDiff, r.opts.MaxDiffBytes)
	for {
		next, err := r.br.Peek(1)
		if err == io.EOF || err == nil && next[0] == 0 {
			break
		}
		if err != nil {
			return nil, err
		}
		line, err := r.readLine()
		if err != nil && err != io.EOF {
			return nil, err
		}
		r.diff = append(r.diff, line...)
		r.dp.line(bytes.TrimSuffix(line, []byte("\n")))
	}
	c.Files = r.dp.result()
	c.PatchID = diffPatchID(r.diff)
	if r.opts.WithDiff {
		c.Diff = string(r.dp.diff)
		c.DiffTruncated = r.dp.truncated
	}
	return c, nil
}

// readLine returns the next line with its newline (absent at the end of
// the output); the slice is valid until the next read.
func (r *LogReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	r.long = append(r.long[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = r.br.ReadSlice('\n')
		r.long = append(r.long, line...)
	}
	return r.long, err
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseHeader reads "<sha> <parents>\n<an>\n<ae>\n<ad>\n<cn>\n<ce>\n<cd>\n<message>".
func parseHeader(hdr []byte) (*Commit, error) {
	f := strings.SplitN(string(hdr), "\n", 8)
	if len(f) != 8 {
		return nil, fmt.Errorf("%w: commit header has %d lines", ErrMalformedOutput, len(f))
	}
	ids := strings.Fields(f[0])
	if len(ids) == 0 || !isHex(ids[0], 40, 64) {
		return nil, fmt.Errorf("%w: bad commit id line %q", ErrMalformedOutput, f[0])
	}
	c := &Commit{
		SHA:            ids[0],
		Parents:        ids[1:],
		AuthorName:     f[1],
		AuthorEmail:    f[2],
		CommitterName:  f[4],
		CommitterEmail: f[5],
	}
	var err error
	if c.AuthorDate, err = parseRawDate(f[3]); err != nil {
		return nil, fmt.Errorf("%w: commit %s: author date: %v", ErrMalformedOutput, c.SHA, err)
	}
	if c.CommitDate, err = parseRawDate(f[6]); err != nil {
		return nil, fmt.Errorf("%w: commit %s: committer date: %v", ErrMalformedOutput, c.SHA, err)
	}
	c.Subject, c.Body = splitMessage(f[7])
	return c, nil
}

// parseRawDate reads git's raw date "<unix seconds> <±hhmm>" into a time
// in that offset. Git prints out-of-range zones as they are stored; the
// offset is then kept as written, in minutes.
func parseRawDate(s string) (time.Time, error) {
	secStr, zone, ok := strings.Cut(s, " ")
	sec, err := strconv.ParseInt(secStr, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad raw date %q", s)
	}
	t := time.Unix(sec, 0)
	if !ok || len(zone) != 5 || (zone[0] != '+' && zone[0] != '-') {
		return t.UTC(), nil
	}
	hh, err1 := strconv.Atoi(zone[1:3])
	mm, err2 := strconv.Atoi(zone[3:5])
	if err1 != nil || err2 != nil {
		return t.UTC(), nil
	}
	off := (hh*60 + mm) * 60
	if zone[0] == '-' {
		off = -off
	}
	return t.In(time.FixedZone(zone, off)), nil
}
