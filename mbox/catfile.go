package mbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// gitProc is one running git child process with its pipes. Its owner
// ends it with close (kill, drain, wait) or finish (close stdin, drain,
// wait); either may be called more than once.
type gitProc struct {
	dir    string
	args   []string
	cmd    *exec.Cmd
	stdin  io.WriteCloser // nil unless asked for
	stdout io.ReadCloser
	stderr *tailBuffer

	once    sync.Once
	waitErr error
}

// gitMemory bounds what a git reading an archive maps and caches. With
// its defaults (pack windows of 1 GiB, up to 8 GiB mapped, a 96 MiB
// cache of delta bases) `git cat-file --batch` over an epoch maps the
// whole pack: reading linux-block's (320 MB) it reached 405 MB resident,
// more than the import reading its output (361 MB), and an import's peak
// as /usr/bin/time reports it is the largest process's. Bounded so, the
// same cat-file stays at 92 MB and takes as long (5.3 against 5.4 s).
var gitMemory = []string{
	"-c", "core.packedGitWindowSize=32m",
	"-c", "core.packedGitLimit=64m",
	"-c", "core.deltaBaseCacheLimit=16m",
}

// startGit starts `git --git-dir=dir args...` (with gitMemory). The
// process is killed when ctx is done.
func startGit(ctx context.Context, dir string, withStdin bool, args ...string) (*gitProc, error) {
	full := make([]string, 0, len(gitMemory)+1+len(args))
	full = append(full, gitMemory...)
	full = append(full, "--git-dir="+dir)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.WaitDelay = 5 * time.Second // stderr copying after a kill
	p := &gitProc{dir: dir, args: args, cmd: cmd, stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = p.stderr
	var err error
	if withStdin {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			return nil, fmt.Errorf("mbox: git %s: %w", args[0], err)
		}
	}
	// Our own pipe rather than StdoutPipe: a larger pipe buffer lets
	// git write whole messages without waiting for us.
	pr, pw, err := newPipe()
	if err != nil {
		return nil, fmt.Errorf("mbox: git %s: %w", args[0], err)
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		if p.stdin != nil {
			p.stdin.Close()
		}
		return nil, fmt.Errorf("mbox: %s: git %s: %w", dir, args[0], err)
	}
	p.stdout = pr
	return p, nil
}

// kill stops the process without waiting for it; safe to call many times
// and concurrently with readers of its pipes.
func (p *gitProc) kill() {
	if p.stdin != nil {
		p.stdin.Close()
	}
	_ = p.cmd.Process.Kill()
}

// wait waits for a process whose stdout was read to the end and reports
// how it exited.
func (p *gitProc) wait() error {
	p.once.Do(func() {
		if p.stdin != nil {
			p.stdin.Close()
		}
		p.waitErr = p.exitError(p.cmd.Wait())
		p.stdout.Close()
	})
	return p.waitErr
}

// close kills, drains and waits. Nothing else may read stdout meanwhile.
func (p *gitProc) close() {
	p.kill()
	_, _ = io.Copy(io.Discard, p.stdout)
	_ = p.wait()
}

// finish lets the process end by itself: it closes stdin, reads what is
// left of stdout and waits.
func (p *gitProc) finish() error {
	if p.stdin != nil {
		p.stdin.Close()
	}
	_, _ = io.Copy(io.Discard, p.stdout)
	return p.wait()
}

func (p *gitProc) exitError(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(p.stderr.String())
	if msg != "" {
		return fmt.Errorf("mbox: %s: git %s: %w: %s", p.dir, p.args[0], err, msg)
	}
	return fmt.Errorf("mbox: %s: git %s: %w", p.dir, p.args[0], err)
}

// gitOutput runs a short git command and returns its standard output.
func gitOutput(ctx context.Context, dir string, args ...string) ([]byte, error) {
	p, err := startGit(ctx, dir, false, args...)
	if err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(p.stdout, 1<<20))
	if err := p.finish(); err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, fmt.Errorf("mbox: %s: git %s: %w", dir, args[0], rerr)
	}
	return out, nil
}

// gitExitCode runs a git command for its exit status: 0 or 1 are
// answers, anything else an error.
func gitExitCode(ctx context.Context, dir string, args ...string) (int, error) {
	p, err := startGit(ctx, dir, false, args...)
	if err != nil {
		return 0, err
	}
	err = p.finish()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// resolveTip returns the commit HEAD names, or "" for an empty repository.
// A HEAD that names an object which cannot be read as a commit (a
// truncated pack, a corrupt object) is an error, not an empty repository.
func resolveTip(ctx context.Context, dir string) (string, error) {
	p, err := startGit(ctx, dir, false, "rev-parse", "--verify", "-q", "HEAD^{commit}")
	if err != nil {
		return "", err
	}
	out, _ := io.ReadAll(io.LimitReader(p.stdout, 4096))
	err = p.finish()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		// Either HEAD is unborn (no commits yet) or what it names
		// cannot be read: only the former is an empty repository.
		named, nerr := gitOutput(ctx, dir, "rev-parse", "--verify", "-q", "HEAD")
		if nerr != nil {
			var ne *exec.ExitError
			if errors.As(nerr, &ne) && ne.ExitCode() == 1 {
				return "", nil
			}
			return "", nerr
		}
		msg := strings.TrimSpace(p.stderr.String())
		return "", fmt.Errorf("mbox: %s: HEAD names %s, which cannot be read as a commit: the repository is truncated or corrupt: %s",
			dir, strings.TrimSpace(string(named)), msg)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// parseDecimal parses a non-negative decimal number without allocating.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func splitLines(b []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// catFile reads blobs from a running `git cat-file --batch`. Requests are
// written by one goroutine (see epochReader.feed), answers read in the
// same order by another.
type catFile struct {
	proc *gitProc
	req  []byte // request line, reused
	out  *bufio.Reader
}

func startCatFile(ctx context.Context, dir string) (*catFile, error) {
	p, err := startGit(ctx, dir, true, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	return &catFile{
		proc: p,
		req:  make([]byte, 0, maxHex+1),
		out:  bufio.NewReaderSize(p.stdout, 256<<10),
	}, nil
}

// request asks for one object. It writes at once, unbuffered: cat-file
// answers each request as soon as it reads it, and the reader may be
// waiting for the answer.
func (c *catFile) request(oid []byte) error {
	c.req = append(append(c.req[:0], oid...), '\n')
	_, err := c.proc.stdin.Write(c.req)
	return err
}

// errMissing is returned by read for an object the repository lacks.
var errMissing = errors.New("object missing")

// read returns the next answer, which must be for oid. The returned
// slice is freshly allocated and owned by the caller.
func (c *catFile) read(oid []byte) ([]byte, error) {
	line, err := c.out.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	// "<oid> <type> <size>" or "<oid> missing".
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || !bytes.Equal(line[:sp], oid) {
		return nil, fmt.Errorf("unexpected cat-file answer %q for %s", line, string(oid))
	}
	rest := line[sp+1:]
	if string(rest) == "missing" {
		return nil, errMissing
	}
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return nil, fmt.Errorf("unexpected cat-file answer %q for %s", line, string(oid))
	}
	typ := rest[:sp]
	size, ok := parseDecimal(rest[sp+1:])
	if !ok || size > maxBlob {
		return nil, fmt.Errorf("unexpected cat-file answer %q for %s", line, string(oid))
	}
	if string(typ) != "blob" {
		if _, err := c.out.Discard(int(size) + 1); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("object %s is a %s, not a blob", string(oid), string(typ))
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(c.out, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if b, err := c.out.ReadByte(); err != nil || b != '\n' {
		return nil, fmt.Errorf("cat-file answer for %s not terminated", string(oid))
	}
	return data, nil
}

// maxBlob bounds the size of one message blob (public-inbox itself
// refuses far smaller messages); a larger size means a corrupt stream.
const maxBlob = 1 << 30

// tailBuffer keeps the last max bytes written to it (stderr of a child).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
