package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// echo is a handler that prints its arguments, a long stdout and a line
// on stderr, and exits with the length of its arguments; "wait" blocks
// until the command is cancelled.
func echo(ctx context.Context, req *Request, stdout, stderr io.Writer) int {
	if req.Args[0] == "wait" {
		fmt.Fprintln(stdout, "waiting")
		<-ctx.Done()
		return 130
	}
	fmt.Fprintln(stdout, strings.Join(req.Args, " "))
	stdout.Write(bytes.Repeat([]byte("x"), 3*maxFrame+7))
	fmt.Fprintf(stderr, "config %s\n", req.Config)
	return len(req.Args)
}

func listen(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := Listen(dir, Info{PID: 42}, echo, nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background())
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if _, err := Probe(t.Context(), dir); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Probe without a server: %v, want ErrNoServer", err)
	}
	s := listen(t, dir)
	fi, err := os.Stat(s.Path())
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v, want mode 0600", err, fi.Mode())
	}
	info, err := Probe(t.Context(), dir)
	if err != nil || info.PID != 42 || info.Version != Version {
		t.Fatalf("Probe = %+v, %v", info, err)
	}
	c, err := Dial(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code, err := c.Run(t.Context(), &Request{Args: []string{"search", "s:a b"}, Config: "/c.toml"}, &out, &errb)
	want := "search s:a b\n" + strings.Repeat("x", 3*maxFrame+7)
	if err != nil || code != 2 || out.String() != want || errb.String() != "config /c.toml\n" {
		t.Errorf("Run = %d, %v; stdout %d bytes (want %d), stderr %q", code, err, out.Len(), len(want), errb.String())
	}
	if _, err := Listen(dir, Info{PID: 43}, echo, nil); !errors.Is(err, ErrServed) || !strings.Contains(err.Error(), "pid 42") {
		t.Errorf("second Listen: %v, want ErrServed naming pid 42", err)
	}
	s.Close()
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("socket after Close: %v", err)
	}
}

// TestCancel: a client that goes away cancels its command, and Close
// cancels the commands still running and waits for them.
func TestCancel(t *testing.T) {
	dir := t.TempDir()
	s := listen(t, dir)
	for _, closeServer := range []bool{false, true} {
		c, err := Dial(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			code, err := c.Run(ctx, &Request{Args: []string{"wait"}}, pw, io.Discard)
			if err == nil {
				err = fmt.Errorf("exit %d", code)
			}
			done <- err
		}()
		buf := make([]byte, 8)
		io.ReadFull(pr, buf) // the command runs
		go io.Copy(io.Discard, pr)
		if closeServer {
			s.Close() // returns once the command ended
			// The cancelled command ends with its status.
			if err := <-done; err == nil || err.Error() != "exit 130" {
				t.Errorf("Run after the server closed: %v, want exit 130", err)
			}
		} else {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run after cancel: %v", err)
			}
		}
		cancel()
	}
}

// TestStale: a socket nobody listens on (its server was killed) is no
// server for clients, and Listen replaces it.
func TestStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SocketName)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Probe(t.Context(), dir); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Probe of a stale socket: %v, want ErrNoServer", err)
	}
	listen(t, dir)
	if info, err := Probe(t.Context(), dir); err != nil || info.PID != 42 {
		t.Errorf("Probe after Listen replaced the stale socket: %+v, %v", info, err)
	}
}
