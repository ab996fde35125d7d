package gitrepo

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"hash"
)

// patchID computes `git patch-id --stable` over the diff lines of one
// commit, fed one line at a time. It is a line-for-line port of
// get_one_patchid in git's builtin/patch-id.c (git 2.39+, which hashes
// binary files by their blob ids and counts "@@ -1 +1 @@" hunks right),
// minus the commit-boundary detection: the caller feeds one commit's
// diff section and calls sum.
type patchID struct {
	h             hash.Hash
	result        [sha1.Size]byte
	patchlen      int
	before, after int
	binary        bool
	done          bool   // git stopped reading this patch ("Split at the end of the patch")
	preOID        []byte // blob ids from the last "index" line
	postOID       []byte
	buf           []byte // scratch for the whitespace-free line
}

func (p *patchID) reset() {
	if p.h == nil {
		p.h = sha1.New()
	} else {
		p.h.Reset()
	}
	p.result = [sha1.Size]byte{}
	p.patchlen = 0
	p.before, p.after = -1, -1
	p.binary = false
	p.done = false
	p.preOID = p.preOID[:0]
	p.postOID = p.postOID[:0]
}

// flushHunk adds the running hash to the result as a 20-byte little-endian
// sum with carry (flush_one_hunk), and restarts the hash.
func (p *patchID) flushHunk() {
	var sum [sha1.Size]byte
	p.h.Sum(sum[:0])
	p.h.Reset()
	carry := 0
	for i := range p.result {
		carry += int(p.result[i]) + int(sum[i])
		p.result[i] = byte(carry)
		carry >>= 8
	}
}

// line feeds one line, with its trailing newline if it had one.
func (p *patchID) line(line []byte) {
	if p.done {
		return
	}
	// git works on C strings: a NUL ends the line.
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	if bytes.HasPrefix(line, []byte(`\ `)) && len(line) > 12 {
		return // "\ No newline at end of file"
	}
	if p.patchlen == 0 && !bytes.HasPrefix(line, []byte("diff ")) {
		return // commit message and blank lines before the diff
	}
	var first byte
	if len(line) > 0 {
		first = line[0]
	}
	if p.before == -1 {
		switch {
		case bytes.HasPrefix(line, []byte("GIT binary patch")), bytes.HasPrefix(line, []byte("Binary files")):
			p.binary = true
			p.before = 0
			p.h.Write(p.preOID)
			p.h.Write(p.postOID)
			p.flushHunk()
			return
		case bytes.HasPrefix(line, []byte("index ")):
			p.parseIndex(line)
			return
		case bytes.HasPrefix(line, []byte("--- ")):
			p.before, p.after = 1, 1
		case !isAlpha(first):
			p.done = true
			return
		}
	}
	if p.binary {
		if bytes.HasPrefix(line, []byte("diff ")) {
			p.binary = false
			p.before = -1
		}
		return
	}
	if p.before == 0 && p.after == 0 {
		if bytes.HasPrefix(line, []byte("@@ -")) {
			scanHunkHeader(line, &p.before, &p.after)
			return
		}
		if !bytes.HasPrefix(line, []byte("diff ")) {
			p.done = true
			return
		}
		p.flushHunk()
		p.before, p.after = -1, -1
	}
	if first == '-' || first == ' ' {
		p.before--
	}
	if first == '+' || first == ' ' {
		p.after--
	}
	p.buf = p.buf[:0]
	for _, c := range line {
		if !isSpace(c) {
			p.buf = append(p.buf, c)
		}
	}
	p.patchlen += len(p.buf)
	p.h.Write(p.buf)
}

// parseIndex keeps the two blob ids of an "index <a>..<b>[ <mode>]" line,
// cut as git cuts them (at most 64 characters each).
func (p *patchID) parseIndex(line []byte) {
	dots := bytes.Index(line, []byte(".."))
	if dots < 0 {
		return
	}
	end := bytes.IndexByte(line[dots:], ' ')
	if end >= 0 {
		end += dots
	} else {
		end = len(line) - 1 // git drops the last character (the newline)
	}
	pre := line[len("index "):dots]
	var post []byte
	if end >= dots+2 {
		post = line[dots+2 : end]
	}
	p.preOID = append(p.preOID[:0], truncate(pre, 64)...)
	p.postOID = append(p.postOID[:0], truncate(post, 64)...)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// sum finishes the patch and returns its id, or "" when nothing was hashed.
func (p *patchID) sum() string {
	p.flushHunk()
	if p.patchlen == 0 {
		return ""
	}
	return hex.EncodeToString(p.result[:])
}

// scanHunkHeader ports git's scan_hunk_header: it reads the line counts of
// "@@ -a[,b] +c[,d] @@" (1 when omitted) into before and after, and
// leaves them partly set on a malformed header, as git does.
func scanHunkHeader(line []byte, before, after *int) bool {
	q := line[4:]
	n := digits(q)
	if n < len(q) && q[n] == ',' {
		q = q[n+1:]
		v, m, ok := strtoi(q)
		if !ok {
			return false
		}
		*before = v
		n = m
	} else {
		*before = 1
	}
	if n == 0 || n+1 >= len(q) || q[n] != ' ' || q[n+1] != '+' {
		return false
	}
	r := q[n+2:]
	n = digits(r)
	if n < len(r) && r[n] == ',' {
		r = r[n+1:]
		v, m, ok := strtoi(r)
		if !ok {
			return false
		}
		*after = v
		n = m
	} else {
		*after = 1
	}
	return n != 0
}

func digits(b []byte) int {
	n := 0
	for n < len(b) && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	return n
}

// strtoi imitates git's strtoi_with_tail (strtol, base 10, int range):
// optional leading white space and sign, at least one digit. It returns
// the value and the number of bytes consumed.
func strtoi(b []byte) (v, n int, ok bool) {
	i := 0
	for i < len(b) && (isSpace(b[i]) || b[i] == '\v' || b[i] == '\f') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var x int64
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		x = x*10 + int64(b[i]-'0')
		if x > 1<<31 {
			return 0, 0, false // out of int range
		}
		i++
	}
	if i == start {
		return 0, 0, false
	}
	if neg {
		x = -x
	}
	if x > 1<<31-1 || x < -(1<<31) {
		return 0, 0, false
	}
	return int(x), i, true
}

// isSpace and isAlpha are git's sane_ctype classes (ASCII only; git's
// isspace does not include \v and \f).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
