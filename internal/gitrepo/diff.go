package gitrepo

import (
	"bytes"
	"strconv"
)

// FileChange is one file of a commit's diff against its first parent.
type FileChange struct {
	// Status is 'A' (added), 'D' (deleted), 'M' (modified, including
	// mode-only changes), 'R' (renamed) or 'C' (copied).
	Status byte
	// OldPath is the source path of a rename or copy, "" otherwise.
	OldPath string
	// Path is the file's path after the commit (before it, for a deletion).
	Path string
	// Added and Removed count the diff's + and - lines; both are 0 for a
	// binary file.
	Added, Removed int
	Binary         bool
}

// diffParser turns the diff section of one commit into FileChanges and,
// optionally, the compact diff: every + and - line of every hunk (file
// headers excluded), each ending in a newline, capped at maxDiff bytes.
type diffParser struct {
	files []FileChange
	cur   *FileChange
	// Paths seen in the current file's headers, by precedence.
	hdrOld, hdrNew    string // from the "diff --git" line
	minusPath, plusP  string // from "---" / "+++" ("" for /dev/null)
	hasMinus, hasPlus bool
	fromPath, toPath  string // from rename/copy from/to

	before, after int // lines left in the current hunk

	withDiff  bool
	maxDiff   int
	diff      []byte
	hunks     []string // hunk header contexts (Commit.HunkHeaders)
	truncated bool
}

func (d *diffParser) reset(withDiff bool, maxDiff int) {
	d.files = nil
	d.cur = nil
	d.before, d.after = 0, 0
	d.withDiff = withDiff
	d.maxDiff = maxDiff
	d.diff = nil
	d.hunks = nil
	d.truncated = false
}

// line feeds one line of the diff section, without its newline.
func (d *diffParser) line(l []byte) {
	if d.before > 0 || d.after > 0 {
		var c byte = ' ' // an empty line is a context line (diff.suppressBlankEmpty)
		if len(l) > 0 {
			c = l[0]
		}
		switch c {
		case '+':
			d.cur.Added++
			d.after--
			d.keep(l)
			return
		case '-':
			d.cur.Removed++
			d.before--
			d.keep(l)
			return
		case ' ':
			d.before--
			d.after--
			return
		case '\\':
			return
		}
		// Not a hunk line: the hunk was shorter than announced. Parse
		// the line as a header.
		d.before, d.after = 0, 0
	}
	switch {
	case bytes.HasPrefix(l, []byte("diff --git ")):
		d.finish()
		d.files = append(d.files, FileChange{Status: 'M'})
		d.cur = &d.files[len(d.files)-1]
		d.hdrOld, d.hdrNew = splitGitHeader(l[len("diff --git "):])
		d.minusPath, d.plusP, d.hasMinus, d.hasPlus = "", "", false, false
		d.fromPath, d.toPath = "", ""
	case d.cur == nil:
		// Blank lines between the message and the first file.
	case bytes.HasPrefix(l, []byte("@@ -")):
		d.before, d.after = 1, 1
		if !scanHunkHeader(l, &d.before, &d.after) {
			d.before, d.after = 0, 0
		} else if d.withDiff {
			d.hunkContext(l)
		}
	case bytes.HasPrefix(l, []byte("--- ")):
		d.minusPath, d.hasMinus = headerPath(l[4:], "a/"), true
	case bytes.HasPrefix(l, []byte("+++ ")):
		d.plusP, d.hasPlus = headerPath(l[4:], "b/"), true
	case bytes.HasPrefix(l, []byte("new file mode ")):
		d.cur.Status = 'A'
	case bytes.HasPrefix(l, []byte("deleted file mode ")):
		d.cur.Status = 'D'
	case bytes.HasPrefix(l, []byte("rename from ")):
		d.cur.Status = 'R'
		d.fromPath = unquotePath(l[len("rename from "):])
	case bytes.HasPrefix(l, []byte("rename to ")):
		d.cur.Status = 'R'
		d.toPath = unquotePath(l[len("rename to "):])
	case bytes.HasPrefix(l, []byte("copy from ")):
		d.cur.Status = 'C'
		d.fromPath = unquotePath(l[len("copy from "):])
	case bytes.HasPrefix(l, []byte("copy to ")):
		d.cur.Status = 'C'
		d.toPath = unquotePath(l[len("copy to "):])
	case bytes.HasPrefix(l, []byte("Binary files ")), bytes.HasPrefix(l, []byte("GIT binary patch")):
		d.cur.Binary = true
	}
}

// keep appends a hunk line to the compact diff while it fits.
func (d *diffParser) keep(l []byte) {
	if !d.withDiff || d.truncated {
		return
	}
	if len(d.diff)+len(l)+1 > d.maxDiff {
		d.truncated = true
		return
	}
	d.diff = append(d.diff, l...)
	d.diff = append(d.diff, '\n')
}

// hunkContext keeps the text after the closing "@@" of hunk header l
// while the diff's cap allows.
func (d *diffParser) hunkContext(l []byte) {
	i := bytes.Index(l[2:], []byte("@@"))
	if i < 0 || d.truncated {
		return
	}
	ctx := bytes.TrimSpace(l[2+i+2:])
	if len(ctx) == 0 {
		return
	}
	if len(d.diff)+len(ctx)+1 > d.maxDiff {
		d.truncated = true
		return
	}
	d.hunks = append(d.hunks, string(ctx))
}

// finish settles the paths of the current file.
func (d *diffParser) finish() {
	if d.cur == nil {
		return
	}
	oldP, newP := d.hdrOld, d.hdrNew
	if d.hasMinus && d.minusPath != "" {
		oldP = d.minusPath
	}
	if d.hasPlus && d.plusP != "" {
		newP = d.plusP
	}
	if d.fromPath != "" {
		oldP = d.fromPath
	}
	if d.toPath != "" {
		newP = d.toPath
	}
	switch d.cur.Status {
	case 'R', 'C':
		d.cur.OldPath, d.cur.Path = oldP, newP
	case 'D':
		d.cur.Path = oldP
	default:
		d.cur.Path = newP
	}
	d.cur = nil
}

// result finishes the commit's diff and returns its files.
func (d *diffParser) result() []FileChange {
	d.finish()
	return d.files
}

// headerPath reads the path of a "--- " or "+++ " line: "" for /dev/null,
// unquoted, prefix stripped, and without the tab git appends to names
// that contain a space.
func headerPath(b []byte, prefix string) string {
	if bytes.Equal(b, []byte("/dev/null")) {
		return ""
	}
	if len(b) > 0 && b[0] == '"' {
		s, _, ok := unquoteC(b)
		if ok {
			return trimPrefix(s, prefix)
		}
	}
	b = bytes.TrimSuffix(b, []byte("\t"))
	return trimPrefix(string(b), prefix)
}

// splitGitHeader splits the names of a "diff --git a/X b/Y" line. It is
// exact when a name is quoted or both names are equal; for an unquoted
// rename with spaces the rename lines that follow give the real names.
func splitGitHeader(b []byte) (oldP, newP string) {
	if len(b) > 0 && b[0] == '"' {
		a, n, ok := unquoteC(b)
		if ok {
			rest := bytes.TrimPrefix(b[n:], []byte(" "))
			return trimPrefix(a, "a/"), headerPath(rest, "b/")
		}
	}
	// Equal names: "a/" + P + " b/" + P.
	if len(b) >= 5 && (len(b)-5)%2 == 0 {
		n := (len(b) - 5) / 2
		if bytes.HasPrefix(b, []byte("a/")) && string(b[2+n:5+n]) == " b/" && bytes.Equal(b[2:2+n], b[5+n:]) {
			p := string(b[2 : 2+n])
			return p, p
		}
	}
	if i := bytes.Index(b, []byte(" b/")); i >= 0 {
		return trimPrefix(string(b[:i]), "a/"), headerPath(b[i+1:], "b/")
	}
	if i := bytes.Index(b, []byte(` "b/`)); i >= 0 {
		return trimPrefix(string(b[:i]), "a/"), headerPath(b[i+1:], "b/")
	}
	return string(b), string(b)
}

func trimPrefix(s, prefix string) string {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

// unquotePath reads a path of a rename/copy line, quoted or not.
func unquotePath(b []byte) string {
	if len(b) > 0 && b[0] == '"' {
		if s, _, ok := unquoteC(b); ok {
			return s
		}
	}
	return string(b)
}

// unquoteC decodes a C-style quoted string as git writes it (quote_c_style:
// \a \b \t \n \v \f \r \" \\ and three-digit octal escapes) from the start
// of b, returning the string and the number of bytes consumed.
func unquoteC(b []byte) (string, int, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", 0, false
	}
	out := make([]byte, 0, len(b))
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch c {
		case '"':
			return string(out), i + 1, true
		case '\\':
			i++
			if i >= len(b) {
				return "", 0, false
			}
			switch e := b[i]; e {
			case 'a':
				out = append(out, '\a')
			case 'b':
				out = append(out, '\b')
			case 't':
				out = append(out, '\t')
			case 'n':
				out = append(out, '\n')
			case 'v':
				out = append(out, '\v')
			case 'f':
				out = append(out, '\f')
			case 'r':
				out = append(out, '\r')
			case '"', '\\':
				out = append(out, e)
			case '0', '1', '2', '3':
				if i+2 >= len(b) {
					return "", 0, false
				}
				v, err := strconv.ParseUint(string(b[i:i+3]), 8, 8)
				if err != nil {
					return "", 0, false
				}
				out = append(out, byte(v))
				i += 2
			default:
				return "", 0, false
			}
		default:
			out = append(out, c)
		}
	}
	return "", 0, false
}

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

// isSpace is git's sane_ctype space class (ASCII only; git's
// isspace does not include \v and \f).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
