package mbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IMAPOptions tunes the reading of imap:// and imaps:// sources. A nil
// *IMAPOptions means defaults.
type IMAPOptions struct {
	// PasswordFile is a file whose first line is the password. When
	// empty, the password comes from the environment variable
	// IMAPPasswordEnv, else from the netrc file.
	PasswordFile string
	// Netrc is the netrc file to look in; "" means $NETRC, else ~/.netrc.
	Netrc string
	// TLSConfig is used for imaps:// and STARTTLS; nil means the system's
	// roots and the URL's host name. imap:// to a loopback host runs in
	// plain text unless TLSConfig is set, which asks for STARTTLS there
	// too.
	TLSConfig *tls.Config
	// BatchSize is how many UIDs one UID FETCH asks for (default 200).
	BatchSize int
	// Retries is how many times in a row a dropped connection is
	// re-established before Next fails (default 5).
	Retries int
	// Backoff is the delay before the first reconnect; it doubles with
	// every failed attempt up to one minute (default 1s).
	Backoff time.Duration
	// Timeout bounds dialling and logging in (default 30s).
	Timeout time.Duration
}

func (o *IMAPOptions) withDefaults() *IMAPOptions {
	var c IMAPOptions
	if o != nil {
		c = *o
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	if c.Retries <= 0 {
		c.Retries = 5
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return &c
}

// maxBackoff caps the delay between reconnects.
const maxBackoff = time.Minute

// imapReader reads the messages of one mailbox in UID order, in batches
// of UID FETCH (UID INTERNALDATE BODY.PEEK[]) that it consumes one
// message at a time.
type imapReader struct {
	ctx      context.Context
	log      *slog.Logger
	o        *IMAPOptions
	u        *imapURL
	name     string // canonical URL, for messages
	password string

	conn  net.Conn
	c     *imapclient.Client
	stop  func() bool // ends the context watch of conn
	fetch *imapclient.FetchCommand
	// broken is set when reading a literal failed: go-imap then lets its
	// decoder go on, so the literal must not be touched again until the
	// decoder has stopped (see dropConn).
	broken bool

	validity uint32
	mark     imap.UID    // every UID <= mark has been yielded (or is gone)
	todo     imap.UIDSet // UIDs above mark still to read, ascending
	batch    []imap.UID  // UIDs of the running FETCH, ascending
	got      []bool      // which of batch have been yielded
	lo       int         // batch[:lo] are all yielded
	total    int64
	failures int // reconnects since the last message

	err    error // sticky
	closed bool
}

// openIMAP connects, logs in and selects (read-only) the mailbox of
// source, resuming after the checkpoint "UIDVALIDITY:UID" stored under
// the mailbox name.
func openIMAP(ctx context.Context, source string, o *Options) (*imapReader, error) {
	u, err := parseIMAPURL(source)
	if err != nil {
		return nil, err
	}
	iopts := o.IMAP.withDefaults()
	r := &imapReader{ctx: ctx, log: o.Logger, o: iopts, u: u, name: u.String()}
	if r.password, err = imapPassword(u, iopts, o.Logger); err != nil {
		return nil, err
	}
	if ck, ok := o.Checkpoint(u.mailbox); ok && ck != "" {
		v, uid, err := parseIMAPCheckpoint(ck)
		if err != nil {
			return nil, fmt.Errorf("mbox: %s: %w", r.name, err)
		}
		r.validity, r.mark = v, uid
	}
	if err := r.connect(); err != nil {
		return nil, err
	}
	r.total = countUIDs(r.todo)
	return r, nil
}

// parseIMAPCheckpoint parses "UIDVALIDITY:UID".
func parseIMAPCheckpoint(ck string) (uint32, imap.UID, error) {
	vs, us, ok := strings.Cut(ck, ":")
	v, err1 := strconv.ParseUint(vs, 10, 32)
	u, err2 := strconv.ParseUint(us, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("checkpoint %q is not UIDVALIDITY:UID", ck)
	}
	return uint32(v), imap.UID(u), nil
}

// connect dials, logs in, selects the mailbox and lists the UIDs to
// read. A UIDVALIDITY other than the one known means the UIDs were
// renumbered: reading starts again at the first message (the store
// drops the messages it already holds).
func (r *imapReader) connect() error {
	ctx, cancel := context.WithTimeout(r.ctx, r.o.Timeout)
	defer cancel()
	conn, err := r.dial(ctx)
	if err != nil {
		return fmt.Errorf("mbox: %s: %w", r.name, err)
	}
	r.conn = conn
	r.stop = context.AfterFunc(r.ctx, func() { conn.Close() })
	// Dialling, greeting and login must not outlive the timeout either.
	conn.SetDeadline(time.Now().Add(r.o.Timeout))
	if r.u.implicitTLS || (r.u.loopback() && r.o.TLSConfig == nil) {
		r.c = imapclient.New(conn, nil)
	} else {
		tc := r.tlsConfig()
		if r.c, err = imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: tc}); err != nil {
			r.dropConn()
			return fmt.Errorf("mbox: %s: STARTTLS: %w", r.name, err)
		}
	}
	if err := r.c.WaitGreeting(); err != nil {
		r.dropConn()
		return fmt.Errorf("mbox: %s: greeting: %w", r.name, err)
	}
	if err := r.c.Login(r.u.user, r.password).Wait(); err != nil {
		r.dropConn()
		return fmt.Errorf("mbox: %s: login as %s: %w", r.name, r.u.user, err)
	}
	sel, err := r.c.Select(r.u.mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		r.dropConn()
		return fmt.Errorf("mbox: %s: select %q: %w", r.name, r.u.mailbox, err)
	}
	conn.SetDeadline(time.Time{}) // from here the client's own timeouts apply
	if sel.UIDValidity != r.validity {
		if r.validity != 0 {
			r.log.Warn("mbox: IMAP UIDVALIDITY changed, reading the mailbox again", "source", r.name,
				"old", r.validity, "new", sel.UIDValidity)
		}
		r.validity, r.mark = sel.UIDValidity, 0
		r.todo, r.batch, r.got, r.lo = nil, nil, nil, 0
	} else if r.batch != nil {
		// Reconnected in the middle of a batch: what it did not yield yet
		// comes first.
		var rest imap.UIDSet
		for i, uid := range r.batch {
			if !r.got[i] {
				rest.AddNum(uid)
			}
		}
		rest.AddSet(r.todo)
		r.todo, r.batch, r.got, r.lo = rest, nil, nil, 0
		return nil
	}
	if r.todo != nil {
		return nil // reconnected between batches: the list still holds
	}
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && sel.UIDNext <= r.mark+1) {
		r.todo = imap.UIDSet{}
		return nil
	}
	var from imap.UIDSet
	from.AddRange(r.mark+1, 0)
	res, err := r.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{from}}, nil).Wait()
	if err != nil {
		r.dropConn()
		return fmt.Errorf("mbox: %s: UID SEARCH: %w", r.name, err)
	}
	r.todo, err = clipUIDs(res.All, r.mark)
	if err != nil {
		r.dropConn()
		return fmt.Errorf("mbox: %s: UID SEARCH: %w", r.name, err)
	}
	r.log.Debug("mbox: IMAP mailbox selected", "source", r.name, "uidvalidity", r.validity,
		"after", r.mark, "to_read", countUIDs(r.todo))
	return nil
}

func (r *imapReader) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if !r.u.implicitTLS {
		return d.DialContext(ctx, "tcp", r.u.addr())
	}
	td := &tls.Dialer{NetDialer: d, Config: r.tlsConfig()}
	return td.DialContext(ctx, "tcp", r.u.addr())
}

func (r *imapReader) tlsConfig() *tls.Config {
	var c *tls.Config
	if r.o.TLSConfig != nil {
		c = r.o.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = r.u.host
	}
	if c.NextProtos == nil && r.u.implicitTLS {
		c.NextProtos = []string{"imap"}
	}
	return c
}

// clipUIDs checks a UID SEARCH result and drops UIDs <= mark (a server
// answers "N:*" with the highest UID even when it is below N).
func clipUIDs(all imap.NumSet, mark imap.UID) (imap.UIDSet, error) {
	set, ok := all.(imap.UIDSet)
	if all == nil {
		return imap.UIDSet{}, nil
	}
	if !ok || set.Dynamic() {
		return nil, fmt.Errorf("server returned an invalid UID set %q", all.String())
	}
	out := imap.UIDSet{}
	for _, rg := range set {
		lo, hi := min(rg.Start, rg.Stop), max(rg.Start, rg.Stop)
		if hi <= mark {
			continue
		}
		out.AddRange(max(lo, mark+1), hi)
	}
	return out, nil
}

// countUIDs counts the UIDs of a static set.
func countUIDs(s imap.UIDSet) int64 {
	var n int64
	for _, rg := range s {
		n += int64(rg.Stop) - int64(rg.Start) + 1
	}
	return n
}

// takeUIDs removes up to n of the lowest UIDs from s and returns them.
func takeUIDs(s *imap.UIDSet, n int) []imap.UID {
	var out []imap.UID
	for len(*s) > 0 && len(out) < n {
		rg := &(*s)[0]
		for rg.Start <= rg.Stop && len(out) < n {
			out = append(out, rg.Start)
			if rg.Start == rg.Stop {
				*s = (*s)[1:]
				break
			}
			rg.Start++
		}
	}
	return out
}

func (r *imapReader) Name() string { return "" }

// Total is the number of messages to read, known at open.
func (r *imapReader) Total() int64 { return r.total }

func (r *imapReader) Next() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, r.fail(fmt.Errorf("mbox: %s: %w", r.name, err))
		}
		if r.fetch == nil {
			if r.batch != nil { // the last FETCH is done: what it lacks is gone
				r.mark = r.batch[len(r.batch)-1]
				r.batch, r.got, r.lo = nil, nil, 0
			}
			if len(r.todo) == 0 {
				r.logout()
				r.err = io.EOF
				return nil, io.EOF
			}
			r.batch = takeUIDs(&r.todo, r.o.BatchSize)
			r.got = make([]bool, len(r.batch))
			r.fetch = r.c.Fetch(imap.UIDSetNum(r.batch...), &imap.FetchOptions{
				UID: true, InternalDate: true,
				BodySection: []*imap.FetchItemBodySection{{Peek: true}},
			})
		}
		fm := r.fetch.Next()
		if fm == nil {
			err := r.fetch.Close()
			r.fetch = nil
			if err != nil {
				if err := r.recover(err); err != nil {
					return nil, r.fail(err)
				}
			}
			continue
		}
		m, uid, err := r.read(fm)
		if err != nil {
			if err := r.recover(err); err != nil {
				return nil, r.fail(err)
			}
			continue
		}
		i := indexUID(r.batch, uid)
		if i < 0 || r.got[i] {
			continue // not asked for, or already yielded
		}
		r.got[i] = true
		for r.lo < len(r.got) && r.got[r.lo] {
			r.lo++
		}
		ck := r.mark
		if r.lo > 0 {
			ck = r.batch[r.lo-1]
		}
		m.Key = r.u.mailbox
		m.Checkpoint = fmt.Sprintf("%d:%d", r.validity, ck)
		r.failures = 0
		return m, nil
	}
}

// indexUID returns the position of uid in the ascending batch, or -1.
func indexUID(batch []imap.UID, uid imap.UID) int {
	lo, hi := 0, len(batch)
	for lo < hi {
		mid := (lo + hi) / 2
		switch {
		case batch[mid] == uid:
			return mid
		case batch[mid] < uid:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// read collects one FETCH response: its UID, INTERNALDATE and body.
// An error means the connection failed while reading it.
func (r *imapReader) read(fm *imapclient.FetchMessageData) (*Message, imap.UID, error) {
	var (
		uid  imap.UID
		m    = &Message{}
		body bool
	)
	for {
		item := fm.Next()
		if item == nil {
			break
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = it.UID
		case imapclient.FetchItemDataInternalDate:
			m.Received = it.Time.UTC()
		case imapclient.FetchItemDataBodySection:
			body = true
			if it.Literal == nil {
				m.Err = errors.New("server sent no body (NIL)")
				continue
			}
			if size := it.Literal.Size(); size > maxMessage {
				if _, err := io.Copy(io.Discard, it.Literal); err != nil {
					r.broken = true
					return nil, 0, err
				}
				m.Err = fmt.Errorf("message of %d bytes is larger than %d bytes", size, maxMessage)
				continue
			}
			data := make([]byte, it.Literal.Size())
			if _, err := io.ReadFull(it.Literal, data); err != nil {
				r.broken = true
				return nil, 0, err
			}
			m.Data = data
		}
	}
	if uid == 0 {
		// Without its UID the response cannot be placed; a dropped
		// connection looks the same.
		if err := r.ctx.Err(); err != nil {
			return nil, 0, err
		}
		return nil, 0, errors.New("FETCH response without UID")
	}
	m.Where = fmt.Sprintf("%s uid %d", r.name, uid)
	if !body && m.Err == nil {
		m.Err = errors.New("server sent no body")
	}
	if m.Err != nil {
		m.Err = fmt.Errorf("mbox: %s: %w", m.Where, m.Err)
		m.Data = nil
	}
	return m, uid, nil
}

// recover handles a failed FETCH: a NO answer (some messages were
// expunged meanwhile) ends the batch, a dropped connection is
// re-established with backoff and reading continues after the last
// message yielded; anything else is returned.
func (r *imapReader) recover(cause error) error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("mbox: %s: %w", r.name, err)
	}
	var ie *imap.Error
	if errors.As(cause, &ie) {
		if ie.Type == imap.StatusResponseTypeNo && r.c != nil && r.fetch == nil {
			missing := 0
			for _, g := range r.got {
				if !g {
					missing++
				}
			}
			r.log.Warn("mbox: IMAP FETCH answered NO, skipping what it did not send", "source", r.name,
				"missing", missing, "err", cause)
			return nil
		}
		return fmt.Errorf("mbox: %s: FETCH: %w", r.name, cause)
	}
	r.dropConn()
	for {
		r.failures++
		if r.failures > r.o.Retries {
			return fmt.Errorf("mbox: %s: connection lost, giving up after %d reconnects: %w", r.name, r.o.Retries, cause)
		}
		delay := r.o.Backoff << (r.failures - 1)
		if delay > maxBackoff || delay <= 0 {
			delay = maxBackoff
		}
		r.log.Warn("mbox: IMAP connection lost, reconnecting", "source", r.name, "after_uid", r.mark,
			"attempt", r.failures, "delay", delay, "err", cause)
		t := time.NewTimer(delay)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return fmt.Errorf("mbox: %s: %w", r.name, r.ctx.Err())
		case <-t.C:
		}
		err := r.connect()
		if err == nil {
			return nil
		}
		var ie *imap.Error
		if errors.As(err, &ie) { // the server answered: login or select refused
			return err
		}
		cause = err
	}
}

// dropConn closes the connection at once and releases a FETCH in flight.
//
// go-imap's decoder waits for each body literal to be read before it
// reads on. A FETCH interrupted between literals is drained (the decoder
// reads nothing meanwhile). After a failed literal read the decoder has
// gone on by itself and fails on the closed connection; the literal may
// only be drained once the decoder has stopped, or both would read the
// same buffer.
func (r *imapReader) dropConn() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	drain := true
	if r.fetch != nil {
		if r.broken {
			select {
			case <-r.c.Closed():
			case <-time.After(10 * time.Second):
				drain = false // leave it: better a stuck goroutine than a race
				r.log.Warn("mbox: IMAP client did not stop after the connection closed", "source", r.name)
			}
		}
		if drain {
			r.fetch.Close() // returns once the closed connection ends it
		}
		r.fetch = nil
	}
	if r.c != nil {
		if drain {
			r.c.Close()
		} else {
			go r.c.Close()
		}
		r.c = nil
	}
	r.broken = false
}

// logout ends the session politely after the last message.
func (r *imapReader) logout() {
	if r.c == nil {
		return
	}
	if r.conn != nil {
		r.conn.SetDeadline(time.Now().Add(5 * time.Second))
	}
	if err := r.c.Logout().Wait(); err != nil {
		r.log.Debug("mbox: IMAP logout", "source", r.name, "err", err)
	}
	r.dropConn()
}

func (r *imapReader) fail(err error) error {
	r.dropConn()
	r.err = err
	return err
}

func (r *imapReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.dropConn()
	if r.err == nil {
		r.err = errors.New("mbox: reader is closed")
	}
	return nil
}
