package patch

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

// ErrNoPatch is returned by PatchID when the text holds nothing that
// `git patch-id` would hash.
var ErrNoPatch = errors.New("patch: no patch found")

// ZeroCommit is the commit id git patch-id prints for a patch that no
// "commit <id>" or "From <id>" line introduced.
const ZeroCommit = "0000000000000000000000000000000000000000"

// PatchIDResult is one line of `git patch-id --stable` output together
// with the part of the input it covers.
type PatchIDResult struct {
	PatchID string // 40 lowercase hex digits
	Commit  string // the object id that introduced the patch, or ZeroCommit
	// Start and End delimit the hashed lines in the input: Start is the
	// first "diff " line, End the end of the last line read while
	// computing this id (the line that ended the patch included).
	Start, End int
}

// PatchID returns the `git patch-id --stable` id of the first patch in
// diffText, or ErrNoPatch.
func PatchID(diffText string) (string, error) {
	var s pidScanner
	s.init(diffText)
	for !s.eof() {
		if r, ok := s.next(); ok {
			return r.PatchID, nil
		}
	}
	return "", ErrNoPatch
}

// PatchIDs returns what `git patch-id --stable` prints for text, one
// result per patch, in input order. Like git it accepts any mix of
// mails, `git log -p` and `git format-patch` output: a line that starts
// with a full object id (possibly after "commit " or "From ") begins the
// next patch and names its commit.
func PatchIDs(text string) []PatchIDResult {
	var s pidScanner
	s.init(text)
	var out []PatchIDResult
	for !s.eof() {
		if r, ok := s.next(); ok {
			out = append(out, r)
		}
	}
	return out
}

// pidScanner is a line-by-line port of get_one_patchid() and
// generate_id_list() in git's builtin/patch-id.c (unchanged in behaviour
// from git 2.39 to 2.5x), stable mode. Quirks kept on purpose:
//   - lines are C strings: everything after a NUL byte is ignored;
//   - "whitespace" is git's sane ctype: space, \t, \n, \r (not \v, \f);
//   - a line starting "\ " longer than 12 bytes (the "\ No newline"
//     marker) is skipped wherever it appears;
//   - header lines of a file (mode, rename, similarity...) are hashed,
//     "index" lines are not, except that a binary file hashes the two
//     blob ids of its index line instead of its data;
//   - the per-file sums are flushed only where git flushes them, so
//     header-only diffs share a sum with the following file.
type pidScanner struct {
	s   string
	pos int
	oid string // commit of the patch being read (generate_id_list's oid)
	// preOID and postOID are git's pre_oid_str/post_oid_str; git leaves
	// them uninitialised and never resets them, so they carry over.
	preOID, postOID string
	h               hash.Hash
	buf             []byte
	sum             [20]byte
}

func (sc *pidScanner) init(s string) {
	sc.s = s
	sc.pos = 0
	sc.oid = ZeroCommit
	sc.h = sha1.New()
}

func (sc *pidScanner) eof() bool { return sc.pos >= len(sc.s) }

// readLine returns the next line including its newline, as git's
// strbuf_getwholeline does, and the same line cut at its first NUL.
func (sc *pidScanner) readLine() (line string) {
	rest := sc.s[sc.pos:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		line = rest[:i+1]
	} else {
		line = rest
	}
	sc.pos += len(line)
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	return line
}

// next runs one get_one_patchid() and reports whether git would print a
// line for it.
func (sc *pidScanner) next() (PatchIDResult, bool) {
	r, n := sc.one()
	oid := sc.oid
	sc.oid = n
	if r.End < 0 {
		return PatchIDResult{}, false
	}
	r.Commit = oid
	return r, true
}

func (sc *pidScanner) flush() {
	var h [20]byte
	sc.h.Sum(h[:0])
	sc.h.Reset()
	var carry uint16
	for i := range sc.sum {
		carry += uint16(sc.sum[i]) + uint16(h[i])
		sc.sum[i] = byte(carry)
		carry >>= 8
	}
}

// one is get_one_patchid(). It returns the result (End < 0 when nothing
// was hashed) and the commit id of the next patch (ZeroCommit if none).
func (sc *pidScanner) one() (PatchIDResult, string) {
	sc.h.Reset()
	sc.sum = [20]byte{}
	patchlen := 0
	var before, after int32 = -1, -1
	binary := false
	start := -1
	next := ZeroCommit

	end := -1 // where the patch stopped, if it stopped before the input did
	for !sc.eof() {
		lineStart := sc.pos
		line := sc.readLine()
		p := line
		if rest, ok := strings.CutPrefix(line, "commit "); ok {
			p = rest
		} else if rest, ok := strings.CutPrefix(line, "From "); ok {
			p = rest
		} else if strings.HasPrefix(line, "\\ ") && len(line) > 12 {
			continue
		}
		if isOIDHex(p) {
			next = strings.ToLower(p[:40])
			end = lineStart
			break
		}

		// Ignore commit comments.
		if patchlen == 0 && !strings.HasPrefix(line, "diff ") {
			continue
		}
		if start < 0 {
			start = lineStart
		}

		// Parsing the diff header?
		if before == -1 {
			if strings.HasPrefix(line, "GIT binary patch") || strings.HasPrefix(line, "Binary files") {
				binary = true
				before = 0
				sc.h.Write([]byte(sc.preOID))
				sc.h.Write([]byte(sc.postOID))
				sc.flush()
				continue
			} else if strings.HasPrefix(line, "index ") {
				sc.indexLine(line)
				continue
			} else if strings.HasPrefix(line, "--- ") {
				before, after = 1, 1
			} else if len(line) == 0 || !isAlpha(line[0]) {
				end = lineStart
				break
			}
		}

		if binary {
			if strings.HasPrefix(line, "diff ") {
				binary = false
				before = -1
			}
			continue
		}

		// Looking for a valid hunk header?
		if before == 0 && after == 0 {
			if strings.HasPrefix(line, "@@ -") {
				scanHunkHeader(line, &before, &after)
				continue
			}
			// Split at the end of the patch.
			if !strings.HasPrefix(line, "diff ") {
				end = lineStart
				break
			}
			// Else we are parsing another header.
			sc.flush()
			before, after = -1, -1
		}

		// Inside a hunk.
		if len(line) > 0 {
			switch line[0] {
			case '-':
				before--
			case '+':
				after--
			case ' ':
				before--
				after--
			}
		}

		sc.buf = appendNoSpace(sc.buf[:0], line)
		patchlen += len(sc.buf)
		sc.h.Write(sc.buf)
	}
	sc.flush()

	if patchlen == 0 {
		return PatchIDResult{End: -1}, next
	}
	if end < 0 {
		end = len(sc.s)
	}
	return PatchIDResult{PatchID: hex.EncodeToString(sc.sum[:]), Start: start, End: end}, next
}

// indexLine records the blob ids of an "index <a>..<b> [mode]" line the
// way git does (up to 64 characters each).
func (sc *pidScanner) indexLine(line string) {
	dots := strings.Index(line, "..")
	if dots < 0 {
		return
	}
	end := strings.IndexByte(line[dots:], ' ')
	if end >= 0 {
		end += dots
	} else {
		end = len(line) - 1
	}
	pre := line[len("index "):dots]
	post := ""
	if end > dots+2 {
		post = line[dots+2 : end]
	}
	sc.preOID = truncate(pre, 64)
	sc.postOID = truncate(post, 64)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// scanHunkHeader is git's scan_hunk_header(), including its habit of
// setting the counts before validating the rest of the line.
func scanHunkHeader(line string, before, after *int32) bool {
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	q := 4
	n := spanDigits(line, q)
	if at(q+n) == ',' {
		q += n + 1
		*before = atoi(line[q:])
		n = spanDigits(line, q)
	} else {
		*before = 1
	}
	if n == 0 || at(q+n) != ' ' || at(q+n+1) != '+' {
		return false
	}
	r := q + n + 2
	n = spanDigits(line, r)
	if at(r+n) == ',' {
		r += n + 1
		*after = atoi(line[r:])
		n = spanDigits(line, r)
	} else {
		*after = 1
	}
	return n != 0
}

func spanDigits(s string, from int) int {
	n := 0
	for from+n < len(s) && s[from+n] >= '0' && s[from+n] <= '9' {
		n++
	}
	return n
}

// atoi is C's atoi on an LP64 system: strtol (leading C-locale space,
// optional sign, saturating at the long range) truncated to int.
func atoi(s string) int32 {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	const limit = uint64(1) << 63
	var v uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v <= limit {
			v = v*10 + uint64(s[i]-'0')
			if v > limit {
				v = limit + 1
			}
		}
	}
	var l int64
	switch {
	case neg && v >= limit:
		l = -1 << 63
	case neg:
		l = -int64(v)
	case v >= limit:
		l = 1<<63 - 1
	default:
		l = int64(v)
	}
	return int32(l)
}

// isOIDHex reports whether s starts with 40 hex digits (get_oid_hex).
func isOIDHex(s string) bool {
	if len(s) < 40 {
		return false
	}
	for i := 0; i < 40; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isAlpha and isGitSpace follow git's locale-independent sane_ctype.
func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isGitSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendNoSpace is git's remove_space().
func appendNoSpace(dst []byte, line string) []byte {
	for i := 0; i < len(line); i++ {
		if c := line[i]; !isGitSpace(c) {
			dst = append(dst, c)
		}
	}
	return dst
}
