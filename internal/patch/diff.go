package patch

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// File is the change to one file in a patch.
type File struct {
	OldPath, NewPath string // "" for the missing side of a new or deleted file
	IsNew, IsDelete  bool
	IsRename, IsCopy bool
	IsBinary         bool
	OldMode, NewMode uint32 // git modes such as 0o100644; 0 when not given
	OldOID, NewOID   string // abbreviated blob ids from the "index" line
	Added, Removed   int
	Hunks            []Hunk
	// Damaged is set when the hunks could not be parsed (a patch
	// mangled by a mail client, or hand-edited with wrong line counts):
	// the File then holds only what its header says.
	Damaged bool
}

// Path is the file's name after the change, or before it for a deletion.
func (f *File) Path() string {
	if f.NewPath != "" {
		return f.NewPath
	}
	return f.OldPath
}

// Hunk is one "@@ -a,b +c,d @@ header" section of a file's diff. Lines
// are kept without their leading operator and trailing newline.
type Hunk struct {
	Header                                 string // the function name git writes after the second @@
	OldStart, OldLines, NewStart, NewLines int
	Added, Removed, Context                []string
}

// Patch is one patch found in a text: the diff of a mail, or one of the
// mails of `git format-patch --stdout` output.
type Patch struct {
	Files []File
	// PatchID is `git patch-id --stable` of the patch, "" for a plain
	// unified diff that git patch-id ignores (one without "diff " lines).
	PatchID string
	// Commit is the object id of a "From <id>" or "commit <id>" line
	// that introduced the patch, "" when none did.
	Commit         string
	Added, Removed int
	// Diffstat is git's --stat summary line without its leading space,
	// e.g. "2 files changed, 10 insertions(+), 1 deletion(-)".
	Diffstat string
	// Start and End delimit the diff in the text given to ParsePatches
	// (after CRLF normalisation); text before Start is the commit
	// message, diffstat and the like.
	Start, End int
}

// ParseError reports a diff that go-gitdiff could not fully parse. The
// patch it belongs to is still returned, with the files parsed before
// the error.
type ParseError struct {
	Offset int // byte offset of the patch in the normalised text
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("patch: diff at offset %d: %v", e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParsePatches finds every patch in a mail body or attachment: the diff
// of a `git format-patch` mail (commit message, "---", diffstat, diff,
// "-- " signature), several patches in one text (`git format-patch
// --stdout`, pull requests), `git diff` output and plain `diff -u`
// patches. Patches are split where `git patch-id` splits them, so each
// git-style patch carries its patch-id. CRLF line ends are normalised
// first. It returns nil, nil when there is no patch. A non-nil error
// (wrapping *ParseError values) reports diffs that were only partly
// understood; the patches returned alongside it are still usable.
func ParsePatches(text string) ([]Patch, error) {
	text = normalizeNewlines(text)
	if !mayHoldDiff(text) {
		return nil, nil
	}
	var (
		out  []Patch
		errs []error
	)
	add := func(seg string, start int, id, commit string) {
		var files []File
		for _, c := range fileChunks(seg) {
			fs, err := parseFiles(seg[c[0]:c[1]])
			if err != nil {
				errs = append(errs, &ParseError{Offset: start + c[0], Err: err})
				if len(fs) == 0 {
					// Keep what the file header says (names, modes)
					// when the hunks are damaged.
					if f, ok := headerOnly(seg[c[0]:c[1]]); ok {
						fs = append(fs, f)
					}
				}
			}
			files = append(files, fs...)
		}
		if len(files) == 0 {
			return
		}
		p := Patch{Files: files, PatchID: id, Start: start, End: start + len(seg)}
		if commit != ZeroCommit {
			p.Commit = commit
		}
		for i := range files {
			p.Added += files[i].Added
			p.Removed += files[i].Removed
		}
		p.Diffstat = Diffstat(len(files), p.Added, p.Removed)
		out = append(out, p)
	}

	prev := 0
	for _, r := range PatchIDs(text) {
		for _, t := range traditionalDiffs(text, prev, r.Start) {
			add(text[t[0]:t[1]], t[0], "", ZeroCommit)
		}
		add(text[r.Start:r.End], r.Start, r.PatchID, r.Commit)
		prev = r.End
	}
	for _, t := range traditionalDiffs(text, prev, len(text)) {
		add(text[t[0]:t[1]], t[0], "", ZeroCommit)
	}
	return out, errors.Join(errs...)
}

// Diffstat formats git's diffstat summary line (print_stat_summary)
// without the leading space.
func Diffstat(files, added, removed int) string {
	if files == 0 {
		return "0 files changed"
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(files))
	if files == 1 {
		b.WriteString(" file changed")
	} else {
		b.WriteString(" files changed")
	}
	if added != 0 || removed == 0 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(added))
		if added == 1 {
			b.WriteString(" insertion(+)")
		} else {
			b.WriteString(" insertions(+)")
		}
	}
	if removed != 0 || added == 0 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(removed))
		if removed == 1 {
			b.WriteString(" deletion(-)")
		} else {
			b.WriteString(" deletions(-)")
		}
	}
	return b.String()
}

func normalizeNewlines(s string) string {
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return s
}

// mayHoldDiff is a cheap test for a line starting "diff " or "--- ",
// the start of anything ParsePatches can find.
func mayHoldDiff(s string) bool {
	return strings.HasPrefix(s, "diff ") || strings.HasPrefix(s, "--- ") ||
		strings.Contains(s, "\ndiff ") || strings.Contains(s, "\n--- ")
}

// traditionalDiffs finds plain unified diffs in s[from:to]: a "--- "
// line followed by a "+++ " line and a "@@ -" hunk header. Consecutive
// file diffs form one range; any other text ends it.
func traditionalDiffs(s string, from, to int) [][2]int {
	region := s[from:to]
	if !strings.Contains(region, "\n+++ ") {
		return nil
	}
	var out [][2]int
	pos := 0
	for pos < len(region) {
		i := strings.Index(region[pos:], "--- ")
		if i < 0 {
			break
		}
		i += pos
		if i > 0 && region[i-1] != '\n' {
			pos = i + 4
			continue
		}
		l1 := lineEnd(region, i)
		l2 := lineEnd(region, l1)
		if !strings.HasPrefix(region[l1:], "+++ ") || !strings.HasPrefix(region[l2:], "@@ -") {
			pos = l1
			continue
		}
		end := unifiedEnd(region, l2)
		out = append(out, [2]int{from + i, from + end})
		pos = end
	}
	return out
}

// unifiedEnd returns where the run of unified-diff lines that starts
// with the hunk header at i ends, following hunk line counts and further
// "---"/"+++" file headers.
func unifiedEnd(s string, i int) int {
	for i < len(s) {
		line := s[i:lineEnd(s, i)]
		switch {
		case strings.HasPrefix(line, "@@ -"):
			var before, after int32
			if !scanHunkHeader(line, &before, &after) {
				return i
			}
			i += len(line)
			for i < len(s) && (before > 0 || after > 0) {
				l := s[i:lineEnd(s, i)]
				switch {
				case l == "\n" || strings.HasPrefix(l, " "):
					before--
					after--
				case strings.HasPrefix(l, "-"):
					before--
				case strings.HasPrefix(l, "+"):
					after--
				case strings.HasPrefix(l, "\\"):
				default:
					return i
				}
				i += len(l)
			}
			if i < len(s) && strings.HasPrefix(s[i:], "\\ ") {
				i = lineEnd(s, i)
			}
		case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "),
			strings.HasPrefix(line, "diff "), strings.HasPrefix(line, "Index: "),
			strings.HasPrefix(line, "====="), strings.HasPrefix(line, "Only in "):
			i += len(line)
		default:
			return i
		}
	}
	return i
}

func lineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// fileChunks splits a patch at its "diff " lines, so that a damaged
// file does not hide the files after it. Text without "diff " lines
// (a plain unified diff) is one chunk.
func fileChunks(seg string) [][2]int {
	var out [][2]int
	start := 0
	for i := 0; i < len(seg); i = lineEnd(seg, i) {
		if i > start && strings.HasPrefix(seg[i:], "diff ") {
			out = append(out, [2]int{start, i})
			start = i
		}
	}
	return append(out, [2]int{start, len(seg)})
}

// headerOnly parses the header of a file diff whose hunks go-gitdiff
// rejected; the file is marked Damaged.
func headerOnly(chunk string) (File, bool) {
	end := len(chunk)
	for i := 0; i < len(chunk); i = lineEnd(chunk, i) {
		if strings.HasPrefix(chunk[i:], "@@ ") || strings.HasPrefix(chunk[i:], "GIT binary patch") {
			end = i
			break
		}
	}
	head := chunk[:end]
	if strings.HasPrefix(head, "diff ") && !strings.HasPrefix(head, "diff --git ") {
		return File{}, false
	}
	fs, err := parseFiles(head)
	if err != nil || len(fs) != 1 {
		return File{}, false
	}
	fs[0].Damaged = true
	return fs[0], true
}

// parseFiles runs go-gitdiff over one patch's text and converts its
// files. A panic in the parser is turned into an error: the input is
// untrusted mail.
func parseFiles(seg string) (files []File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("go-gitdiff panic: %v", r)
		}
	}()
	gfs, _, err := gitdiff.Parse(&lineReader{s: seg})
	traditional := !strings.HasPrefix(seg, "diff --git ")
	files = make([]File, 0, len(gfs))
	for _, gf := range gfs {
		files = append(files, convertFile(gf, traditional))
	}
	return files, err
}

// lineReader hands go-gitdiff the lines of a string without copying
// them (it implements the ReadString method go-gitdiff looks for).
type lineReader struct{ s string }

func (r *lineReader) ReadString(delim byte) (string, error) {
	if r.s == "" {
		return "", io.EOF
	}
	i := strings.IndexByte(r.s, delim)
	if i < 0 {
		line := r.s
		r.s = ""
		return line, io.EOF
	}
	line := r.s[:i+1]
	r.s = r.s[i+1:]
	return line, nil
}

// Read makes lineReader an io.Reader, which gitdiff.Parse takes.
func (r *lineReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// stripComponent drops the first directory of both names of a
// traditional diff ("a/fs/x.c", "b/fs/x.c"; "linux-6.1/fs/x.c"), as
// `patch -p1` does, when every name has one; /dev/null stays.
func stripComponent(old, new string) (string, string) {
	for _, n := range []string{old, new} {
		if n != "" && n != "/dev/null" && !strings.Contains(strings.TrimPrefix(n, "/"), "/") {
			return old, new
		}
	}
	strip := func(n string) string {
		if n == "" || n == "/dev/null" {
			return n
		}
		_, rest, _ := strings.Cut(strings.TrimPrefix(n, "/"), "/")
		return rest
	}
	return strip(old), strip(new)
}

func convertFile(gf *gitdiff.File, traditional bool) File {
	if traditional {
		gf.OldName, gf.NewName = stripComponent(gf.OldName, gf.NewName)
	}
	f := File{
		OldPath:  gf.OldName,
		NewPath:  gf.NewName,
		IsNew:    gf.IsNew,
		IsDelete: gf.IsDelete,
		IsRename: gf.IsRename,
		IsCopy:   gf.IsCopy,
		IsBinary: gf.IsBinary,
		OldMode:  uint32(gf.OldMode),
		NewMode:  uint32(gf.NewMode),
		OldOID:   gf.OldOIDPrefix,
		NewOID:   gf.NewOIDPrefix,
	}
	if f.NewMode == 0 && f.OldMode != 0 && !f.IsDelete {
		f.NewMode = f.OldMode // the mode on the "index" line is both sides'
	}
	if len(gf.TextFragments) > 0 {
		f.Hunks = make([]Hunk, 0, len(gf.TextFragments))
	}
	for _, frag := range gf.TextFragments {
		h := Hunk{
			Header:   frag.Comment,
			OldStart: int(frag.OldPosition),
			OldLines: int(frag.OldLines),
			NewStart: int(frag.NewPosition),
			NewLines: int(frag.NewLines),
		}
		if frag.LinesAdded > 0 {
			h.Added = make([]string, 0, frag.LinesAdded)
		}
		if frag.LinesDeleted > 0 {
			h.Removed = make([]string, 0, frag.LinesDeleted)
		}
		if n := len(frag.Lines) - int(frag.LinesAdded+frag.LinesDeleted); n > 0 {
			h.Context = make([]string, 0, n)
		}
		for _, l := range frag.Lines {
			text := strings.TrimSuffix(l.Line, "\n")
			switch l.Op {
			case gitdiff.OpAdd:
				h.Added = append(h.Added, text)
			case gitdiff.OpDelete:
				h.Removed = append(h.Removed, text)
			default:
				h.Context = append(h.Context, text)
			}
		}
		f.Added += len(h.Added)
		f.Removed += len(h.Removed)
		f.Hunks = append(f.Hunks, h)
	}
	return f
}
