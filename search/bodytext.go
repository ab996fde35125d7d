package search

import (
	"regexp"
	"strconv"
	"strings"
)

// AddBodyText adds one decoded text part of a message (or of an attached
// patch) to d, split the way public-inbox's SearchIdx does it:
//
//   - runs of lines starting with '>' are quoted text (q:);
//   - other runs that contain a line starting "diff ", "--- " or "+++ " are
//     read as diffs: file names go to dfn: (both "a/" and "b/" paths, first
//     path component stripped), "-" lines to dfa:, "+" lines to dfb:, " "
//     lines to dfctx:, the text after a hunk header's "@@" to dfhh:, and the
//     ids of "index a..b" lines to dfpre:/dfpost:; every other line (the
//     commit message, trailers, diffstat, "diff --git" lines) is non-quoted
//     text (nq:);
//   - the remaining runs are non-quoted text.
//
// Binary patches ("GIT binary patch") keep their literal/delta lines and
// drop the base85 payload. A "-- " line ends a diff (mail signature).
func (d *Doc) AddBodyText(text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var nq, quoted, removed, added, hunks, ctx strings.Builder
	for _, sec := range splitQuotes(text) {
		if sec.quoted {
			appendLine(&quoted, strings.TrimSuffix(sec.text, "\n"))
			continue
		}
		if !looksLikeDiff(sec.text) {
			appendLine(&nq, strings.TrimSuffix(sec.text, "\n"))
			continue
		}
		ds := diffSplitter{doc: d, nq: &nq, removed: &removed, added: &added, hunks: &hunks, ctx: &ctx}
		ds.run(strings.Split(strings.TrimSuffix(sec.text, "\n"), "\n"))
	}
	appendText(&d.NonQuoted, nq.String())
	appendText(&d.Quoted, quoted.String())
	appendText(&d.DiffRemoved, removed.String())
	appendText(&d.DiffAdded, added.String())
	appendText(&d.DiffHunkHeaders, hunks.String())
	appendText(&d.DiffContext, ctx.String())
}

func appendLine(b *strings.Builder, s string) {
	if s == "" {
		return
	}
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(s)
}

func appendText(dst *string, s string) {
	switch {
	case s == "":
	case *dst == "":
		*dst = s
	default:
		*dst += "\n" + s
	}
}

type section struct {
	text   string
	quoted bool
}

// splitQuotes is public-inbox's MsgIter::split_quotes: alternating runs of
// non-quoted lines and lines starting with '>'.
func splitQuotes(text string) []section {
	var out []section
	start := 0
	quoted := false
	for i := 0; i < len(text); {
		end := strings.IndexByte(text[i:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += i + 1
		}
		q := text[i] == '>'
		if q != quoted && i > start {
			out = append(out, section{text[start:i], quoted})
			start = i
		}
		quoted = q
		i = end
	}
	if start < len(text) {
		out = append(out, section{text[start:], quoted})
	}
	return out
}

func looksLikeDiff(s string) bool {
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, "diff ") || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ ") {
			return true
		}
	}
	return false
}

var (
	reGitDiff   = regexp.MustCompile(`^diff --git ("?[^/]+/.+) ("?[^/]+/.+)$`)
	reGitPath   = regexp.MustCompile(`^"?[^/]+/.+$`)
	reOldDiff   = regexp.MustCompile(`^diff -(.+) (\S+) (\S+)$`)
	reMinusPath = regexp.MustCompile(`^--- ("?[^/]+/.+)`)
	rePlusPath  = regexp.MustCompile(`^\+\+\+ ("?[^/]+/.+)`)
	reMinusName = regexp.MustCompile(`^--- (\S+)`)
	rePlusName  = regexp.MustCompile(`^\+\+\+ (\S+)`)
	reIndex     = regexp.MustCompile(`^index ([a-f0-9]+)\.\.([a-f0-9]+)`)
	reHunk      = regexp.MustCompile(`^@@ \S+ \S+ @@\s*(\S.*)?$`)
	reBase85    = regexp.MustCompile("^[a-zA-Z0-9!#$%&()*+\\-;<=>?@^_`{|}~]+$")
	reIgnored   = regexp.MustCompile(`^(?:(?:dis)?similarity index|(?:old|new) mode|(?:deleted|new) file mode|(?:copy|rename) (?:from|to) |\\ No newline at end of file|Binary files .* differ)`)
)

// diffSplitter is public-inbox's SearchIdx::index_diff.
type diffSplitter struct {
	doc                            *Doc
	nq, removed, added, hunks, ctx *strings.Builder
	seen                           map[string]bool
	inDiff                         bool
	oldName                        string // "--- name" of a traditional diff, awaiting "+++"
	haveOld                        bool
}

func (s *diffSplitter) fileName(name string) {
	if s.seen == nil {
		s.seen = make(map[string]bool)
	}
	if name == "" || s.seen[name] {
		return
	}
	s.seen[name] = true
	s.doc.DiffFileNames = append(s.doc.DiffFileNames, name)
}

// gitPath unquotes a git path ("a/x" or "\"a/x\\ty\"") and strips its first
// component ("a/").
func gitPath(p string) string {
	if strings.HasPrefix(p, `"`) {
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		}
	}
	_, rest, ok := strings.Cut(p, "/")
	if !ok {
		return ""
	}
	return rest
}

// oldDiffName handles traditional "diff -u a b" names: strip leading
// components until both paths agree (index_old_diff_fn).
func (s *diffSplitter) oldDiffName(fa, fb string) bool {
	a := strings.Split(fa, "/")
	b := strings.Split(fb, "/")
	for len(a) > 0 && len(b) > 0 {
		ja, jb := strings.Join(a, "/"), strings.Join(b, "/")
		if ja == jb {
			s.fileName(ja)
			return true
		}
		a, b = a[1:], b[1:]
	}
	return false
}

// splitGitDiffLine splits "diff --git A B" the way Perl's greedy regex does:
// at the last space that leaves a valid path on both sides.
// The caller has checked the line against reGitDiff.
func splitGitDiffLine(line string) (string, string) {
	rest := strings.TrimPrefix(line, "diff --git ")
	for i := len(rest) - 1; i > 0; i-- {
		if rest[i] != ' ' {
			continue
		}
		a, b := rest[:i], rest[i+1:]
		if reGitPath.MatchString(a) && reGitPath.MatchString(b) {
			return a, b
		}
	}
	return "", ""
}

func (s *diffSplitter) run(lines []string) {
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case s.inDiff && strings.HasPrefix(l, "GIT binary patch"):
			appendLine(s.nq, l)
			for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], "literal ") || strings.HasPrefix(lines[i+1], "delta ")) {
				i++
				appendLine(s.nq, lines[i])
				for i+1 < len(lines) && (reBase85.MatchString(lines[i+1]) || strings.TrimSpace(lines[i+1]) == "") {
					i++
				}
			}
		case s.inDiff && strings.HasPrefix(l, " "):
			appendLine(s.ctx, l[1:])
		case l == "-- ":
			s.inDiff, s.haveOld = false, false
		case strings.HasPrefix(l, "diff --git ") && reGitDiff.MatchString(l):
			appendLine(s.nq, l)
			a, b := splitGitDiffLine(l)
			s.inDiff = true
			s.fileName(gitPath(a))
			s.fileName(gitPath(b))
		case strings.HasPrefix(l, "diff -") && reOldDiff.MatchString(l):
			appendLine(s.nq, l)
			m := reOldDiff.FindStringSubmatch(l)
			if strings.ContainsAny(m[1], "uU") {
				s.inDiff = s.oldDiffName(m[2], m[3])
				s.haveOld = false
			}
		case strings.HasPrefix(l, "--- ") && reMinusPath.MatchString(l):
			s.fileName(gitPath(reMinusPath.FindStringSubmatch(l)[1]))
			s.inDiff, s.haveOld = true, false
		case strings.HasPrefix(l, "+++ ") && rePlusPath.MatchString(l):
			s.fileName(gitPath(rePlusPath.FindStringSubmatch(l)[1]))
			s.inDiff, s.haveOld = true, false
		case strings.HasPrefix(l, "--- ") && reMinusName.MatchString(l):
			s.oldName, s.haveOld = reMinusName.FindStringSubmatch(l)[1], true
			s.inDiff = true
			appendLine(s.nq, l)
		case s.haveOld && strings.HasPrefix(l, "+++ ") && rePlusName.MatchString(l):
			s.inDiff = s.oldDiffName(s.oldName, rePlusName.FindStringSubmatch(l)[1])
			s.haveOld = false
		case s.inDiff && strings.HasPrefix(l, "+"):
			appendLine(s.added, l[1:])
		case s.inDiff && strings.HasPrefix(l, "-"):
			appendLine(s.removed, l[1:])
		case strings.HasPrefix(l, "index ") && reIndex.MatchString(l):
			m := reIndex.FindStringSubmatch(l)
			s.doc.DiffPreBlobs = append(s.doc.DiffPreBlobs, m[1])
			s.doc.DiffPostBlobs = append(s.doc.DiffPostBlobs, m[2])
			s.inDiff = true
		case strings.HasPrefix(l, "@@ ") && reHunk.MatchString(l):
			if h := reHunk.FindStringSubmatch(l)[1]; h != "" {
				appendLine(s.hunks, h)
			}
		case l == "":
		case isIgnoredDiffLine(l):
			appendLine(s.nq, l)
		default:
			appendLine(s.nq, l)
			s.inDiff, s.haveOld = false, false
		}
	}
}

// isIgnoredDiffLine reports git's extended header lines, which stay in nq:
// but do not end a diff.
func isIgnoredDiffLine(l string) bool {
	switch l[0] {
	case 'd', 's', 'o', 'n', 'c', 'r', '\\', 'B':
		return reIgnored.MatchString(l)
	}
	return false
}
