package testserver

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PublicInbox is a public-inbox v2 inbox served by its own
// public-inbox-httpd on 127.0.0.1, owned by one test.
type PublicInbox struct {
	Name    string // inbox name, the first path element of URL
	Dir     string // the inbox directory (git/N.git epochs)
	Address string // the list address
	URL     string // http://127.0.0.1:PORT/NAME

	tb     testing.TB
	env    []string
	logf   string
	httpd  *exec.Cmd
	waitc  chan error
	commit int64 // time of the next hand-made commit
}

var publicInboxTools = []string{"public-inbox-init", "public-inbox-index", "public-inbox-mda", "public-inbox-httpd", "git"}

// StartPublicInbox creates a v2 inbox (public-inbox-init -V2 -L basic)
// holding msgs in epoch 0 (written with git fast-import as public-inbox
// writes them: one commit per message, the tree holding m), indexes it
// and serves it with public-inbox-httpd; it skips the test when
// public-inbox is not installed.
func StartPublicInbox(tb testing.TB, name string, msgs [][]byte) *PublicInbox {
	tb.Helper()
	for _, tool := range publicInboxTools {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not installed (Debian package public-inbox)", tool)
		}
	}
	dir := tb.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &PublicInbox{
		Name: name, Dir: filepath.Join(dir, name), Address: name + "@patchtrail.test",
		URL: "http://" + addr + "/" + name, tb: tb, logf: filepath.Join(dir, "httpd.log"),
		commit: 1700000000,
	}
	config := filepath.Join(dir, "pi-config")
	p.env = append(os.Environ(), "PI_CONFIG="+config, "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null")
	p.run(nil, "public-inbox-init", "-V2", "-L", "basic", name, p.Dir, p.URL, p.Address)
	p.run(nil, "git", "config", "-f", config, "publicinboxmda.spamcheck", "none")
	p.fastImport(filepath.Join(p.Dir, "git", "0.git"), msgs)
	p.Index()
	p.startHTTPD(addr)
	tb.Cleanup(func() {
		p.stopHTTPD()
		if tb.Failed() {
			if b, err := os.ReadFile(p.logf); err == nil {
				tb.Logf("public-inbox-httpd log:\n%s", lastLines(b, 30))
			}
		}
	})
	return p
}

// run runs a tool with the inbox's environment and stdin.
func (p *PublicInbox) run(stdin []byte, name string, args ...string) string {
	p.tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = p.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		p.tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// fastImport appends msgs to epoch gitDir (see FastImport).
func (p *PublicInbox) fastImport(gitDir string, msgs [][]byte) {
	p.tb.Helper()
	p.commit = FastImport(p.tb, gitDir, msgs, p.commit)
}

// FastImport appends msgs to the master branch of the bare repository
// gitDir (created when missing) with git fast-import, one commit per
// message as public-inbox v2 writes them (the tree holds only m), with
// commit times from when on. It returns the time after the last commit.
func FastImport(tb testing.TB, gitDir string, msgs [][]byte, when int64) int64 {
	tb.Helper()
	git := func(stdin []byte, args ...string) error {
		cmd := exec.Command("git", append([]string{"--git-dir=" + gitDir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(gitDir, "HEAD")); err != nil {
		if err := os.MkdirAll(gitDir, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := git(nil, "init", "-q", "--bare"); err != nil {
			tb.Fatal(err)
		}
	}
	hasMaster := git(nil, "rev-parse", "-q", "--verify", "refs/heads/master") == nil
	var b bytes.Buffer
	for i, m := range msgs {
		subject := fmt.Sprintf("message %d", i)
		fmt.Fprintf(&b, "commit refs/heads/master\nauthor Sender <sender@patchtrail.test> %d +0000\n"+
			"committer public-inbox <public-inbox@patchtrail.test> %d +0000\ndata %d\n%s\n",
			when, when, len(subject), subject)
		when++
		if i == 0 && hasMaster {
			b.WriteString("from refs/heads/master^0\n")
		}
		fmt.Fprintf(&b, "M 100644 inline m\ndata %d\n", len(m))
		b.Write(m)
		b.WriteString("\n")
	}
	if err := git(b.Bytes(), "fast-import", "--quiet"); err != nil {
		tb.Fatal(err)
	}
	if err := git(nil, "symbolic-ref", "HEAD", "refs/heads/master"); err != nil {
		tb.Fatal(err)
	}
	return when
}

// Index runs public-inbox-index over the inbox (which also makes the
// running httpd see new epochs in its manifest).
func (p *PublicInbox) Index() {
	p.tb.Helper()
	p.run(nil, "public-inbox-index", "--no-fsync", p.Dir)
}

// Deliver hands msgs to public-inbox-mda one by one, as a mail server
// would: they land in the newest epoch.
func (p *PublicInbox) Deliver(msgs ...[]byte) {
	p.tb.Helper()
	for _, m := range msgs {
		cmd := exec.Command("public-inbox-mda", "--no-precheck")
		cmd.Env = append(p.env, "ORIGINAL_RECIPIENT="+p.Address)
		cmd.Stdin = bytes.NewReader(m)
		if out, err := cmd.CombinedOutput(); err != nil {
			p.tb.Fatalf("public-inbox-mda: %v\n%s", err, out)
		}
	}
}

// Epochs is the number of epochs (git/N.git) of the inbox.
func (p *PublicInbox) Epochs() int {
	n := 0
	for {
		if _, err := os.Stat(filepath.Join(p.Dir, "git", fmt.Sprintf("%d.git", n), "HEAD")); err != nil {
			return n
		}
		n++
	}
}

// AddEpoch starts the next epoch with msgs, as public-inbox does when an
// epoch reaches its size limit (a new repository with its own history),
// and re-indexes. It returns the new epoch's number.
func (p *PublicInbox) AddEpoch(msgs ...[]byte) int {
	p.tb.Helper()
	n := p.Epochs()
	p.fastImport(filepath.Join(p.Dir, "git", fmt.Sprintf("%d.git", n)), msgs)
	p.Index()
	return n
}

func (p *PublicInbox) startHTTPD(addr string) {
	p.tb.Helper()
	logf, err := os.Create(p.logf)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer logf.Close()
	// -W0: no worker processes, one process to stop.
	cmd := exec.Command("public-inbox-httpd", "-W0", "-l", addr)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.tb.Fatalf("public-inbox-httpd: %v", err)
	}
	p.httpd = cmd
	p.waitc = make(chan error, 1)
	go func() { p.waitc <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/manifest.js.gz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-p.waitc:
			p.httpd = nil
			b, _ := os.ReadFile(p.logf)
			p.tb.Fatalf("public-inbox-httpd exited: %v\n%s", err, b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.tb.Fatalf("public-inbox-httpd does not answer on %s", addr)
		}
	}
}

func (p *PublicInbox) stopHTTPD() {
	if p.httpd == nil {
		return
	}
	pgid := p.httpd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.waitc:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.waitc
	}
	p.httpd = nil
}
