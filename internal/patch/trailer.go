package patch

import (
	"strings"
)

// Trailer is one "Key: value" line of a commit message's trailer block,
// with the parts patchtrail uses pulled out of the value.
type Trailer struct {
	Key   string // as written, e.g. "Reviewed-by"; see KeyLower and Is
	Value string // the value, continuation lines unfolded

	// Person trailers (*-by, Cc, To).
	Name, Email string
	// Fixes: <sha> ("title"); base-commit: <sha>.
	SHA, Title string
	// Link:, Closes:, Message-ID: the URL as written and the Message-ID
	// it names (lore.kernel.org/r/<id>, patch.msgid.link/<id>,
	// lore.kernel.org/<list>/<id>/T/#u, ...), URL-unescaped, no <>.
	URL, MessageID string
	// Comment is what follows '#' after a person or link, e.g. "5.10+"
	// in "Cc: stable@vger.kernel.org # 5.10+".
	Comment string
}

// KeyLower is the key lowercased, for matching.
func (t *Trailer) KeyLower() string { return strings.ToLower(t.Key) }

// Is reports whether the trailer's key is key, ignoring case.
func (t *Trailer) Is(key string) bool { return strings.EqualFold(t.Key, key) }

// IsPerson reports whether the trailer names a person: a "*-by" key,
// Cc or To.
func (t *Trailer) IsPerson() bool { return isPersonKey(t.Key) }

func isPersonKey(key string) bool {
	return len(key) > 3 && strings.EqualFold(key[len(key)-3:], "-by") ||
		strings.EqualFold(key, "cc") || strings.EqualFold(key, "to")
}

// NewTrailer builds a Trailer from a key and value, parsing the value
// according to the key.
func NewTrailer(key, value string) Trailer {
	t := Trailer{Key: key, Value: value}
	switch k := strings.ToLower(key); {
	case isPersonKey(k):
		t.Name, t.Email, t.Comment = parsePerson(value)
	case k == "fixes":
		t.SHA, t.Title = parseFixes(value)
	case k == "base-commit" || k == "prerequisite-patch-id":
		if f := strings.Fields(value); len(f) > 0 && isHexWord(f[0], 7) {
			t.SHA = strings.ToLower(f[0])
		}
	case k == "link" || k == "closes" || k == "message-id" || k == "msgid" || k == "bug":
		t.URL, t.MessageID, t.Comment = parseLink(value)
	}
	return t
}

// ParseTrailers returns the trailers of a git commit message as git
// finds them (git 2.39 trailer.c, as used by `git log
// --format=%(trailers)` and `git interpret-trailers --parse
// --no-divider`): the last paragraph, if it consists only of trailers or
// holds a git-generated one (Signed-off-by, "(cherry picked from") and
// at least 25% trailer lines; lines starting with white space continue
// the previous trailer; the first paragraph is the title and never holds
// trailers; trailing blank and '#' comment lines are ignored. Non-trailer
// lines inside the block are skipped.
func ParseTrailers(commitMessage string) []Trailer {
	return parseTrailerBlock(normalizeNewlines(commitMessage), true, false)
}

// ParseBodyTrailers is ParseTrailers for the body of a patch mail: the
// body is taken as `git am` turns it into a commit message (the Subject
// header is the title) and it ends at the first "---" line, as `git
// interpret-trailers --parse` has it. It also picks up the lines that b4
// and git format-patch put after the "---": base-commit, change-id,
// prerequisite-patch-id and prerequisite-change-id.
func ParseBodyTrailers(body string) []Trailer {
	body = normalizeNewlines(body)
	out := parseTrailerBlock(body, false, true)
	for i := patchStart(body); i < len(body); i = nextLine(body, i) {
		switch body[i] {
		case 'b', 'c', 'p':
		default:
			continue
		}
		line := body[i:nextLine(body, i)]
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "base-commit", "change-id", "prerequisite-patch-id", "prerequisite-change-id":
			out = append(out, NewTrailer(k, strings.TrimSpace(v)))
		}
	}
	return out
}

// reviewKeys are the keys FindReplyTrailers accepts, alone or joined
// with "-and-" ("Reported-and-tested-by").
var reviewKeys = map[string]bool{
	"reviewed": true, "acked": true, "tested": true, "reported": true,
	"suggested": true, "nacked": true, "co-developed": true, "signed-off": true,
	"requested": true, "debugged": true, "bisected": true, "analyzed": true,
}

func isReviewKey(key string) bool {
	if len(key) < 5 || len(key) > 40 || !strings.EqualFold(key[len(key)-3:], "-by") {
		return false
	}
	k := strings.ToLower(key)
	base, ok := strings.CutSuffix(k, "-by")
	if !ok || base == "" {
		return false
	}
	for _, part := range strings.Split(base, "-and-") {
		if !reviewKeys[part] {
			return false
		}
	}
	return true
}

// FindReplyTrailers finds the trailers a reviewer gives in a reply:
// lines such as "Reviewed-by: Name <email>" anywhere in the text, with
// review keys only (Reviewed, Acked, Tested, Reported, Suggested,
// Nacked, Co-developed, Signed-off, and "-and-" combinations such as
// Reported-and-tested-by). The value must hold an e-mail address.
// Quoted lines (starting with '>') are skipped.
func FindReplyTrailers(nonQuotedText string) []Trailer {
	var out []Trailer
	text := nonQuotedText
	for len(text) > 0 {
		i := strings.IndexByte(text, ':')
		if i < 0 {
			break
		}
		// Extend to the whole line holding the colon.
		bol := strings.LastIndexByte(text[:i], '\n') + 1
		eol := strings.IndexByte(text[i:], '\n')
		if eol < 0 {
			eol = len(text)
		} else {
			eol += i
		}
		line := text[bol:eol]
		text = text[eol:]
		if len(text) > 0 {
			text = text[1:]
		}
		line = strings.TrimLeft(line, " \t")
		if strings.HasPrefix(line, ">") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !isReviewKey(strings.TrimSpace(k)) {
			continue
		}
		v = strings.TrimSpace(v)
		if !strings.Contains(v, "@") {
			continue
		}
		out = append(out, NewTrailer(strings.TrimSpace(k), v))
	}
	return out
}

// parseTrailerBlock is git's trailer_info_get + parse_trailers. Without
// a title, msg is parsed as if it followed a title and a blank line;
// with divider, it ends at the first "---" line.
func parseTrailerBlock(msg string, hasTitle, divider bool) []Trailer {
	n := len(msg)
	if divider {
		n = patchStart(msg)
	}
	end := trailerEnd(msg, n)
	start := trailerStart(msg, end, hasTitle)
	if start >= end {
		return nil
	}
	// Join continuation lines onto the trailer they follow.
	var items []string
	last := -1
	for _, line := range splitLines(msg[start:end]) {
		if last >= 0 && len(line) > 0 && isGitSpace(line[0]) {
			items[last] += line
			continue
		}
		items = append(items, line)
		if findSeparator(line) >= 1 {
			last = len(items) - 1
		} else {
			last = -1
		}
	}
	var out []Trailer
	for _, it := range items {
		if strings.HasPrefix(it, "#") {
			continue
		}
		sep := findSeparator(it)
		if sep < 1 {
			continue
		}
		key := strings.TrimSpace(it[:sep])
		val := unfold(it[sep+1:])
		out = append(out, NewTrailer(key, val))
	}
	return out
}

// splitLines splits s into lines that keep their newline.
func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// unfold is git's unfold_value: newlines and the white space after them
// become one space; the result is trimmed.
func unfold(v string) string {
	if !strings.Contains(v, "\n") {
		return strings.TrimSpace(v)
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\n' {
			for i+1 < len(v) && isGitSpace(v[i+1]) {
				i++
			}
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// patchStart is git's find_patch_start: the first line starting "---"
// followed by white space.
func patchStart(s string) int {
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "---") && i+3 < len(s) && isGitSpace(s[i+3]) {
			return i
		}
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return len(s)
}

const cutLine = "# ------------------------ >8 ------------------------\n"

// trailerEnd is git's find_trailer_end: n minus the trailing blank and
// comment lines (and an old "Conflicts:" block, or a scissors line and
// everything after it).
func trailerEnd(s string, n int) int {
	cutoff := n
	if strings.HasPrefix(s, cutLine) {
		cutoff = 0
	} else if i := strings.Index(s, "\n"+cutLine); i >= 0 && i+1 < cutoff {
		cutoff = i + 1
	}
	boc := -1 // git uses 0 for "unset", the same but for all-blank text
	inConflicts := false
	for bol := 0; bol < cutoff; {
		next := strings.IndexByte(s[bol:n], '\n')
		if next < 0 {
			next = n
		} else {
			next += bol + 1
		}
		switch {
		case s[bol] == '#' || s[bol] == '\n':
			if boc < 0 {
				boc = bol
			}
		case strings.HasPrefix(s[bol:], "Conflicts:\n"):
			inConflicts = true
			if boc < 0 {
				boc = bol
			}
		case inConflicts && s[bol] == '\t':
		case boc >= 0:
			boc = -1
			inConflicts = false
		}
		bol = next
	}
	if boc >= 0 {
		return boc
	}
	return cutoff
}

// gitGeneratedPrefixes are trailers git itself writes; one of them makes
// a block with up to 75% other lines count as trailers.
var gitGeneratedPrefixes = []string{"Signed-off-by: ", "(cherry picked from commit "}

// trailerStart is git's find_trailer_start over s[:n]; it returns n when
// there is no trailer block. Without a title, s is taken to follow a
// title and a blank line.
func trailerStart(s string, n int, hasTitle bool) int {
	// The first paragraph is the title and cannot hold trailers.
	endOfTitle := 0
	for hasTitle && endOfTitle < n {
		if s[endOfTitle] != '#' && isBlankLine(s[endOfTitle:]) {
			break
		}
		endOfTitle = nextLine(s, endOfTitle)
	}
	if endOfTitle > n {
		endOfTitle = n
	}

	onlySpaces := true
	recognized := false
	trailerLines, nonTrailerLines, possibleContinuation := 0, 0, 0
	for l := lastLine(s, n); l >= endOfTitle; l = lastLine(s, l) {
		bol := s[l:]
		if strings.HasPrefix(bol, "#") {
			nonTrailerLines += possibleContinuation
			possibleContinuation = 0
			continue
		}
		if isBlankLine(bol) {
			if onlySpaces {
				continue
			}
			nonTrailerLines += possibleContinuation
			if recognized && trailerLines*3 >= nonTrailerLines ||
				trailerLines > 0 && nonTrailerLines == 0 {
				return nextLine(s, l)
			}
			return n
		}
		onlySpaces = false

		generated := false
		for _, p := range gitGeneratedPrefixes {
			if strings.HasPrefix(bol, p) {
				generated = true
				break
			}
		}
		if generated {
			trailerLines++
			possibleContinuation = 0
			recognized = true
			continue
		}
		if sep := findSeparator(bol); sep >= 1 && !isGitSpace(bol[0]) {
			trailerLines++
			possibleContinuation = 0
		} else if isGitSpace(bol[0]) {
			possibleContinuation++
		} else {
			nonTrailerLines++
			nonTrailerLines += possibleContinuation
			possibleContinuation = 0
		}
	}
	if !hasTitle && !onlySpaces {
		// The blank line after the (absent) title.
		nonTrailerLines += possibleContinuation
		if recognized && trailerLines*3 >= nonTrailerLines ||
			trailerLines > 0 && nonTrailerLines == 0 {
			return 0
		}
	}
	return n
}

// lastLine is git's last_line: the start of the line before position n
// (the last byte before n is part of that line even if it is '\n').
func lastLine(s string, n int) int {
	if n == 0 {
		return -1
	}
	if n == 1 {
		return 0
	}
	if i := strings.LastIndexByte(s[:n-1], '\n'); i >= 0 {
		return i + 1
	}
	return 0
}

func nextLine(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// isBlankLine reports whether the line starting s holds only white
// space.
func isBlankLine(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return true
		}
		if !isGitSpace(s[i]) {
			return false
		}
	}
	return true
}

// findSeparator is git's find_separator with the default separator ':':
// the position of ':' after a token of letters, digits and '-' and
// optional white space, or -1.
func findSeparator(line string) int {
	whitespace := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == ':' {
			return i
		}
		if c == 0 {
			break
		}
		if !whitespace && (isAlnum(c) || c == '-') {
			continue
		}
		if i != 0 && (c == ' ' || c == '\t') {
			whitespace = true
			continue
		}
		break
	}
	return -1
}

func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }

func isHexWord(s string, min int) bool {
	if len(s) < min || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}
