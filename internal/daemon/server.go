// Package daemon lets the CLI work beside a running `patchtrail serve`, as
// lei does with lei-daemon: the server listens on a unix socket in the
// data directory, and a read command that finds it there runs inside the
// server, which already holds the search index (bleve lets one process
// open it), instead of failing with "index locked".
//
// The protocol is one command per connection:
//
//	server → client  a hello line: JSON Info (pid, whether it syncs)
//	client → server  a request line: JSON Request (the command line), or
//	                 nothing: a client that only wants the hello closes
//	server → client  frames until the command ends: one kind byte
//	                 ('o' stdout, 'e' stderr, 'x' exit), a big-endian
//	                 uint32 length and the payload; the exit frame's
//	                 payload is the exit status as a big-endian uint32
//
// The command runs with the client's arguments, so its output is the
// output the client would have printed itself; the client closing the
// connection (Ctrl-C) cancels it.
//
// Files in the data directory: SocketName (mode 0600, removed when the
// server stops) and LockName, flocked by the server that owns the socket
// for as long as it runs. A socket whose lock is free was left by a server
// that was killed; the next server replaces it, and clients that find it
// refused run the command themselves.
package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// SocketName and LockName are the server's files in the data directory.
const (
	SocketName = "patchtrail.sock"
	LockName   = "serve.lock"
)

// Version is the protocol version a hello carries; a client refuses a
// server that speaks another one.
const Version = 1

// Info is what a server says of itself when a client connects.
type Info struct {
	PID     int  `json:"pid"`
	Sync    bool `json:"sync"` // the server syncs sources: it holds the store for writing
	Version int  `json:"version"`
}

// Request is a command line to run in the server.
type Request struct {
	Args    []string `json:"args"`             // the command and its arguments
	Config  string   `json:"config,omitempty"` // the client's --config, absolute
	Verbose bool     `json:"verbose,omitempty"`
	Quiet   bool     `json:"quiet,omitempty"`
}

// Handler runs a request, writing what the command prints to stdout and
// stderr, and returns its exit status. ctx ends when the client goes away
// or the server stops.
type Handler func(ctx context.Context, req *Request, stdout, stderr io.Writer) int

// ErrServed is returned by Listen when another server owns the socket of
// the data directory.
var ErrServed = errors.New("daemon: another server answers on the socket")

// Frame kinds.
const (
	frameStdout = 'o'
	frameStderr = 'e'
	frameExit   = 'x'
)

// maxFrame bounds a frame's payload; longer writes are split.
const maxFrame = 1 << 20

// Server answers commands on the socket of a data directory.
type Server struct {
	path string
	ln   *net.UnixListener
	lock *os.File
	info Info
	h    Handler
	log  *slog.Logger

	mu      sync.Mutex
	closed  bool
	cancels map[*net.UnixConn]context.CancelFunc
	wg      sync.WaitGroup
}

// Listen takes the server lock of the data directory dir and listens on
// its socket (mode 0600), replacing a socket a killed server left. It
// fails with an error wrapping ErrServed when a running server owns them.
func Listen(dir string, info Info, h Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	info.Version = Version
	lock, err := os.OpenFile(filepath.Join(dir, LockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if other, err := Probe(context.Background(), dir); err == nil {
				return nil, fmt.Errorf("%w (pid %d)", ErrServed, other.PID)
			}
			return nil, ErrServed
		}
		return nil, fmt.Errorf("daemon: lock %s: %w", lock.Name(), err)
	}
	path := filepath.Join(dir, SocketName)
	// Listen on a temporary name, restrict it, then rename it over the
	// socket's name (a stale socket included): no client ever sees a
	// socket with looser permissions.
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d", SocketName, os.Getpid()))
	os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		os.Remove(tmp)
		lock.Close()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	lock.Truncate(0)
	json.NewEncoder(lock).Encode(info)
	return &Server{path: path, ln: ln, lock: lock, info: info, h: h, log: log, cancels: map[*net.UnixConn]context.CancelFunc{}}, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers connections until Close (or ctx ends, which closes the
// server). It returns nil after Close.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("daemon: %w", err)
		}
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			cancel()
			c.Close()
			return nil
		}
		s.cancels[c] = cancel
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.cancels, c)
				s.mu.Unlock()
				cancel()
				c.Close()
			}()
			s.serveConn(cctx, cancel, c)
		}()
	}
}

// Close stops listening, removes the socket, cancels the commands that
// run and waits for them to end. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	os.Remove(s.path)
	err := s.ln.Close()
	s.wg.Wait()
	s.lock.Truncate(0)
	s.lock.Close()
	return err
}

func (s *Server) serveConn(ctx context.Context, cancel context.CancelFunc, c *net.UnixConn) {
	hello, _ := json.Marshal(s.info)
	if _, err := c.Write(append(hello, '\n')); err != nil {
		return
	}
	r := bufio.NewReader(c)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return // a probe, or a client gone
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil || len(req.Args) == 0 {
		s.log.Warn("daemon: bad request", "err", err)
		return
	}
	// The client sends nothing more: a read that ends means it went away.
	go func() {
		io.Copy(io.Discard, r)
		cancel()
	}()
	s.log.Debug("daemon: command", "args", req.Args)
	fw := &frameWriter{w: c}
	code := s.h(ctx, &req, fw.stream(frameStdout), fw.stream(frameStderr))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(code))
	fw.frame(frameExit, b[:])
}

// frameWriter writes the frames of one connection; the streams of a
// command may be written from several goroutines.
type frameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (f *frameWriter) frame(kind byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	hdr := make([]byte, 5, 5+len(p))
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	_, f.err = f.w.Write(append(hdr, p...))
	return f.err
}

func (f *frameWriter) stream(kind byte) io.Writer { return streamWriter{f, kind} }

type streamWriter struct {
	f    *frameWriter
	kind byte
}

func (s streamWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), maxFrame)
		if err := s.f.frame(s.kind, p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}
