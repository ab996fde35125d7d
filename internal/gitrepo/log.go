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
	// HunkHeaders is set with LogOptions.WithDiff: the text after the
	// closing "@@" of each hunk header (usually a function), non-empty
	// ones only, within the same cap as Diff.
	HunkHeaders []string

	// Problem is set when the commit's changes could not be read (a
	// missing object, a shallow boundary, a replaced or grafted commit):
	// Files, PatchID and Diff are then empty. See LogReader.Problems.
	Problem *Problem
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
	// NoWalk reads exactly the commits named by Refs (commit ids), not
	// their history, in the order given.
	NoWalk bool
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

	dir   string
	input []byte   // the revisions git log read (heads, ^excludes)
	hist  *history // shallow boundaries, replaced commits

	// After git failed, the commits not read yet are listed (queued)
	// and read with --no-walk; queue holds those not returned yet.
	queued   bool
	queue    []string
	noDiff   *Problem // set once too many commits failed: the rest is read without changes
	count    int      // commits returned by the current process
	last     string   // id of the last commit returned
	problems []*Problem

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

	hist, err := readHistory(ctx, repoDir)
	if err != nil {
		return nil, err
	}
	r.dir, r.input, r.hist = repoDir, stdin.Bytes(), hist
	if err := r.start(r.input, o.NoWalk); err != nil {
		return nil, err
	}
	return r, nil
}

// start runs git log on the revisions in input: a walk, or with noWalk
// exactly the listed commits in the order given.
func (r *LogReader) start(input []byte, noWalk bool) error {
	args := append([]string(nil), logArgs...)
	if r.noDiff != nil {
		args = []string{"log", "--stdin", logFormat, "--date=raw", "--encoding=UTF-8"}
	}
	if noWalk {
		args = append(args, "--no-walk=unsorted")
	} else if r.opts.Reverse {
		args = append(args, "--reverse")
	}
	args = append(args, "--")
	cmd := gitCommand(r.ctx, r.dir, args...)
	cmd.Env = append(cmd.Env, noLazyFetch...)
	cmd.Stdin = bytes.NewReader(input)
	cmd.WaitDelay = 5 * time.Second
	r.stderr = &limitedBuffer{}
	cmd.Stderr = r.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("gitrepo: git log: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return gitError(r.ctx, args, r.stderr, err)
	}
	r.cmd, r.args, r.stdout, r.waited, r.count = cmd, args, stdout, false, 0
	if r.br == nil {
		r.br = bufio.NewReaderSize(stdout, 64<<10)
	} else {
		r.br.Reset(stdout)
	}
	return nil
}

// noLazyFetch keeps git from fetching the objects a partial clone lacks
// from its promisor remote while reading: one network round trip per
// blob would make a read of a large history take days; such commits are
// recorded as problems instead.
var noLazyFetch = []string{"GIT_NO_LAZY_FETCH=1", "GIT_ALLOW_PROTOCOL=none"}

// Heads returns the commit each read revision pointed to when the read
// started (ref → id); with default Refs this is the checkpoint to store
// once every commit has been consumed.
func (r *LogReader) Heads() map[string]string { return r.heads }

// Dropped lists the LogOptions.Since ids that no longer exist in the
// repository and could not be excluded.
func (r *LogReader) Dropped() []string { return r.dropped }

// Problems lists the commits whose changes could not be read so far
// (see Commit.Problem), including those skipped altogether.
func (r *LogReader) Problems() []*Problem { return r.problems }

// Next returns the next commit, or io.EOF after the last one. Errors are
// sticky.
//
// A commit git cannot read (it dies with "unable to read <blob>" in a
// partial clone, say) does not end the read: the commits not returned
// yet are listed with `git rev-list` and read again with --no-walk; the
// one git failed on is read alone once more and, failing again, is
// returned without its changes (Commit.Problem) or, when not even its
// metadata can be read, skipped. Shallow boundaries and replaced or
// grafted commits are returned without their changes likewise.
func (r *LogReader) Next() (*Commit, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		if err := r.ctx.Err(); err != nil {
			return nil, r.fail(fmt.Errorf("gitrepo: git log: %w", err))
		}
		c, atEOF, err := r.readCommit()
		var failure error
		held := ""
		if c != nil {
			held = c.SHA
		}
		switch {
		case err == nil && !atEOF:
			// The next record has started: git finished this one.
			return r.returned(c), nil
		case err == nil || err == io.EOF:
			// The output ended: only git's exit status says whether the
			// last commit (if any) is complete.
			if werr := r.wait(); werr == nil {
				if c != nil {
					return r.returned(c), nil
				}
				r.err = io.EOF
				return nil, io.EOF
			} else {
				failure = werr
			}
		case errors.Is(err, ErrMalformedOutput):
			return nil, r.fail(err)
		default:
			if r.ctx.Err() != nil {
				return nil, r.fail(fmt.Errorf("gitrepo: git log: %w", r.ctx.Err()))
			}
			// The output broke off: git died, and its exit status and
			// stderr explain why. Its stdout is at EOF, so waiting is safe.
			_, _ = io.Copy(io.Discard, r.br)
			if werr := r.wait(); werr != nil {
				failure = werr
			} else {
				return nil, r.fail(fmt.Errorf("gitrepo: git log: %w", err))
			}
		}
		if r.ctx.Err() != nil || exitCode(failure) <= 0 {
			return nil, r.fail(failure) // cancelled, or git did not exit
		}
		next, err := r.recover(failure, held)
		if err != nil {
			return nil, r.fail(err)
		}
		if next != nil {
			return next, nil
		}
	}
}

// returned counts c as read and applies the history's problems to it.
func (r *LogReader) returned(c *Commit) *Commit {
	r.count++
	r.last = c.SHA
	if r.queued && len(r.queue) > 0 && r.queue[0] == c.SHA {
		r.queue = r.queue[1:]
	}
	if r.noDiff != nil {
		c.Files, c.PatchID, c.Diff, c.DiffTruncated, c.HunkHeaders = nil, "", "", false, nil
		c.Problem = r.noDiff
		return c
	}
	if p := r.hist.check(c.SHA); p != nil {
		c.Files, c.PatchID, c.Diff, c.DiffTruncated, c.HunkHeaders = nil, "", "", false, nil
		c.Problem = p
		r.problems = append(r.problems, p)
	}
	return c
}

// recover handles git failing after the commits returned so far: it
// finds the first commit not returned, reads it alone, and restarts git
// on the rest. It returns that commit (with Commit.Problem set when its
// changes could not be read), or nil when it had to be skipped or no
// commit was left.
func (r *LogReader) recover(failure error, held string) (*Commit, error) {
	if !r.queued {
		r.queued = true
		ids, err := r.revList()
		if err != nil {
			// The history itself cannot be walked (a commit object is
			// missing): keep what was read, and the commit whose output
			// broke off, and record where the walk stopped.
			p := problemOf("", err)
			p.Detail = "the history cannot be walked further: " + p.Detail
			r.problems = append(r.problems, p)
			if held != "" {
				r.queue = []string{held}
			}
		} else {
			from := 0
			if r.count > 0 {
				from = -1
				if r.count <= len(ids) && ids[r.count-1] == r.last {
					from = r.count
				} else {
					for i, id := range ids {
						if id == r.last {
							from = i + 1
							break
						}
					}
				}
				if from < 0 {
					return nil, fmt.Errorf("%w (commit %s is not in the listed history)", failure, r.last)
				}
			}
			r.queue = ids[from:]
		}
	}
	if len(r.queue) == 0 {
		if len(r.problems) == 0 || r.problems[len(r.problems)-1].Commit != "" {
			// git failed after the last commit: nothing was lost.
			r.problems = append(r.problems, &Problem{Kind: ProblemUnreadable, Detail: failure.Error()})
		}
		r.err = io.EOF
		return nil, nil
	}
	if len(r.problems) >= maxProblems && r.noDiff == nil {
		// So many commits fail that reading them one by one would take
		// longer than the read: the rest is read without changes.
		r.noDiff = &Problem{Kind: ProblemUnreadable, Detail: fmt.Sprintf("%d commits could not be read with their changes: the %d after them are read without changes", len(r.problems), len(r.queue))}
		r.problems = append(r.problems, r.noDiff)
		return nil, r.start(queueInput(r.queue), true)
	}
	sha := r.queue[0]
	r.queue = r.queue[1:]
	var c *Commit
	var p *Problem
	if r.noDiff == nil {
		var err error
		if c, err = r.readAlone(sha, true); err != nil {
			p = problemOf(sha, err)
		}
	} else {
		p = r.noDiff
	}
	if c == nil {
		if r.ctx.Err() != nil {
			return nil, fmt.Errorf("gitrepo: git log: %w", r.ctx.Err())
		}
		var err error
		if c, err = r.readAlone(sha, false); err == nil {
			c.Problem = p
		} else {
			if r.ctx.Err() != nil {
				return nil, fmt.Errorf("gitrepo: git log: %w", r.ctx.Err())
			}
			if p == r.noDiff {
				p = problemOf(sha, err)
			}
			p.Skipped = true
		}
		if p != r.noDiff {
			r.problems = append(r.problems, p)
		}
	}
	if len(r.queue) > 0 {
		if err := r.start(queueInput(r.queue), true); err != nil {
			return nil, err
		}
	} else {
		r.err = io.EOF
	}
	if c == nil {
		return nil, nil
	}
	r.last = c.SHA
	if c.Problem == nil {
		if p := r.hist.check(c.SHA); p != nil {
			c.Files, c.PatchID, c.Diff, c.DiffTruncated, c.HunkHeaders = nil, "", "", false, nil
			c.Problem = p
			r.problems = append(r.problems, p)
		}
	}
	if r.err == io.EOF {
		// Return the commit now; the next call reports the end.
		r.err = nil
		r.cmd, r.waited = nil, true
		r.br.Reset(bytes.NewReader(nil))
	}
	return c, nil
}

// queueInput is the git log input listing ids.
func queueInput(ids []string) []byte {
	var in bytes.Buffer
	for _, id := range ids {
		in.WriteString(id)
		in.WriteByte('\n')
	}
	return in.Bytes()
}

// revList lists the commits the read covers, in git log's order.
func (r *LogReader) revList() ([]string, error) {
	args := []string{"rev-list", "--stdin"}
	if r.opts.Reverse {
		args = append(args, "--reverse")
	}
	out, err := runGit(r.ctx, r.dir, bytes.NewReader(r.input), args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// readAlone reads one commit with its own git process: with its diff,
// or (withDiff false) only its metadata.
func (r *LogReader) readAlone(sha string, withDiff bool) (*Commit, error) {
	args := append([]string(nil), logArgs...)
	if !withDiff {
		args = []string{"log", logFormat, "--date=raw", "--encoding=UTF-8"}
	}
	args = append(args, "--no-walk", sha, "--")
	// --stdin is among logArgs; feed it nothing.
	cmd := gitCommand(r.ctx, r.dir, args...)
	cmd.Env = append(cmd.Env, noLazyFetch...)
	var stdout bytes.Buffer
	stderr := &limitedBuffer{}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(nil), &stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, gitError(r.ctx, args, stderr, err)
	}
	sub := &LogReader{ctx: r.ctx, opts: r.opts, br: bufio.NewReader(&stdout)}
	if !withDiff {
		sub.opts.WithDiff = false
	}
	c, _, err := sub.readCommit()
	if err == io.EOF || err == nil && c.SHA != sha {
		return nil, fmt.Errorf("%w: git log --no-walk %s returned no such commit", ErrMalformedOutput, sha)
	}
	if err != nil {
		return nil, err
	}
	if !withDiff {
		c.Files, c.PatchID = nil, ""
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
	err := r.cmd.Wait()
	// Wait closed the pipe: what was buffered is read, the rest is EOF.
	if r.br.Buffered() == 0 {
		r.br.Reset(bytes.NewReader(nil))
	}
	if err != nil {
		return gitError(r.ctx, r.args, r.stderr, err)
	}
	return nil
}

// readCommit parses one commit record: NUL, header lines, message, NUL,
// then the diff section up to the next NUL or the end of the output
// (atEOF: then only git's exit status tells whether it is complete).
func (r *LogReader) readCommit() (c *Commit, atEOF bool, err error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return nil, true, err // io.EOF at a record boundary is the clean end
	}
	if b != 0 {
		return nil, false, fmt.Errorf("%w: record starts with %q", ErrMalformedOutput, b)
	}
	hdr, err := r.br.ReadBytes(0)
	if err != nil {
		return nil, false, fmt.Errorf("truncated commit header: %w", noEOF(err))
	}
	c, err = parseHeader(hdr[:len(hdr)-1])
	if err != nil {
		return nil, false, err
	}
	r.diff = r.diff[:0]
	r.dp.reset(r.opts.WithDiff, r.opts.MaxDiffBytes)
	for {
		next, err := r.br.Peek(1)
		if err == io.EOF {
			atEOF = true
			break
		}
		if err == nil && next[0] == 0 {
			break
		}
		if err != nil {
			return nil, false, err
		}
		line, err := r.readLine()
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		r.diff = append(r.diff, line...)
		r.dp.line(bytes.TrimSuffix(line, []byte("\n")))
	}
	c.Files = r.dp.result()
	c.PatchID = diffPatchID(r.diff)
	if r.opts.WithDiff {
		c.Diff = string(r.dp.diff)
		c.DiffTruncated = r.dp.truncated
		c.HunkHeaders = r.dp.hunks
	}
	return c, atEOF, nil
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
