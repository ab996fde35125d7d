// Package testserver starts real servers on 127.0.0.1 for tests: a
// Dovecot IMAP server (Debian dovecot-imapd) with one Maildir user, and a
// public-inbox v2 inbox served by public-inbox-httpd (Debian public-inbox).
// Each starter skips the test when the binaries are missing, so a
// machine without them still passes; .ci/run installs them. It also
// gives tests their mail: the sample archive, a prefix of the real corpus
// and synthetic messages.
package testserver

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Dovecot is a Dovecot instance owned by one test: its own base_dir,
// state and log in a temporary directory, listening on a free port of
// 127.0.0.1, one user (static passdb) whose INBOX is a Maildir.
type Dovecot struct {
	Addr         string // 127.0.0.1:PORT
	User         string
	Password     string
	PasswordFile string // holds Password, for --password-file
	Maildir      string // the INBOX Maildir

	tb    testing.TB
	bin   string
	dir   string
	conf  string
	cmd   *exec.Cmd
	waitc chan error // the result of cmd.Wait
	uid   int        // owner of the Maildir (the mail processes' user)
	gid   int
}

// findBinary looks name up in PATH and the sbin directories.
func findBinary(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// StartDovecot starts Dovecot with msgs already in the INBOX Maildir (as
// delivered files: Dovecot gives them UIDs on the first SELECT), or skips
// the test when Dovecot is not installed.
func StartDovecot(tb testing.TB, msgs [][]byte) *Dovecot {
	tb.Helper()
	bin, ok := findBinary("dovecot")
	if !ok {
		tb.Skip("dovecot not installed (Debian package dovecot-imapd)")
	}
	dir := tb.TempDir()
	d := &Dovecot{tb: tb, bin: bin, dir: dir, User: "tester", Password: "s3cr3t-pw",
		Maildir: filepath.Join(dir, "mail", "tester"), conf: filepath.Join(dir, "dovecot.conf")}
	d.PasswordFile = filepath.Join(dir, "password")
	if err := os.WriteFile(d.PasswordFile, []byte(d.Password+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d.Maildir, sub), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for i, m := range msgs {
		name := filepath.Join(d.Maildir, "new", fmt.Sprintf("1700000000.M%dP1.patchtrail", i))
		if err := os.WriteFile(name, m, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	d.uid, d.gid = os.Getuid(), os.Getgid()
	if d.uid == 0 {
		// Dovecot will not run mail processes as root.
		nobody, err := user.Lookup("nobody")
		if err != nil {
			tb.Skipf("running as root without a nobody user: %v", err)
		}
		d.uid, _ = strconv.Atoi(nobody.Uid)
		d.gid, _ = strconv.Atoi(nobody.Gid)
		openUp(tb, dir)
	}
	d.chownMail()
	d.writeConfig()
	d.Start()
	tb.Cleanup(func() {
		d.Stop()
		if tb.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "dovecot.log")); err == nil {
				tb.Logf("dovecot.log:\n%s", lastLines(b, 40))
			}
		}
	})
	return d
}

// openUp makes dir and its parents up to the temporary directory
// traversable, so that unprivileged mail processes reach the Maildir.
func openUp(tb testing.TB, dir string) {
	tmp := filepath.Clean(os.TempDir())
	for p := dir; strings.HasPrefix(p, tmp+string(filepath.Separator)); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
}

func (d *Dovecot) chownMail() {
	if d.uid == os.Getuid() {
		return
	}
	root := filepath.Join(d.dir, "mail")
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, d.uid, d.gid)
	})
	if err != nil {
		d.tb.Fatal(err)
	}
}

func (d *Dovecot) writeConfig() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.tb.Fatal(err)
	}
	d.Addr = ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(d.Addr)
	var extra string
	if os.Getuid() != 0 {
		me, err := user.Current()
		if err != nil {
			d.tb.Fatal(err)
		}
		g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
		if err != nil {
			d.tb.Fatal(err)
		}
		extra = fmt.Sprintf("default_internal_user = %s\ndefault_internal_group = %s\ndefault_login_user = %s\n",
			me.Username, g.Name, me.Username)
	}
	conf := fmt.Sprintf(`# written by patchtrail's tests
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
instance_name = patchtrail-test-%[2]s
%[5]sprotocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:%[1]s/mail/%%u
first_valid_uid = 1
first_valid_gid = 1
passdb {
  driver = static
  args = password=%[6]s
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/mail/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`, d.dir, port, d.uid, d.gid, extra, d.Password)
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		d.tb.Fatal(err)
	}
}

// Start starts the server (again) and waits until it accepts connections.
func (d *Dovecot) Start() {
	d.tb.Helper()
	cmd := exec.Command(d.bin, "-c", d.conf, "-F")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		d.tb.Fatalf("starting dovecot: %v", err)
	}
	d.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			d.cmd = nil
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			d.tb.Fatalf("dovecot exited: %v\n%s\n%s", err, out.String(), lastLines(log, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.tb.Fatalf("dovecot does not listen on %s: %s", d.Addr, out.String())
		}
	}
	d.waitc = exited
}

// Stop stops the server and waits for it.
func (d *Dovecot) Stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.waitc:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.waitc
	}
	d.cmd = nil
}

// URL is the source URL of the INBOX on addr (the server's own address
// when addr is "", else e.g. a proxy in front of it).
func (d *Dovecot) URL(addr string) string {
	if addr == "" {
		addr = d.Addr
	}
	return "imap://" + d.User + "@" + addr + "/INBOX"
}

// client logs in to the server.
func (d *Dovecot) client() *imapclient.Client {
	d.tb.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		d.tb.Fatal(err)
	}
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		c.Close()
		d.tb.Fatal(err)
	}
	return c
}

// Append delivers msgs to the INBOX with IMAP APPEND.
func (d *Dovecot) Append(msgs ...[]byte) {
	d.tb.Helper()
	c := d.client()
	defer c.Close()
	for _, m := range msgs {
		cmd := c.Append("INBOX", int64(len(m)), nil)
		if _, err := cmd.Write(m); err != nil {
			d.tb.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			d.tb.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			d.tb.Fatalf("APPEND: %v", err)
		}
	}
	c.Logout().Wait()
}

// Mailbox returns the INBOX's UIDVALIDITY and message count.
func (d *Dovecot) Mailbox() (validity uint32, messages uint32) {
	d.tb.Helper()
	c := d.client()
	defer c.Close()
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		d.tb.Fatal(err)
	}
	c.Logout().Wait()
	return sel.UIDValidity, sel.NumMessages
}

// ResetUIDValidity stops the server, replaces the INBOX's UID list with
// an empty one under a new UIDVALIDITY, drops its index and starts the
// server again: every message gets a new UID, as after a mailbox is
// rebuilt on a real server.
func (d *Dovecot) ResetUIDValidity() uint32 {
	d.tb.Helper()
	old, _ := d.Mailbox()
	d.Stop()
	ents, err := os.ReadDir(d.Maildir)
	if err != nil {
		d.tb.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "dovecot.index") || e.Name() == "dovecot-uidlist" {
			os.Remove(filepath.Join(d.Maildir, e.Name()))
		}
	}
	list := filepath.Join(d.Maildir, "dovecot-uidlist")
	if err := os.WriteFile(list, fmt.Appendf(nil, "3 V%d N1\n", old+1000), 0o644); err != nil {
		d.tb.Fatal(err)
	}
	os.Lchown(list, d.uid, d.gid)
	d.Start()
	v, _ := d.Mailbox()
	if v == old {
		d.tb.Fatalf("UIDVALIDITY still %d after the reset", v)
	}
	return v
}

// KillSessions kills (SIGKILL) the imap processes serving the current
// connections and returns how many there were.
func (d *Dovecot) KillSessions() int {
	d.tb.Helper()
	if d.cmd == nil {
		return 0
	}
	master := d.cmd.Process.Pid
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		comm := s[open+1 : close]
		f := strings.Fields(s[close+1:])
		if len(f) < 2 || comm != "imap" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != master {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// lastLines returns the last n lines of b.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
