package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// IMAPPasswordEnv names the environment variable holding the IMAP
// password when no password file is given.
const IMAPPasswordEnv = "PATCHTRAIL_IMAP_PASSWORD"

// ErrNoPassword reports that no password was found for an IMAP source:
// no password file, no IMAPPasswordEnv and no matching ~/.netrc entry.
var ErrNoPassword = errors.New("mbox: no IMAP password (use a password file, " + IMAPPasswordEnv + " or ~/.netrc)")

// imapURL is a parsed imap:// or imaps:// source:
// imap[s]://USER@HOST[:PORT]/MAILBOX.
type imapURL struct {
	implicitTLS bool // imaps://
	user        string
	host        string // without port; IPv6 without brackets
	port        string // "" = the scheme's default
	mailbox     string
}

// IsIMAPURL reports whether source names an IMAP mailbox (imap:// or
// imaps://) rather than a path.
func IsIMAPURL(source string) bool {
	i := strings.Index(source, "://")
	if i < 0 {
		return false
	}
	s := strings.ToLower(source[:i])
	return s == "imap" || s == "imaps"
}

// CanonicalIMAPURL returns the canonical form of an IMAP source URL
// (lower-case scheme and host, default port dropped, mailbox INBOX when
// none is given), which names the source in the store.
func CanonicalIMAPURL(source string) (string, error) {
	u, err := parseIMAPURL(source)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// parseIMAPURL parses imap[s]://USER@HOST[:PORT]/MAILBOX. A password in
// the URL is refused: it would end up in the store, the logs and the
// process list.
func parseIMAPURL(source string) (*imapURL, error) {
	u, err := url.Parse(source)
	if err != nil {
		return nil, fmt.Errorf("mbox: IMAP URL %q: %w", redactURL(source), err)
	}
	bad := func(why string) error {
		return fmt.Errorf("mbox: IMAP URL %q: %s", redactURL(source), why)
	}
	var r imapURL
	switch strings.ToLower(u.Scheme) {
	case "imaps":
		r.implicitTLS = true
	case "imap":
	default:
		return nil, bad("scheme must be imap or imaps")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, bad("no user name (imaps://USER@HOST/MAILBOX)")
	}
	if _, ok := u.User.Password(); ok {
		return nil, bad("a password in the URL is not accepted; use a password file, " + IMAPPasswordEnv + " or ~/.netrc")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("query and fragment are not supported")
	}
	r.user = u.User.Username()
	r.host = strings.ToLower(u.Hostname())
	r.port = u.Port()
	if r.host == "" {
		return nil, bad("no host")
	}
	if !validHost(r.host) {
		return nil, bad("invalid host")
	}
	if r.port == r.defaultPort() {
		r.port = ""
	}
	r.mailbox = strings.TrimPrefix(u.Path, "/")
	if r.mailbox == "" || strings.EqualFold(r.mailbox, "INBOX") {
		r.mailbox = "INBOX"
	}
	return &r, nil
}

// validHost reports whether h is an IP address or a DNS name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (u *imapURL) defaultPort() string {
	if u.implicitTLS {
		return "993"
	}
	return "143"
}

// addr is HOST:PORT to dial.
func (u *imapURL) addr() string {
	port := u.port
	if port == "" {
		port = u.defaultPort()
	}
	return net.JoinHostPort(u.host, port)
}

// String is the canonical URL (never with a password).
func (u *imapURL) String() string {
	v := url.URL{Scheme: "imap", User: url.User(u.user), Host: u.host, Path: "/" + u.mailbox}
	if u.implicitTLS {
		v.Scheme = "imaps"
	}
	if strings.Contains(u.host, ":") {
		v.Host = "[" + u.host + "]"
	}
	if u.port != "" {
		v.Host = net.JoinHostPort(u.host, u.port)
	}
	return v.String()
}

// loopback reports whether the host is a loopback address or localhost,
// where imap:// may run without TLS.
func (u *imapURL) loopback() bool {
	if u.host == "localhost" {
		return true
	}
	ip := net.ParseIP(u.host)
	return ip != nil && ip.IsLoopback()
}

// redactURL drops a password from a URL for error messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

// imapPassword finds the password for u: the password file of o, else the
// environment variable IMAPPasswordEnv, else the netrc file (o.Netrc,
// $NETRC or ~/.netrc) entry for the host and user.
func imapPassword(u *imapURL, o *IMAPOptions, log *slog.Logger) (string, error) {
	if o.PasswordFile != "" {
		return readPasswordFile(o.PasswordFile, log)
	}
	if p := os.Getenv(IMAPPasswordEnv); p != "" {
		return p, nil
	}
	path := o.Netrc
	if path == "" {
		path = os.Getenv("NETRC")
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%s: %w", u, ErrNoPassword)
		}
		path = filepath.Join(home, ".netrc")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", u, ErrNoPassword)
	}
	if err != nil {
		return "", fmt.Errorf("mbox: netrc: %w", err)
	}
	if p, ok := netrcPassword(b, u.host, u.user); ok {
		return p, nil
	}
	return "", fmt.Errorf("%s: %w (nothing for machine %s login %s in %s)", u, ErrNoPassword, u.host, u.user, path)
}

// readPasswordFile returns the first line of the file at path.
func readPasswordFile(path string, log *slog.Logger) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("mbox: password file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("mbox: password file is readable by others", "file", path, "mode", fi.Mode().Perm().String())
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("mbox: password file %s: empty", path)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("mbox: password file %s: empty first line", path)
	}
	return line, nil
}

// netrcPassword looks up the password of login at machine in a netrc
// file (the format of ftp(1) and curl): tokens separated by white space,
// "machine NAME" or "default" starting an entry with "login", "password"
// and "account" pairs; "macdef NAME" is followed by lines up to an empty
// one. An entry for the machine without a login matches any user; the
// default entry is used when no machine entry matches.
func netrcPassword(data []byte, machine, login string) (string, bool) {
	type entry struct {
		machine, login, password string
		isDefault, hasPassword   bool
	}
	var (
		entries []entry
		cur     *entry
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inMacro := false
	for sc.Scan() {
		line := sc.Text()
		if inMacro {
			if strings.TrimSpace(line) == "" {
				inMacro = false
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i < len(f); i++ {
			arg := func() string {
				if i+1 < len(f) {
					i++
					return f[i]
				}
				return ""
			}
			switch f[i] {
			case "machine":
				entries = append(entries, entry{machine: strings.ToLower(arg())})
				cur = &entries[len(entries)-1]
			case "default":
				entries = append(entries, entry{isDefault: true})
				cur = &entries[len(entries)-1]
			case "login":
				if v := arg(); cur != nil {
					cur.login = v
				}
			case "password":
				if v := arg(); cur != nil {
					cur.password, cur.hasPassword = v, true
				}
			case "account":
				arg()
			case "macdef":
				inMacro = true
				i = len(f)
			}
		}
	}
	machine = strings.ToLower(machine)
	for _, want := range []func(e entry) bool{
		func(e entry) bool { return !e.isDefault && e.machine == machine && e.login == login },
		func(e entry) bool { return !e.isDefault && e.machine == machine && e.login == "" },
		func(e entry) bool { return e.isDefault && (e.login == "" || e.login == login) },
	} {
		for _, e := range entries {
			if want(e) && e.hasPassword {
				return e.password, true
			}
		}
	}
	return "", false
}
