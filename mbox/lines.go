package mbox

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// lineReader returns an mbox stream in pieces: whole lines, or pieces of
// lines longer than its buffer. Bytes pushed back are returned again
// before the rest of the stream.
type lineReader struct {
	br      *bufio.Reader
	pending []byte // pushed back, returned before br
	off     int64  // stream offset of the next byte returned
	frag    bool   // the last piece did not end a line
}

// next returns the next piece, valid until the next call, and whether it
// starts a line. At the end it returns io.EOF and no piece.
func (l *lineReader) next() (piece []byte, start bool, err error) {
	start = !l.frag
	if len(l.pending) > 0 {
		n := bytes.IndexByte(l.pending, '\n') + 1
		if n == 0 {
			n = len(l.pending)
		}
		piece, l.pending = l.pending[:n], l.pending[n:]
	} else {
		piece, err = l.br.ReadSlice('\n')
		if len(piece) > 0 {
			// Data first; an error other than a full buffer comes
			// again with the next read (readers here keep their errors).
			err = nil
		}
		if err != nil {
			return nil, start, err
		}
	}
	l.off += int64(len(piece))
	l.frag = piece[len(piece)-1] != '\n'
	return piece, start, nil
}

// pushBack makes the concatenation of parts the next bytes returned. The
// first part must start a line.
func (l *lineReader) pushBack(parts ...[]byte) {
	n := len(l.pending)
	for _, p := range parts {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	for _, p := range parts {
		buf = append(buf, p...)
		l.off -= int64(len(p))
	}
	l.pending = append(buf, l.pending...)
	l.frag = false
}

// guardWindow is how many bytes before a checkpoint offset its guard
// covers.
const guardWindow = 16 << 10

// castagnoli is the CRC-32C table: the guard detects accidental change,
// not forgery, and CRC-32C costs next to nothing with SSE 4.2 or ARMv8.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// tailRing keeps the last guardWindow bytes of the stream consumed so far.
type tailRing struct {
	b [guardWindow]byte
	n int64 // bytes written in total
}

func (t *tailRing) write(p []byte) {
	if len(p) > guardWindow {
		t.n += int64(len(p) - guardWindow)
		p = p[len(p)-guardWindow:]
	}
	for len(p) > 0 {
		pos := int(t.n % guardWindow)
		c := copy(t.b[pos:], p)
		t.n += int64(c)
		p = p[c:]
	}
}

// sum is the CRC-32C of the kept bytes in stream order.
func (t *tailRing) sum() uint32 {
	if t.n < guardWindow {
		return crc32.Checksum(t.b[:t.n], castagnoli)
	}
	pos := int(t.n % guardWindow)
	return crc32.Update(crc32.Update(0, castagnoli, t.b[pos:]), castagnoli, t.b[:pos])
}

// checkpoint formats the resume position after the bytes in t:
// "OFFSET:GUARD", GUARD the CRC-32C in hex of the guardWindow bytes
// before OFFSET.
func (t *tailRing) checkpoint() string {
	b := make([]byte, 0, 20+1+8)
	b = strconv.AppendInt(b, t.n, 10)
	b = append(b, ':')
	b = appendHex32(b, t.sum())
	return string(b)
}

func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[v>>uint(shift)&0xf])
	}
	return b
}

// parseCheckpoint splits an mbox checkpoint into offset and guard.
func parseCheckpoint(ck string) (int64, uint32, error) {
	offs, hexs, ok := strings.Cut(ck, ":")
	off, err := strconv.ParseInt(offs, 10, 64)
	if !ok || err != nil || off < 0 || len(hexs) != 8 {
		return 0, 0, fmt.Errorf("mbox: malformed checkpoint %q", ck)
	}
	guard, err := strconv.ParseUint(hexs, 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("mbox: malformed checkpoint %q", ck)
	}
	return off, uint32(guard), nil
}

func isBlank(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

func isFromLine(line []byte) bool { return bytes.HasPrefix(line, []byte("From ")) }

// isSeparator reports whether the "From " line (or first piece of one) p
// inside a message starts the next message: when it has the shape of a
// postmark, as public-inbox's reader requires (its from_strict pattern);
// a blank line before it is not enough, since unescaped "From " lines
// after blank lines occur in bodies (mboxcl2, careless writers). A From
// line longer than the read buffer, whose date cannot be seen in its
// first piece, counts after a blank line.
func isSeparator(p []byte, prevBlank bool) bool {
	return looksLikePostmark(p) || prevBlank && p[len(p)-1] != '\n'
}

// looksLikePostmark reports whether a "From " line has the shape of an
// mbox separator: "From SENDER DATE" with a time hh:mm and a four digit
// year in DATE ("From MAILER-DAEMON Fri Jul  8 12:08:34 2011",
// "From 1234abcd Mon Sep 17 00:00:00 2001").
func looksLikePostmark(line []byte) bool {
	rest := bytes.TrimLeft(line[len("From "):], " ")
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return false
	}
	date := rest[sp+1:]
	if len(date) > 200 {
		return false
	}
	clock, year := false, false
	run := 0 // digits in a row
	for i, c := range date {
		if '0' <= c && c <= '9' {
			run++
			continue
		}
		if c == ':' && run >= 1 && run <= 2 && i+2 < len(date) && isDigit(date[i+1]) && isDigit(date[i+2]) {
			clock = true
		}
		if run == 4 {
			year = true
		}
		run = 0
	}
	if run == 4 {
		year = true
	}
	return clock && year
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// escapeDepth returns how many '>' precede "From " at the start of line,
// or 0 when line is no escaped From line.
func escapeDepth(line []byte) int {
	n := 0
	for n < len(line) && line[n] == '>' {
		n++
	}
	if n == 0 || !bytes.HasPrefix(line[n:], []byte("From ")) {
		return 0
	}
	return n
}

// unescape removes one '>' from every line of b that starts with
// '>'*n "From " where n >= 1 (mboxrd) or n == 1 (mboxo, mboxcl). It
// works in place and returns the shortened slice.
func unescape(b []byte, rd bool) []byte {
	w := 0
	for i := 0; i < len(b); {
		end := bytes.IndexByte(b[i:], '\n') + 1
		if end == 0 {
			end = len(b) - i
		}
		src := i
		if d := escapeDepth(b[i : i+end]); d == 1 || (rd && d > 1) {
			src++
		}
		n := i + end - src
		if w != src {
			copy(b[w:], b[src:src+n])
		}
		w += n
		i += end
	}
	return b[:w]
}

// contentLength parses a "Content-Length:" header line, or returns -1.
func contentLength(line []byte) int64 {
	const name = "content-length:"
	if len(line) < len(name) || !bytes.EqualFold(line[:len(name)], []byte(name)) {
		return -1
	}
	v := bytes.TrimSpace(line[len(name):])
	if len(v) == 0 || len(v) > 12 {
		return -1
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// allSpace reports whether b holds only ASCII white space.
func allSpace(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', '\f', '\v':
		default:
			return false
		}
	}
	return true
}
