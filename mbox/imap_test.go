package mbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/google/go-cmp/cmp"
)

// memIMAP is go-imap's in-memory server on 127.0.0.1: fast enough for
// every edge case; the Dovecot tests cover a real server.
type memIMAP struct {
	user *imapmemserver.User
	addr string
	msgs [][]byte // appended so far, in UID order
}

const (
	testUser = "tester"
	testPass = "s3cret word"
)

func startMemIMAP(t *testing.T, tlsConf *tls.Config, implicitTLS bool) *memIMAP {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(testUser, testPass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	}
	if !implicitTLS {
		opts.TLSConfig = tlsConf
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &memIMAP{user: u, addr: ln.Addr().String()}
}

// internalDate is the INTERNALDATE given to the i-th appended message.
func internalDate(i int) time.Time { return time.Unix(1700000000+int64(i)*60, 0).UTC() }

// testMessage is message i, padded to about pad bytes.
func testMessage(i, pad int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Tester <t@example.org>\r\nMessage-ID: <m%d@example.org>\r\nSubject: message %d\r\n\r\nbody %d\r\n", i, i, i)
	for b.Len() < pad {
		b.WriteString("padding padding padding padding padding padding padding padding\r\n")
	}
	return b.Bytes()
}

func (m *memIMAP) add(t *testing.T, n, pad int) {
	t.Helper()
	for range n {
		i := len(m.msgs)
		data := testMessage(i, pad)
		if _, err := m.user.Append("INBOX", bytes.NewReader(data), &imap.AppendOptions{Time: internalDate(i)}); err != nil {
			t.Fatal(err)
		}
		m.msgs = append(m.msgs, data)
	}
}

// renumber deletes and re-creates INBOX with the same messages: a new
// UIDVALIDITY.
func (m *memIMAP) renumber(t *testing.T) {
	t.Helper()
	if err := m.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := m.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i, data := range m.msgs {
		if _, err := m.user.Append("INBOX", bytes.NewReader(data), &imap.AppendOptions{Time: internalDate(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func (m *memIMAP) url(addr string) string { return "imap://" + testUser + "@" + addr + "/INBOX" }

// openTestIMAP opens source with a password file and the checkpoints ck.
func openTestIMAP(t *testing.T, ctx context.Context, source string, ck map[string]string, io *IMAPOptions) (Reader, error) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(testPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := IMAPOptions{PasswordFile: pw, Backoff: time.Millisecond, BatchSize: 3}
	if io != nil {
		o = *io
		if o.PasswordFile == "" {
			o.PasswordFile = pw
		}
	}
	return Open(ctx, source, &Options{
		Checkpoint: func(k string) (string, bool) { v, ok := ck[k]; return v, ok },
		IMAP:       &o,
	})
}

// drain reads r to the end.
func drain(t *testing.T, r Reader) []*Message {
	t.Helper()
	var out []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d messages: %v", len(out), err)
		}
		out = append(out, m)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after EOF = %v, want io.EOF again", err)
	}
	return out
}

// bodies returns the Data of msgs as strings.
func bodies(msgs []*Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Data))
	}
	return out
}

func wantBodies(all [][]byte, from int) []string {
	var out []string
	for _, b := range all[from:] {
		out = append(out, string(b))
	}
	return out
}

func TestIMAPReadAndResume(t *testing.T) {
	srv := startMemIMAP(t, nil, false)
	srv.add(t, 7, 0)
	ctx := context.Background()
	r, err := openTestIMAP(t, ctx, srv.url(srv.addr), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.(interface{ Total() int64 }).Total(); n != 7 {
		t.Errorf("Total = %d, want 7", n)
	}
	got := drain(t, r)
	r.Close()
	if diff := cmp.Diff(wantBodies(srv.msgs, 0), bodies(got)); diff != "" {
		t.Fatalf("messages (-want +got):\n%s", diff)
	}
	var validity uint32
	for i, m := range got {
		v, uid, err := parseIMAPCheckpoint(m.Checkpoint)
		if err != nil {
			t.Fatal(err)
		}
		validity = v
		if m.Key != "INBOX" || uid != imap.UID(i+1) || !m.Received.Equal(internalDate(i)) ||
			!strings.HasSuffix(m.Where, fmt.Sprintf("/INBOX uid %d", i+1)) {
			t.Errorf("message %d: key %q checkpoint %q received %v where %q", i, m.Key, m.Checkpoint, m.Received, m.Where)
		}
	}
	last := map[string]string{"INBOX": got[len(got)-1].Checkpoint}

	// Nothing new: EOF at once.
	r, err = openTestIMAP(t, ctx, srv.url(srv.addr), last, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, r); len(got) != 0 {
		t.Errorf("resume without new mail read %d messages", len(got))
	}
	r.Close()

	// New mail: exactly it.
	srv.add(t, 4, 0)
	r, err = openTestIMAP(t, ctx, srv.url(srv.addr), last, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = drain(t, r)
	r.Close()
	if diff := cmp.Diff(wantBodies(srv.msgs, 7), bodies(got)); diff != "" {
		t.Fatalf("resumed messages (-want +got):\n%s", diff)
	}
	if want := fmt.Sprintf("%d:11", validity); got[len(got)-1].Checkpoint != want {
		t.Errorf("last checkpoint %q, want %q", got[len(got)-1].Checkpoint, want)
	}

	// A new UIDVALIDITY: everything again, under the new validity.
	srv.renumber(t)
	r, err = openTestIMAP(t, ctx, srv.url(srv.addr), map[string]string{"INBOX": got[len(got)-1].Checkpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	again := drain(t, r)
	r.Close()
	if diff := cmp.Diff(wantBodies(srv.msgs, 0), bodies(again)); diff != "" {
		t.Fatalf("after UIDVALIDITY change (-want +got):\n%s", diff)
	}
	if v, _, _ := parseIMAPCheckpoint(again[0].Checkpoint); v == validity {
		t.Errorf("checkpoint %q keeps the old UIDVALIDITY %d", again[0].Checkpoint, validity)
	}
}

// TestIMAPReconnect cuts the connection at several points of the FETCH
// stream: every message must still come exactly once, in order.
func TestIMAPReconnect(t *testing.T) {
	srv := startMemIMAP(t, nil, false)
	srv.add(t, 40, 3000)
	for _, cut := range []int64{1, 700, 9000, 45000, 100000} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			p := NewCutProxy(t, srv.addr)
			r, err := openTestIMAP(t, context.Background(), srv.url(p.Addr()), nil,
				&IMAPOptions{BatchSize: 7, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			p.CutAfter(cut)
			got := drain(t, r)
			if diff := cmp.Diff(wantBodies(srv.msgs, 0), bodies(got)); diff != "" {
				t.Fatalf("messages (-want +got):\n%s", diff)
			}
			if p.Cuts() != 1 || p.Conns() != 2 {
				t.Errorf("cuts %d, connections %d; want 1 and 2", p.Cuts(), p.Conns())
			}
		})
	}
}

func TestIMAPGivesUp(t *testing.T) {
	srv := startMemIMAP(t, nil, false)
	srv.add(t, 10, 2000)
	p := NewCutProxy(t, srv.addr)
	r, err := openTestIMAP(t, context.Background(), srv.url(p.Addr()), nil,
		&IMAPOptions{BatchSize: 5, Backoff: time.Millisecond, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := r.Next()
	if err != nil || m.Data == nil {
		t.Fatalf("first Next = %v, %v", m, err)
	}
	p.close() // the server is gone for good
	n := 1
	for ; ; n++ {
		_, err = r.Next()
		if err != nil {
			break
		}
	}
	if err == io.EOF || !strings.Contains(err.Error(), "giving up after 2 reconnects") {
		t.Fatalf("Next = %v, want giving up", err)
	}
	if n > 5 {
		t.Errorf("read %d messages, the first batch has 5", n)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("error not sticky: %v then %v", err, err2)
	}
}

func TestIMAPOpenErrors(t *testing.T) {
	srv := startMemIMAP(t, nil, false)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("wrong\n"), 0o600)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		url, pwFile, want string
	}{
		{srv.url(srv.addr), pw, "login as tester"},
		{"imap://tester@" + srv.addr + "/Missing", "", `select "Missing"`},
		{"imap://tester@" + closedAddr + "/INBOX", "", "connection refused"},
		{"imap://tester:pw@" + srv.addr + "/INBOX", "", "password in the URL"},
	} {
		_, err := openTestIMAP(t, context.Background(), tc.url, nil, &IMAPOptions{PasswordFile: tc.pwFile})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s) = %v, want error containing %q", tc.url, err, tc.want)
		}
	}
}

func TestIMAPCancel(t *testing.T) {
	srv := startMemIMAP(t, nil, false)
	srv.add(t, 10, 0)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := openTestIMAP(t, ctx, srv.url(srv.addr), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %v, want context.Canceled", err)
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and a client
// configuration trusting it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestIMAPTLS(t *testing.T) {
	serverConf, clientConf := selfSigned(t)
	for _, tc := range []struct {
		name   string
		scheme string
		client *tls.Config
		want   string // error, "" for success
	}{
		{"imaps", "imaps", clientConf, ""},
		{"starttls", "imap", clientConf, ""},
		{"imaps-untrusted", "imaps", &tls.Config{}, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMemIMAP(t, serverConf, tc.scheme == "imaps")
			srv.add(t, 3, 0)
			url := tc.scheme + "://" + testUser + "@" + srv.addr + "/INBOX"
			r, err := openTestIMAP(t, context.Background(), url, nil, &IMAPOptions{TLSConfig: tc.client})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Open = %v, want error containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := drain(t, r); len(got) != 3 {
				t.Errorf("read %d messages over %s, want 3", len(got), tc.scheme)
			}
		})
	}
}
