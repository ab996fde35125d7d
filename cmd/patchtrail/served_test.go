package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"patchtrail/internal/daemon"
)

// server is a `serve` child process.
type server struct {
	cmd    *exec.Cmd
	exited chan error // receives Wait's result once
	done   bool
}

// stop sends sig to the server and waits for it to end.
func (s *server) stop(sig os.Signal) {
	if s.done {
		return
	}
	s.cmd.Process.Signal(sig)
	<-s.exited
	s.done = true
}

// startServe starts `serve` on data as a child process and waits until it
// answers on its command socket.
func startServe(t *testing.T, data string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--data", data, "serve", "--addr", "127.0.0.1:0"}, args...)...)
	var logb bytes.Buffer
	cmd.Stderr = &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	for {
		if _, err := daemon.Probe(t.Context(), data); err == nil {
			return s
		}
		select {
		case err := <-s.exited:
			s.done = true
			t.Fatalf("serve exited before answering on its socket: %v\n%s", err, logb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// took is the timing field of search --json, the one part that differs
// between two runs of the same search.
var took = regexp.MustCompile(`"took": [0-9.e-]+`)

// TestCommandsBesideServe: with `serve` running on a data directory, read
// commands answer exactly as without it (they run in the server, which
// holds the index), and an import fails at once naming the server's pid.
func TestCommandsBesideServe(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	var res struct {
		Hits []struct {
			MessageID string `json:"message_id"`
			Subject   string `json:"subject"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "search", "--json", "s:PATCH")), &res); err != nil {
		t.Fatal(err)
	}
	var patch, reply string
	for _, h := range res.Hits {
		if strings.HasPrefix(h.Subject, "[") && patch == "" {
			patch = h.MessageID
		}
		if strings.HasPrefix(h.Subject, "Re:") && reply == "" {
			reply = h.MessageID
		}
	}
	if patch == "" || reply == "" {
		t.Fatalf("no patch and reply in the sample: %+v", res.Hits)
	}
	runs := [][]string{
		{"search", "s:PATCH"},
		{"search", "--json", "--limit", "0", "d:2000-01-01..2100-01-01"},
		{"search", "--mbox", "s:io_uring"},
		{"search", "--threads", "--sort", "relevance", "b:ring AND NOT f:bob"},
		{"search", "s:("},                 // a parse error: same message, same status
		{"search", "--no-such-flag", "x"}, // a usage error, printed by the server
		{"show", patch},
		{"show", "--json", reply},
		{"show", "--raw", reply},
		{"show", "no-such-message@example.org"},
		{"thread", reply},
		{"thread", "--json", patch},
		{"series", patch},
		{"trace", patch},
		{"trace", "--json", patch},
		{"stats"},
		{"stats", "--json"},
		{"problems"},
		{"repo", "list"},
		{"sources"},
	}
	type answer struct {
		out, err string
		code     int
	}
	runAll := func() []answer {
		var as []answer
		for _, args := range runs {
			out, errOut, err := ptErr(data, args...)
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			as = append(as, answer{took.ReplaceAllString(out, `"took": T`), errOut, code})
		}
		return as
	}
	alone := runAll()
	if alone[0].code != 0 || !strings.Contains(alone[0].out, "results\n") {
		t.Fatalf("search without server: %+v", alone[0])
	}

	srv := startServe(t, data)
	sock := filepath.Join(data, daemon.SocketName)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket %s: %v, mode %v; want a socket of mode 0600", sock, err, fi.Mode())
	}
	served := runAll()
	for i, args := range runs {
		if alone[i] != served[i] {
			t.Errorf("patchtrail %s beside serve:\n%+v\nwant, as without serve:\n%+v", strings.Join(args, " "), served[i], alone[i])
		}
	}

	// A write that needs the index fails at once, naming the server.
	start := time.Now()
	_, errOut, err := ptErr(data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	elapsed := time.Since(start)
	pid := fmt.Sprint(srv.cmd.Process.Pid)
	if err == nil || !strings.Contains(errOut, "pid "+pid) || !strings.Contains(errOut, "kill "+pid) {
		t.Errorf("import beside serve (pid %s): err %v, stderr:\n%s\nwant a failure naming the pid", pid, err, errOut)
	}
	// It does not wait for the index lock (5 s) as it did.
	if elapsed >= 5*time.Second {
		t.Errorf("import beside serve took %v to fail", elapsed)
	}
	t.Logf("import beside serve failed after %v", elapsed)
	// Writes that leave the index alone run beside a server that does not sync.
	pt(t, data, "import", "--no-index", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))

	// A second server on the same directory serves, but the first keeps
	// the socket.
	if out, errOut, err := ptErr(data, "serve", "--addr", "bad address"); err == nil || strings.Contains(errOut, "answering commands") {
		t.Errorf("second serve: %v\n%s%s", err, out, errOut)
	}

	// SIGTERM: the server removes its socket.
	srv.stop(syscall.SIGTERM)
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket after SIGTERM: %v; want it removed", err)
	}
}

// TestStaleSocket: a server killed with SIGKILL leaves its socket; commands
// then run by themselves, and the next server replaces it.
func TestStaleSocket(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	want := pt(t, data, "stats")
	srv := startServe(t, data)
	srv.stop(os.Kill)
	if _, err := os.Stat(filepath.Join(data, daemon.SocketName)); err != nil {
		t.Fatalf("no stale socket after SIGKILL: %v", err)
	}
	if got := pt(t, data, "stats"); got != want {
		t.Errorf("stats with a stale socket:\n%s\nwant\n%s", got, want)
	}
	pt(t, data, "search", "s:PATCH") // the index is free
	startServe(t, data)
	if got := pt(t, data, "stats"); got != want {
		t.Errorf("stats through the new server:\n%s\nwant\n%s", got, want)
	}
}

// TestServeBesideImport: serve started while an import holds the index
// fails at once, naming the importer's pid, instead of waiting for it.
func TestServeBesideImport(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	// An import of a FIFO holds the store and index until the FIFO's
	// writer closes it.
	fifo := filepath.Join(t.TempDir(), "mbox")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	imp := exec.Command(bin, "--data", data, "import", fifo)
	var impErr bytes.Buffer
	imp.Stderr = &impErr
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the import opens it
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		w.Close()
		if err := imp.Wait(); err != nil {
			t.Errorf("import of the FIFO: %v\n%s", err, impErr.String())
		}
	}()
	pid := fmt.Sprint(imp.Process.Pid)
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0"},
		{"serve", "--addr", "127.0.0.1:0", "--sync", "1h"},
		{"import", "--no-index", fifo + ".absent"},
	} {
		start := time.Now()
		_, errOut, err := ptErr(data, args...)
		if err == nil || !strings.Contains(errOut, "pid "+pid) && !strings.Contains(errOut, "process "+pid) {
			t.Errorf("%s beside an import (pid %s): %v\n%s\nwant a failure naming the pid", strings.Join(args, " "), pid, err, errOut)
		}
		if elapsed := time.Since(start); elapsed >= 5*time.Second {
			t.Errorf("%s beside an import took %v to fail", strings.Join(args, " "), elapsed)
		}
	}
	io.WriteString(w, "") // the import reads an empty mbox and ends
}

// TestCommandsBesideSyncServe: beside `serve --sync`, which holds the store
// for writing, reads go through the server and every write fails at once
// naming it.
func TestCommandsBesideSyncServe(t *testing.T) {
	data := t.TempDir()
	pt(t, data, "import", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox"))
	want := pt(t, data, "search", "s:PATCH")
	srv := startServe(t, data, "--sync", "1h")
	if got := pt(t, data, "search", "s:PATCH"); got != want {
		t.Errorf("search beside serve --sync:\n%s\nwant\n%s", got, want)
	}
	pid := fmt.Sprint(srv.cmd.Process.Pid)
	for _, args := range [][]string{
		{"import", "--no-index", filepath.Join(repoRoot(t), "testdata/sample/sample.mbox")},
		{"cve", "import", t.TempDir()},
		{"link"},
		{"reindex"},
	} {
		_, errOut, err := ptErr(data, args...)
		if err == nil || !strings.Contains(errOut, "serve --sync` (pid "+pid+")") {
			t.Errorf("%s beside serve --sync (pid %s): %v\n%s\nwant a failure naming the pid", strings.Join(args, " "), pid, err, errOut)
		}
	}
}
