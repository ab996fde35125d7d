package mbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"time"
)

const (
	// readBuffer is the size of the line buffer; longer lines are read
	// in pieces.
	readBuffer = 64 << 10
	// maxContentLength is the largest Content-Length trusted to frame a
	// message; larger values are ignored.
	maxContentLength = 256 << 20
	// maxMessage is the largest message kept; a larger one is skipped
	// and reported as an item with Err.
	maxMessage = 512 << 20
	// maxScratch is the largest read buffer kept between messages.
	maxScratch = 4 << 20
)

// clState tracks a message framed by its Content-Length header.
type clState int

const (
	clNone       clState = iota // not framed by Content-Length
	clInRegion                  // inside the body Content-Length covers
	clAfter                     // right after the body: From, blank or EOF must follow
	clAfterBlank                // after the body and one blank line: From or EOF must follow
)

// mboxReader reads one mbox stream; see the package documentation for
// the variants and how they are told apart.
type mboxReader struct {
	ctx     context.Context
	log     *slog.Logger
	name    string
	file    io.Closer   // nil for a stream the caller owns
	release func()      // releases the decompressor
	unwake  func() bool // stops the wake-up of a blocked read when ctx ends
	lr      lineReader
	ring    tailRing

	haveFrom bool  // a separator line was consumed; a message follows
	fromOff  int64 // its offset
	fromFrag bool  // the separator line continues in the next piece
	fromCR   bool  // the separator line holds a CR
	boundary bool  // the next line is at a message boundary
	eof      bool

	clGood, clBad int   // messages whose Content-Length held or failed
	cl2           bool  // a Content-Length body held an unescaped From line
	rdSeen        bool  // a ">>From " line was seen: mboxrd
	plain         bool  // not compressed: offsets are file offsets
	broken        error // the compressed stream ended early with this error
	brokenDone    bool  // ... and that was reported
	kept          int   // messages yielded with Data
	maxMessage    int
	scratch       []byte // the buffer messages are read into, reused
	err           error  // sticky
	closed        bool
}

// openMboxFile opens an mbox file, compressed or not.
func openMboxFile(ctx context.Context, path string, o *Options) (Reader, error) {
	f, err := openInput(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("mbox: %w", err)
	}
	r, err := newMboxReader(ctx, path, f, f, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	// A read blocked on a FIFO (or any pollable input) returns when ctx
	// ends; reads of regular files never block for long.
	r.unwake = context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	return r, nil
}

// openInput opens path for reading. Opening a FIFO waits for a writer:
// when ctx ends first, the wait is ended by connecting as a writer for
// a moment, and the ctx error returned.
func openInput(ctx context.Context, path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		return os.Open(path)
	}
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, fmt.Errorf("%s: waiting for a writer: %w", path, ctx.Err())
	}
}

// newMboxReader reads the mbox stream src, named name in messages. When
// file is not nil it is src, it is closed by Close, and an uncompressed
// file is resumed by seeking.
func newMboxReader(ctx context.Context, name string, src io.Reader, file *os.File, o *Options) (*mboxReader, error) {
	r := &mboxReader{ctx: ctx, log: o.Logger, name: name, release: func() {},
		boundary: true, maxMessage: maxMessage}
	if file != nil {
		r.file = file
	}
	br := bufio.NewReaderSize(src, readBuffer)
	kind := sniffCompression(br)
	r.plain = kind == compressNone
	ck, resume := o.Checkpoint("")
	resume = resume && ck != ""
	var (
		off   int64
		guard uint32
		err   error
	)
	if resume {
		if off, guard, err = parseCheckpoint(ck); err != nil {
			return nil, fmt.Errorf("mbox: %s: %w", name, err)
		}
	}
	if kind == compressNone && file != nil && resume {
		if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < off {
			return nil, fmt.Errorf("mbox: %s: file is shorter than the checkpoint offset %d: %w", name, off, ErrRewritten)
		}
		start := max(0, off-guardWindow)
		if _, err := file.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("mbox: %s: %w", name, err)
		}
		br.Reset(file)
		r.lr = lineReader{br: br, off: start}
		r.ring.n = start
	} else {
		dec, release, err := decompressor(ctx, br, kind)
		if err != nil {
			return nil, fmt.Errorf("mbox: %s: %w", name, err)
		}
		r.release = release
		r.lr.br = br
		if kind != compressNone {
			r.lr.br = bufio.NewReaderSize(dec, readBuffer)
		}
		r.log.Debug("mbox: opened mbox", "path", name, "compression", kind.String())
	}
	if resume {
		if err := r.skipTo(off, guard); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// skipTo moves the stream to offset off and checks that the bytes before
// it hash to guard.
func (r *mboxReader) skipTo(off int64, guard uint32) error {
	rewritten := fmt.Errorf("mbox: %s: file is shorter than the checkpoint offset %d: %w", r.name, off, ErrRewritten)
	if skip := off - guardWindow - r.lr.off; skip > 0 {
		n, err := r.lr.br.Discard(int(min(skip, 1<<62)))
		r.lr.off += int64(n)
		r.ring.n += int64(n)
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return rewritten
		}
		if err != nil {
			return fmt.Errorf("mbox: %s: %w", r.name, err)
		}
	}
	tail := make([]byte, off-r.lr.off)
	if _, err := io.ReadFull(r.lr.br, tail); err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return rewritten
	} else if err != nil {
		return fmt.Errorf("mbox: %s: %w", r.name, err)
	}
	r.lr.off = off
	r.ring.write(tail)
	if r.ring.sum() != guard {
		return fmt.Errorf("mbox: %s: bytes before the checkpoint offset %d changed: %w", r.name, off, ErrRewritten)
	}
	r.log.Debug("mbox: resuming", "path", r.name, "offset", off)
	return nil
}

func (r *mboxReader) Name() string { return "" }

func (r *mboxReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.unwake != nil {
		r.unwake()
	}
	r.release()
	if r.err == nil {
		r.err = errors.New("mbox: reader is closed")
	}
	if r.file != nil {
		if err := r.file.Close(); err != nil {
			return fmt.Errorf("mbox: %s: %w", r.name, err)
		}
	}
	return nil
}

func (r *mboxReader) Next() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("mbox: %s: %w", r.name, err)
		return nil, r.err
	}
	if !r.haveFrom {
		if r.eof {
			if m := r.brokenItem(); m != nil {
				return m, nil
			}
			r.err = io.EOF
			return nil, io.EOF
		}
		m, err := r.seekFrom()
		if err != nil {
			r.err = err
			return nil, err
		}
		if m != nil {
			return m, nil
		}
		if !r.haveFrom {
			if m := r.brokenItem(); m != nil {
				return m, nil
			}
			r.err = io.EOF
			return nil, io.EOF
		}
	}
	m, err := r.readMessage()
	if err != nil {
		r.err = err
		return nil, err
	}
	if m.Data != nil {
		r.kept++
	}
	return m, nil
}

// piece reads the next piece of the stream. A decompressor hitting the
// end of a truncated file counts as the end of the stream.
func (r *mboxReader) piece() ([]byte, bool, error) {
	p, start, err := r.lr.next()
	if err == nil || err == io.EOF {
		return p, start, err
	}
	if cerr := r.ctx.Err(); cerr != nil {
		return nil, start, fmt.Errorf("mbox: %s: offset %d: %w", r.name, r.lr.off, cerr)
	}
	if !r.plain {
		// A truncated or corrupt compressed stream: what was decoded is
		// kept, and the end is recorded as a problem (see broken).
		r.broken = err
		r.log.Warn("mbox: compressed stream ends early", "path", r.name, "offset", r.lr.off, "err", err)
		return nil, start, io.EOF
	}
	return nil, start, fmt.Errorf("mbox: %s: offset %d: %w", r.name, r.lr.off, err)
}

// brokenItem returns, once, the item recording that the compressed stream
// ended early, saying what was kept; nil when it did not.
func (r *mboxReader) brokenItem() *Message {
	if r.broken == nil || r.brokenDone {
		return nil
	}
	r.brokenDone = true
	what := "truncated"
	if !errors.Is(r.broken, io.ErrUnexpectedEOF) {
		what = "corrupt"
	}
	return &Message{
		Checkpoint: r.ring.checkpoint(),
		Where:      r.where(r.lr.off),
		Err: fmt.Errorf("mbox: %s: offset %d: compressed stream is %s; kept the %d messages before it (%d bytes decompressed): %w",
			r.name, r.lr.off, what, r.kept, r.lr.off, r.broken),
	}
}

// seekFrom skips to the first separator line at a boundary (the start of
// the stream, a resumed offset). Bytes before it other than white space
// are returned as an item with Err.
func (r *mboxReader) seekFrom() (*Message, error) {
	startOff := r.lr.off
	first, prevBlank, junk := r.boundary, false, false
	r.boundary = false
	var garbage *Message
	junkItem := func(end int64) *Message {
		return &Message{
			Checkpoint: r.ring.checkpoint(),
			Where:      r.where(startOff),
			Err: fmt.Errorf("mbox: %s: offset %d: %d bytes before the first From line are no message",
				r.name, startOff, end-startOff),
		}
	}
	for n := 0; ; n++ {
		if n&1023 == 1023 {
			if err := r.ctx.Err(); err != nil {
				return nil, fmt.Errorf("mbox: %s: offset %d: %w", r.name, r.lr.off, err)
			}
		}
		off := r.lr.off
		p, start, err := r.piece()
		if err == io.EOF {
			r.eof = true
			if junk {
				garbage = junkItem(r.lr.off)
			}
			return garbage, nil
		}
		if err != nil {
			return nil, err
		}
		if start && isFromLine(p) && (first || prevBlank || looksLikePostmark(p)) {
			if junk {
				garbage = junkItem(off)
			}
			r.ring.write(p)
			r.haveFrom, r.fromOff, r.fromFrag = true, off, p[len(p)-1] != '\n'
			r.fromCR = bytes.IndexByte(p, '\r') >= 0
			return garbage, nil
		}
		first = false
		r.ring.write(p)
		junk = junk || !allSpace(p)
		prevBlank = start && isBlank(p)
	}
}

func (r *mboxReader) where(off int64) string {
	b := make([]byte, 0, len(r.name)+len(":offset ")+20)
	b = append(b, r.name...)
	b = append(b, ":offset "...)
	b = strconv.AppendInt(b, off, 10)
	return string(b)
}

// msgState is the framing state of the message being read.
type msgState struct {
	buf          []byte // raw bytes after the From line
	size         int64  // bytes after the From line, also when discarded
	inHeaders    bool
	prevBlank    bool
	clLen        int64 // Content-Length, or -1
	cl           clState
	regionEnd    int  // len(buf) where the Content-Length body ends
	firstCand    int  // offset in buf of the first separator-like line in the region, or -1
	fromInRegion bool // an unescaped "From " line in the region
	escapes      int  // lines matching ^>+From
	discard      bool // too large: bytes not kept
}

// readMessage reads the message after the consumed separator line.
func (r *mboxReader) readMessage() (*Message, error) {
	msgOff := r.fromOff
	r.haveFrom = false
	long := r.fromFrag
	for r.fromFrag { // the rest of a very long separator line
		p, _, err := r.piece()
		if err == io.EOF {
			r.eof = true
			break
		}
		if err != nil {
			return nil, err
		}
		r.ring.write(p)
		r.fromFrag = p[len(p)-1] != '\n'
		r.fromCR = r.fromCR || bytes.IndexByte(p, '\r') >= 0
	}
	if long && r.eof {
		// The From line never ended: no line feed in the rest of the
		// stream. Say why rather than report an empty message.
		why := "it has no line feed"
		if r.fromCR {
			why = "lines end in a bare CR (classic Mac OS line ends), which mbox does not allow; convert them to LF first"
		}
		return &Message{Checkpoint: r.ring.checkpoint(), Where: r.where(msgOff),
			Err: fmt.Errorf("mbox: %s: offset %d: the From line runs to the end of the stream (%d bytes): %s",
				r.name, msgOff, r.lr.off-msgOff, why)}, nil
	}
	s := msgState{buf: r.scratch[:0], inHeaders: true, clLen: -1, firstCand: -1}
	for n := 0; !r.eof; n++ {
		if n&1023 == 1023 {
			if err := r.ctx.Err(); err != nil {
				return nil, fmt.Errorf("mbox: %s: %w", r.name, err)
			}
		}
		off := r.lr.off
		p, start, err := r.piece()
		if err == io.EOF {
			r.eof = true
			break
		}
		if err != nil {
			return nil, err
		}
		blank := start && isBlank(p)
		from := start && isFromLine(p)
		switch s.cl {
		case clInRegion:
			if from {
				s.fromInRegion = true
				if s.firstCand < 0 && isSeparator(p, s.prevBlank) {
					s.firstCand = len(s.buf)
				}
			}
			r.add(&s, p, start, blank)
			switch {
			case len(s.buf) > s.regionEnd:
				if r.clFailed(&s) {
					return r.finish(&s, msgOff)
				}
			case len(s.buf) == s.regionEnd && !r.lr.frag:
				s.cl = clAfter
			}
			continue
		case clAfter, clAfterBlank:
			switch {
			case from:
				return r.endAt(&s, msgOff, off, p)
			case blank && s.cl == clAfter:
				r.add(&s, p, start, blank)
				s.cl = clAfterBlank
				continue
			}
			if r.clFailed(&s, p) {
				return r.finish(&s, msgOff)
			}
		}
		if from && isSeparator(p, s.prevBlank) {
			return r.endAt(&s, msgOff, off, p)
		}
		if s.inHeaders && start {
			if blank {
				s.inHeaders = false
				if s.clLen >= 0 && r.clGood+2 >= r.clBad && !s.discard {
					s.cl = clInRegion
					s.regionEnd = len(s.buf) + len(p) + int(s.clLen)
					if s.clLen == 0 {
						s.cl = clAfter
					}
				}
			} else if s.clLen < 0 {
				if cl := contentLength(p); cl >= 0 && cl <= maxContentLength {
					s.clLen = cl
				}
			}
		}
		r.add(&s, p, start, blank)
	}
	if s.cl == clInRegion && len(s.buf) != s.regionEnd && r.clFailed(&s) {
		return r.finish(&s, msgOff) // truncated: the region never ended
	}
	return r.finish(&s, msgOff)
}

// add appends a piece of the message.
func (r *mboxReader) add(s *msgState, p []byte, start, blank bool) {
	if start && p[0] == '>' {
		if d := escapeDepth(p); d > 0 {
			s.escapes++
			if d > 1 && s.cl == clNone && !r.rdSeen {
				r.rdSeen = true
				r.log.Debug("mbox: >>From line: reading as mboxrd", "path", r.name)
			}
		}
	}
	s.size += int64(len(p))
	s.prevBlank = blank
	if s.discard {
		r.ring.write(p)
		return
	}
	s.buf = append(s.buf, p...)
	if len(s.buf) > r.maxMessage {
		s.discard, s.cl, s.firstCand = true, clNone, -1
		r.ring.write(s.buf)
		s.buf = nil
	}
}

// clFailed handles a Content-Length that does not frame the message: the
// message ends at the first separator line inside the assumed body (the
// rest, and cur, are read again), or, without one, goes on as a plain
// mbox message. It reports whether the message ended.
func (r *mboxReader) clFailed(s *msgState, cur ...[]byte) bool {
	r.clBad++
	s.cl = clNone
	if s.firstCand < 0 {
		return false
	}
	r.lr.pushBack(append([][]byte{s.buf[s.firstCand:]}, cur...)...)
	s.buf = s.buf[:s.firstCand]
	s.firstCand = -1
	r.boundary = true
	r.eof = false
	return true
}

// endAt ends the message at the separator line p found at offset off.
func (r *mboxReader) endAt(s *msgState, msgOff, off int64, p []byte) (*Message, error) {
	m, err := r.finish(s, msgOff)
	r.ring.write(p)
	r.haveFrom, r.fromOff, r.fromFrag = true, off, p[len(p)-1] != '\n'
	r.fromCR = bytes.IndexByte(p, '\r') >= 0
	return m, err
}

// finish turns the bytes read into the message item.
func (r *mboxReader) finish(s *msgState, msgOff int64) (*Message, error) {
	if !s.discard {
		r.ring.write(s.buf)
	}
	m := &Message{Checkpoint: r.ring.checkpoint(), Where: r.where(msgOff)}
	if s.discard {
		m.Err = fmt.Errorf("mbox: %s: offset %d: message of %d bytes is larger than %d bytes", r.name, msgOff, s.size, r.maxMessage)
		return m, nil
	}
	data := s.buf
	rd := true
	if s.cl == clAfter || s.cl == clAfterBlank || (s.cl == clInRegion && len(data) == s.regionEnd) {
		r.clGood++
		if s.fromInRegion && !r.cl2 {
			r.cl2 = true
			r.log.Debug("mbox: unescaped From line in a Content-Length body: reading as mboxcl2", "path", r.name)
		}
		data, rd = data[:s.regionEnd], false
		if r.cl2 {
			s.escapes = 0
		}
	} else if n := len(data); n >= 2 && data[n-1] == '\n' && (data[n-2] == '\n' || n >= 3 && data[n-2] == '\r' && data[n-3] == '\n') {
		data = data[:n-1] // the blank line before the next separator
		if data[n-2] == '\r' {
			data = data[:n-2]
		}
	} else if r.eof && !r.boundary {
		r.log.Info("mbox: last message looks truncated", "path", r.name, "offset", msgOff, "bytes", n)
	}
	if s.escapes > 0 {
		data = unescape(data, rd)
	}
	if len(data) == 0 || isBlank(data) {
		m.Err = fmt.Errorf("mbox: %s: offset %d: empty message", r.name, msgOff)
	} else {
		// One exact allocation, not zeroed before the copy.
		m.Data = append([]byte(nil), data...)
	}
	if cap(s.buf) <= maxScratch {
		r.scratch = s.buf[:0]
	} else {
		r.scratch = nil
	}
	return m, nil
}
