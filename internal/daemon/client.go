package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNoServer is returned by Dial and Probe when no server answers on the
// socket of the data directory: there is none, or it is a stale one.
var ErrNoServer = errors.New("daemon: no server")

// helloTimeout bounds the wait for a server's hello: a server that
// accepted a connection answers at once.
const helloTimeout = 5 * time.Second

// Conn is a connection to a server, ready for one Run.
type Conn struct {
	c    *net.UnixConn
	r    *bufio.Reader
	info Info
}

// Dial connects to the server of the data directory dir and reads its
// hello. Without a socket, or with one nobody listens on, it fails with
// ErrNoServer.
func Dial(ctx context.Context, dir string) (*Conn, error) {
	path := filepath.Join(dir, SocketName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoServer
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoServer
		}
		return nil, fmt.Errorf("daemon: %w", err)
	}
	c := nc.(*net.UnixConn)
	c.SetReadDeadline(time.Now().Add(helloTimeout))
	r := bufio.NewReader(c)
	line, err := r.ReadBytes('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("daemon: no hello from the server on %s: %w", path, err)
	}
	c.SetReadDeadline(time.Time{})
	var info Info
	if err := json.Unmarshal(line, &info); err != nil {
		c.Close()
		return nil, fmt.Errorf("daemon: bad hello from the server on %s: %w", path, err)
	}
	if info.Version != Version {
		c.Close()
		return nil, fmt.Errorf("daemon: the server on %s (pid %d) speaks protocol %d, this patchtrail %d: restart the server", path, info.PID, info.Version, Version)
	}
	return &Conn{c: c, r: r, info: info}, nil
}

// Probe reports the server of the data directory dir, or ErrNoServer.
func Probe(ctx context.Context, dir string) (Info, error) {
	c, err := Dial(ctx, dir)
	if err != nil {
		return Info{}, err
	}
	c.Close()
	return c.info, nil
}

// Info is the server's hello.
func (c *Conn) Info() Info { return c.info }

// Close closes the connection; a command still running is cancelled.
func (c *Conn) Close() error { return c.c.Close() }

// Run runs req in the server, copying what the command prints to stdout
// and stderr as it comes, and returns its exit status. When ctx ends the
// connection is closed, which cancels the command, and Run returns
// ctx's error. Run closes the connection.
func (c *Conn) Run(ctx context.Context, req *Request, stdout, stderr io.Writer) (int, error) {
	defer c.c.Close()
	stop := context.AfterFunc(ctx, func() { c.c.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("daemon: %w", err)
	}
	if _, err := c.c.Write(append(b, '\n')); err != nil {
		return 0, c.failed(ctx, err)
	}
	var hdr [5]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return 0, c.failed(ctx, err)
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		if n > maxFrame {
			return 0, fmt.Errorf("daemon: frame of %d bytes from the server (pid %d)", n, c.info.PID)
		}
		var w io.Writer
		switch hdr[0] {
		case frameStdout:
			w = stdout
		case frameStderr:
			w = stderr
		case frameExit:
			if n != 4 {
				return 0, fmt.Errorf("daemon: bad exit frame from the server (pid %d)", c.info.PID)
			}
			if _, err := io.ReadFull(c.r, hdr[:4]); err != nil {
				return 0, c.failed(ctx, err)
			}
			return int(binary.BigEndian.Uint32(hdr[:4])), nil
		default:
			return 0, fmt.Errorf("daemon: unknown frame %q from the server (pid %d)", hdr[0], c.info.PID)
		}
		for n > 0 {
			k, err := io.ReadFull(c.r, buf[:min(n, len(buf))])
			if err != nil {
				return 0, c.failed(ctx, err)
			}
			n -= k
			if _, err := w.Write(buf[:k]); err != nil {
				return 0, err // stdout closed (a pipe to head): stop the command
			}
		}
	}
}

func (c *Conn) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("daemon: the server (pid %d) closed the connection before the command ended", c.info.PID)
	}
	return fmt.Errorf("daemon: %w", err)
}
