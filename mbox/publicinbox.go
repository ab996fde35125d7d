package mbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// epoch is one git repository of a public-inbox: a v2 epoch git/N.git or
// a whole v1 inbox.
type epoch struct {
	dir string // the git directory
	key string // checkpoint key: "git/N.git" for a v2 epoch
	v1  bool   // files named by Message-ID hash instead of m and d

	tip  string // commit HEAD named at open; "" for an empty repository
	from string // checkpoint commit to resume after; "" from the start
}

// inboxReader reads the epochs of one public-inbox one after another.
type inboxReader struct {
	ctx    context.Context
	log    *slog.Logger
	name   string
	epochs []epoch
	next   int          // index of the next epoch to start
	cur    *epochReader // nil between epochs
	err    error        // sticky
	closed bool
}

// openInbox checks the checkpoints of the epochs against their history
// and returns a reader that starts the git processes of one epoch at a
// time, lazily.
func openInbox(ctx context.Context, where, name string, epochs []epoch, o *Options) (*inboxReader, error) {
	for i := range epochs {
		ep := &epochs[i]
		tip, err := resolveTip(ctx, ep.dir)
		if err != nil {
			return nil, err
		}
		ep.tip = tip
		ck, ok := o.Checkpoint(ep.key)
		if !ok || ck == "" {
			continue
		}
		if !isHexOID(ck) {
			return nil, fmt.Errorf("mbox: %s: checkpoint %q is no commit id", ep.dir, ck)
		}
		if err := checkAncestor(ctx, ep.dir, ck, tip); err != nil {
			return nil, err
		}
		ep.from = ck
	}
	o.Logger.Debug("mbox: opened public-inbox", "path", where, "name", name, "epochs", len(epochs))
	return &inboxReader{ctx: ctx, log: o.Logger, name: name, epochs: epochs}, nil
}

// checkAncestor returns an error wrapping ErrRewritten unless commit ck
// is in the history of tip.
func checkAncestor(ctx context.Context, dir, ck, tip string) error {
	rewritten := fmt.Errorf("mbox: %s: checkpoint commit %s is not in the history of HEAD: %w", dir, ck, ErrRewritten)
	if tip == "" {
		return rewritten
	}
	code, err := gitExitCode(ctx, dir, "merge-base", "--is-ancestor", ck, tip)
	if err == nil && code == 0 {
		return nil
	}
	if err == nil {
		return rewritten
	}
	// merge-base fails on an unknown commit: tell that from other errors.
	if code, cerr := gitExitCode(ctx, dir, "cat-file", "-e", ck+"^{commit}"); cerr != nil || code != 0 {
		return rewritten
	}
	return err
}

// isHexOID reports whether s is a full SHA-1 or SHA-256 object id in
// lower-case hex, as git prints them.
func isHexOID[T string | []byte](s T) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (r *inboxReader) Name() string { return r.name }

func (r *inboxReader) Next() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, r.fail(fmt.Errorf("mbox: %w", err))
		}
		if r.cur == nil {
			if r.next >= len(r.epochs) {
				r.err = io.EOF
				return nil, io.EOF
			}
			ep := r.epochs[r.next]
			r.next++
			if ep.tip == "" || ep.tip == ep.from {
				continue // empty repository, or nothing new
			}
			cur, err := startEpoch(r.ctx, ep, r.log)
			if err != nil {
				return nil, r.fail(err)
			}
			r.cur = cur
		}
		m, err := r.cur.next()
		if err == io.EOF {
			r.cur = nil
			continue
		}
		if err != nil {
			return nil, r.fail(err)
		}
		return m, nil
	}
}

func (r *inboxReader) fail(err error) error {
	if r.cur != nil {
		r.cur.close()
		r.cur = nil
	}
	if r.ctx.Err() != nil && !errors.Is(err, r.ctx.Err()) {
		err = fmt.Errorf("%w (%w)", err, r.ctx.Err())
	}
	r.err = err
	return err
}

func (r *inboxReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		r.cur.close()
		r.cur = nil
	}
	if r.err == nil {
		r.err = errors.New("mbox: reader is closed")
	}
	return nil
}

// maxHex is the length of the longest object id (SHA-256) in hex.
const maxHex = 64

// logItem is one blob to read, parsed from the raw log by the feeder. It
// is passed by value: parsing allocates nothing per commit.
type logItem struct {
	commit    [maxHex]byte
	oid       [maxHex]byte
	commitLen uint8
	oidLen    uint8
	deleted   bool
	last      bool // the last item of its commit
	when      int64
}

// epochReader streams one epoch: `git log --raw` parsed by a feeder
// goroutine that hands the blobs to read to next, which keeps up to
// itemQueue of them requested from `git cat-file --batch` and reads the
// answers in the same order. When cat-file dies on a corrupt object, that
// item is recorded as a problem and a new cat-file is asked again for
// the requests still unanswered.
type epochReader struct {
	ctx      context.Context
	ep       epoch
	log      *slog.Logger
	prefix   string // "DIR commit "
	lg       *gitProc
	cat      *catFile
	inflight []logItem // requested from cat, answers not yet read, in order
	itemsEnd bool      // items was closed and drained
	items    chan logItem
	stop     chan struct{} // closed by close: the feeder must return
	fed      chan struct{} // closed by the feeder when it returned

	// Set by the feeder before it closes items.
	feedErr error
	empty   int

	ckpt    string // checkpoint of the last complete commit
	count   int    // messages yielded
	deleted int
	missing int
	corrupt int
	closed  bool
}

// itemQueue bounds the items (and so the blob requests) in flight.
const itemQueue = 128

func startEpoch(ctx context.Context, ep epoch, log *slog.Logger) (*epochReader, error) {
	rng := ep.tip
	if ep.from != "" {
		rng = ep.from + ".." + ep.tip
	}
	// The flags override whatever user configuration could change the
	// output: log.showRoot, diff.renames, log.showSignature, color.ui.
	lg, err := startGit(ctx, ep.dir, false, "log", "--reverse", "--raw", "--no-abbrev",
		"--no-renames", "--root", "--no-show-signature", "--no-color", "--no-ext-diff",
		"--format=%H %ct", rng, "--")
	if err != nil {
		return nil, err
	}
	cat, err := startCatFile(ctx, ep.dir)
	if err != nil {
		lg.close()
		return nil, err
	}
	e := &epochReader{
		ctx: ctx, ep: ep, log: log, prefix: ep.dir + " commit ", lg: lg, cat: cat,
		items: make(chan logItem, itemQueue),
		stop:  make(chan struct{}),
		fed:   make(chan struct{}),
		ckpt:  ep.from,
	}
	go e.feed(ctx)
	log.Debug("mbox: reading epoch", "epoch", ep.dir, "from", ep.from, "to", ep.tip)
	return e, nil
}

// feed parses the log, requests each blob and queues its item. It owns
// the log process: it drains and waits for it before closing items.
func (e *epochReader) feed(ctx context.Context) {
	defer close(e.fed)
	err := e.parseLog(ctx)
	if err != nil {
		e.lg.kill()
	}
	werr := e.lg.finish()
	if err == nil {
		err = werr
	}
	e.feedErr = err
	close(e.items)
}

func (e *epochReader) parseLog(ctx context.Context) error {
	br := bufio.NewReaderSize(e.lg.stdout, 64<<10)
	var (
		cur      logItem // commit and time of the current commit
		pending  logItem // requested, not yet queued
		havePend bool
		inCommit bool
		nitems   int // items of the current commit
	)
	send := func(it logItem) error {
		select {
		case e.items <- it:
			return nil
		case <-e.stop:
			return errStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	endCommit := func() error {
		if havePend {
			pending.last = true
			havePend = false
			if err := send(pending); err != nil {
				return err
			}
		}
		if inCommit && nitems == 0 {
			e.empty++
			e.log.Debug("mbox: skipping commit without message", "epoch", e.ep.dir,
				"commit", string(cur.commit[:cur.commitLen]))
		}
		return nil
	}
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return fmt.Errorf("mbox: %s: git log line too long", e.ep.dir)
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("mbox: %s: reading git log: %w", e.ep.dir, err)
		}
		if len(line) == 0 && err == io.EOF {
			return endCommit()
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		switch {
		case len(line) == 0:
		case line[0] == ':':
			it, ok := e.parseRaw(line, &cur)
			if !ok {
				break
			}
			if havePend {
				if err := send(pending); err != nil {
					return err
				}
			}
			pending, havePend = it, true
			nitems++
		default:
			if err := endCommit(); err != nil {
				return err
			}
			sp := bytes.IndexByte(line, ' ')
			if sp < 0 || !isHexOID(line[:sp]) {
				return fmt.Errorf("mbox: %s: unexpected git log line %q", e.ep.dir, line)
			}
			when, ok := parseDecimal(line[sp+1:])
			if !ok {
				return fmt.Errorf("mbox: %s: unexpected git log line %q", e.ep.dir, line)
			}
			cur.commitLen = uint8(copy(cur.commit[:], line[:sp]))
			cur.when = when
			inCommit, nitems = true, 0
		}
		if err == io.EOF {
			return endCommit()
		}
	}
}

var errStopped = errors.New("mbox: reader closed")

// parseRaw turns a raw diff line ":100644 100644 OLD NEW M\tm" into the
// blob to read, if the line names one.
func (e *epochReader) parseRaw(line []byte, cur *logItem) (logItem, bool) {
	f := line[1:]
	var fields [4][]byte
	for i := range fields {
		sp := bytes.IndexByte(f, ' ')
		if sp < 0 {
			return logItem{}, false
		}
		fields[i], f = f[:sp], f[sp+1:]
	}
	tab := bytes.IndexByte(f, '\t')
	if tab < 1 {
		return logItem{}, false
	}
	status, path := f[0], f[tab+1:]
	it := *cur
	var oid []byte
	switch {
	case e.ep.v1 && (status == 'A' || status == 'M'):
		oid = fields[3]
	case e.ep.v1 && status == 'D':
		oid, it.deleted = fields[2], true
	case status != 'A' && status != 'M':
		return logItem{}, false
	case string(path) == "m":
		oid = fields[3]
	case string(path) == "d":
		oid, it.deleted = fields[3], true
	default:
		return logItem{}, false
	}
	if len(oid) > maxHex {
		return logItem{}, false
	}
	it.oidLen = uint8(copy(it.oid[:], oid))
	return it, true
}

// fill requests the blobs of the items the feeder queued, keeping up to
// itemQueue in flight; it waits for one when none is. It reports false
// when every item was read.
func (e *epochReader) fill() (bool, error) {
	for !e.itemsEnd && len(e.inflight) < itemQueue {
		var (
			it logItem
			ok bool
		)
		if len(e.inflight) == 0 {
			it, ok = <-e.items
		} else {
			select {
			case it, ok = <-e.items:
			default:
				return true, nil
			}
		}
		if !ok {
			e.itemsEnd = true
			break
		}
		if err := e.cat.request(it.oid[:it.oidLen]); err != nil {
			// cat-file died: read answers on, up to the failure.
			e.log.Debug("mbox: writing to git cat-file", "epoch", e.ep.dir, "err", err)
		}
		e.inflight = append(e.inflight, it)
	}
	return len(e.inflight) > 0, nil
}

// restartCat replaces a cat-file that died, asking the new one for the
// blobs still unanswered.
func (e *epochReader) restartCat() error {
	e.cat.proc.close()
	cat, err := startCatFile(e.ctx, e.ep.dir)
	if err != nil {
		return err
	}
	e.cat = cat
	for _, it := range e.inflight {
		if err := cat.request(it.oid[:it.oidLen]); err != nil {
			return fmt.Errorf("mbox: %s: writing to git cat-file: %w", e.ep.dir, err)
		}
	}
	return nil
}

// next returns the next message of the epoch, or io.EOF after its last.
func (e *epochReader) next() (*Message, error) {
	if more, err := e.fill(); err != nil {
		e.close()
		return nil, err
	} else if !more {
		return nil, e.finish()
	}
	it := e.inflight[0]
	e.inflight = e.inflight[1:]
	commit := it.commit[:it.commitLen]
	oid := it.oid[:it.oidLen]
	var sb strings.Builder // one allocation for Where and Checkpoint
	sb.Grow(len(e.prefix) + len(commit))
	sb.WriteString(e.prefix)
	sb.Write(commit)
	where := sb.String()
	m := &Message{
		Key:      e.ep.key,
		Where:    where,
		Received: time.Unix(it.when, 0).UTC(),
		Deleted:  it.deleted,
	}
	if it.last {
		e.ckpt = where[len(e.prefix):]
	}
	m.Checkpoint = e.ckpt
	data, err := e.cat.read(oid)
	if err != nil && err != errMissing {
		msg := strings.TrimSpace(e.cat.proc.stderr.String())
		if msg != "" {
			err = fmt.Errorf("%w: git cat-file: %s", err, msg)
		}
		if !e.corruptObject(oid) {
			e.close()
			return nil, fmt.Errorf("mbox: %s: reading blob %s: %w", where, string(oid), err)
		}
		// One corrupt object: skipped and recorded like a missing
		// one, and the rest of the epoch read by a new cat-file.
		if rerr := e.restartCat(); rerr != nil {
			e.close()
			return nil, rerr
		}
		e.corrupt++
		m.Err = fmt.Errorf("mbox: %s: blob %s corrupt: %w", where, string(oid), err)
		e.log.Warn("mbox: corrupt blob", "epoch", e.ep.dir, "commit", string(commit), "blob", string(oid), "err", err)
		return m, nil
	}
	switch {
	case err == errMissing:
		e.missing++
		m.Err = fmt.Errorf("mbox: %s: blob %s missing", where, string(oid))
		e.log.Warn("mbox: missing blob", "epoch", e.ep.dir, "commit", string(commit), "blob", string(oid))
	case it.deleted:
		m.Data = data
		e.deleted++
	default:
		m.Data = data
		e.count++
	}
	return m, nil
}

// corruptObject reports whether reading blob oid on its own fails too
// while the repository is otherwise readable: the object is corrupt, not
// the cat-file process or the repository as a whole.
func (e *epochReader) corruptObject(oid []byte) bool {
	if e.ctx.Err() != nil {
		return false
	}
	if code, err := gitExitCode(e.ctx, e.ep.dir, "cat-file", "blob", string(oid)); err == nil && code == 0 {
		return false
	}
	tip, err := resolveTip(e.ctx, e.ep.dir)
	return err == nil && tip != "" && e.ctx.Err() == nil
}

// finish ends a fully read epoch: it waits for both processes and
// reports the first failure, or io.EOF.
func (e *epochReader) finish() error {
	<-e.fed
	err := e.feedErr
	if cerr := e.cat.proc.finish(); err == nil {
		err = cerr
	}
	e.closed = true
	if err != nil {
		return err
	}
	e.log.Info("mbox: epoch read", "epoch", e.ep.dir, "messages", e.count,
		"deletions", e.deleted, "missing", e.missing, "corrupt", e.corrupt, "empty_commits", e.empty)
	return io.EOF
}

// close stops an epoch early: it kills both processes, lets the feeder
// return, drains and waits.
func (e *epochReader) close() {
	if e.closed {
		return
	}
	e.closed = true
	close(e.stop)
	e.lg.kill()
	e.cat.proc.kill()
	<-e.fed
	e.cat.proc.close()
}
