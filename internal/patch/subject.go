package patch

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Subject is what the tags of a mail subject say about the message.
type Subject struct {
	Reply   bool // a reply prefix (Re:, Aw:, Sv:, Antw:, Odp:, Vs:, Réf:, ...) came first
	Forward bool // a forward prefix (Fwd:, Fw:, WG:, TR:, ...) came first
	// ListTags are the bracket tags before the patch bracket, or all of
	// them when there is no patch bracket: "[LTP] [PATCH]" gives "LTP".
	ListTags []string
	// Prefixes are the patch keywords, uppercased: "PATCH", "RFC",
	// "RESEND", "RFT", "PULL", "GIT PULL".
	Prefixes []string
	// Subsystems are the other words of the patch bracket (and of any
	// bracket after it): "net-next", "liburing", "5.10", "next".
	Subsystems []string
	Version    int  // 1 when absent; from "v3", "V3", "PATCHv3"
	Counter    int  // 2 in "2/7"; 0 when absent
	Total      int  // 7 in "2/7"; 0 when absent
	IsPatch    bool // a PATCH, RFC or PULL bracket, a counter, or a bare "PATCH" prefix
	IsCover    bool // Counter == 0 && Total > 0
	// Normalized is the subject without reply prefixes and leading
	// bracket tags (and b4's "(subset)" before them), spaces collapsed,
	// case kept.
	Normalized string
}

// NormalizedKey is Normalized lowercased, for matching versions of a
// patch with each other and with commit subjects.
func (s *Subject) NormalizedKey() string { return strings.ToLower(s.Normalized) }

// replyWords and forwardWords are the prefixes (before a colon, case
// insensitive) that mail clients put on replies and forwards.
var (
	replyWords = map[string]bool{
		"re": true, "aw": true, "sv": true, "antw": true, "odp": true,
		"vs": true, "réf": true, "ref": true, "rif": true, "res": true,
		"ynt": true, "atb": true, "vá": true, "回复": true, "答复": true,
		"回覆": true,
	}
	forwardWords = map[string]bool{
		"fwd": true, "fw": true, "wg": true, "tr": true, "rv": true,
		"enc": true, "doorst": true, "vl": true, "转发": true,
	}
)

// ParseSubject parses the tags of a mail subject. It never fails:
// unknown shapes leave the fields at their zero values (Version 1).
func ParseSubject(s string) Subject {
	sub := Subject{Version: 1}
	rest := collapseSpace(s)
	sawPatch := false
	for {
		if n, fwd, ok := replyPrefix(rest); ok {
			if fwd {
				sub.Forward = true
			} else {
				sub.Reply = true
			}
			rest = strings.TrimLeft(rest[n:], " ")
			continue
		}
		if strings.HasPrefix(rest, "(") {
			// b4's "(subset)" and the like before a bracket: dropped.
			end := strings.IndexByte(rest, ')')
			if end > 0 && end < 40 && strings.HasPrefix(strings.TrimLeft(rest[end+1:], " "), "[") {
				rest = strings.TrimLeft(rest[end+1:], " ")
				continue
			}
			break
		}
		if strings.HasPrefix(rest, "[") {
			// "}" closes too: "[PATCH RFC}" is a common typo.
			end := strings.IndexAny(rest, "]}")
			if end < 0 {
				break
			}
			inner := rest[1:end]
			if isPatchBracket(inner) {
				sub.addPatchWords(inner)
				sawPatch = true
			} else if tag := strings.TrimSpace(inner); tag != "" {
				if sawPatch {
					sub.addPatchWords(inner)
				} else {
					sub.ListTags = append(sub.ListTags, tag)
				}
			}
			rest = strings.TrimLeft(rest[end+1:], " ")
			continue
		}
		break
	}
	// A bare "PATCH", "PATCHv2" or "PATCH v2 1/3:" without brackets.
	if !sawPatch {
		if n := barePatchPrefix(rest); n > 0 {
			sub.addPatchWords(strings.TrimSuffix(rest[:n], ":"))
			rest = strings.TrimLeft(rest[n:], " ")
		}
	}
	sub.IsCover = sub.Counter == 0 && sub.Total > 0
	sub.Normalized = rest
	return sub
}

// NormalizeSubject is the subject key for same-subject thread matching:
// reply and forward prefixes stripped, whitespace collapsed, trailing
// dots dropped (as public-inbox does), lowercased. Bracket tags stay.
func NormalizeSubject(s string) string {
	s = collapseSpace(s)
	for {
		n, _, ok := replyPrefix(s)
		if !ok {
			break
		}
		s = strings.TrimLeft(s[n:], " ")
	}
	return strings.ToLower(strings.TrimRight(s, ". "))
}

// collapseSpace trims s and turns each run of white space into one
// space.
func collapseSpace(s string) string {
	prev := byte(' ')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c == ' ' && prev == ' ') {
			return strings.Join(strings.Fields(s), " ")
		}
		prev = c
	}
	return strings.TrimRight(s, " ")
}

// replyPrefix recognises "Re:", "RE :", "Re[2]:", "Re^2:", "Fwd:" and
// the like at the start of s. It returns the prefix length and whether
// it is a forward.
func replyPrefix(s string) (n int, forward bool, ok bool) {
	i := 0
	for i < len(s) && i < 12 {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == ':' || r == '[' || r == '^' || r == ' ' || r == '：' {
			break
		}
		if r < 0x80 && !isAlpha(byte(r)) {
			return 0, false, false
		}
		i += size
	}
	if i == 0 || i >= len(s) {
		return 0, false, false
	}
	word := strings.ToLower(s[:i])
	fwd := forwardWords[word]
	if !fwd && !replyWords[word] {
		return 0, false, false
	}
	j := i
	switch s[j] {
	case '[': // Re[2]:
		k := strings.IndexByte(s[j:], ']')
		if k < 0 || !allDigits(s[j+1:j+k]) {
			return 0, false, false
		}
		j += k + 1
	case '^': // Re^2:
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		j = k
	}
	if j < len(s) && s[j] == ' ' { // French "Re :"
		j++
	}
	switch {
	case strings.HasPrefix(s[j:], ":"):
		return j + 1, fwd, true
	case strings.HasPrefix(s[j:], "："): // full-width colon
		return j + len("："), fwd, true
	}
	return 0, false, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// bracketWords splits the inside of a bracket into words; commas and
// slashes between keywords ("RFC/PATCH", "PATCH,v2") separate words.
func bracketWords(inner string) []string {
	f := strings.FieldsFunc(inner, func(r rune) bool {
		return r == ' ' || r == ',' || r == '|'
	})
	out := f[:0:0]
	for _, w := range f {
		// "RFC/PATCH" but not "2/7".
		if strings.IndexByte(w, '/') > 0 && !isCounter(w) {
			parts := strings.Split(w, "/")
			allKw := true
			for _, p := range parts {
				if kw, _ := keyword(p); kw == "" {
					allKw = false
				}
			}
			if allKw {
				out = append(out, parts...)
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

// isPatchBracket reports whether a bracket holds a patch keyword ("GIT"
// only as "GIT PULL") or a counter ("[2/5]").
func isPatchBracket(inner string) bool {
	words := bracketWords(inner)
	for i, w := range words {
		if isCounter(w) {
			return true
		}
		kw, _ := keyword(w)
		if kw == "GIT" {
			if i+1 < len(words) {
				if next, _ := keyword(words[i+1]); next == "PULL" {
					return true
				}
			}
			continue
		}
		if kw != "" {
			return true
		}
	}
	return false
}

// keyword recognises a patch keyword, possibly with a version glued on
// ("PATCHv3", "RFCv2", "PATCH-v3"). It returns the canonical keyword and
// the version (0 if none).
func keyword(w string) (string, int) {
	if len(w) < 3 || len(w) > 16 {
		return "", 0
	}
	u := strings.ToUpper(w)
	switch u {
	case "PATCHES", "PATCHSET":
		return "PATCH", 0
	}
	for _, kw := range [...]string{"PATCH", "RFC", "RFT", "RESEND", "PULL", "GIT"} {
		if !strings.HasPrefix(u, kw) {
			continue
		}
		tail := u[len(kw):]
		if tail == "" {
			return kw, 0
		}
		tail = strings.TrimLeft(tail, "-_")
		if v, ok := versionWord(tail); ok {
			return kw, v
		}
	}
	return "", 0
}

// versionWord parses "v3"/"V3".
func versionWord(w string) (int, bool) {
	if len(w) < 2 || (w[0] != 'v' && w[0] != 'V') || !allDigits(w[1:]) || len(w) > 6 {
		return 0, false
	}
	v, err := strconv.Atoi(w[1:])
	return v, err == nil
}

func isCounter(w string) bool {
	i := strings.IndexByte(w, '/')
	return i > 0 && allDigits(w[:i]) && allDigits(w[i+1:]) && len(w) <= 12
}

// addPatchWords records the words of a patch bracket.
func (sub *Subject) addPatchWords(inner string) {
	words := bracketWords(inner)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if kw, v := keyword(w); kw != "" {
			switch kw {
			case "GIT":
				if i+1 < len(words) {
					if next, _ := keyword(words[i+1]); next == "PULL" {
						sub.addPrefix("GIT PULL")
						sub.IsPatch = true
						i++
						continue
					}
				}
				sub.Subsystems = append(sub.Subsystems, w)
				continue
			case "PATCH", "RFC", "PULL":
				sub.IsPatch = true
			}
			sub.addPrefix(kw)
			if v > 0 {
				sub.Version = v
			}
			continue
		}
		if v, ok := versionWord(w); ok {
			sub.Version = v
			continue
		}
		if isCounter(w) {
			slash := strings.IndexByte(w, '/')
			sub.Counter, _ = strconv.Atoi(w[:slash])
			sub.Total, _ = strconv.Atoi(w[slash+1:])
			sub.IsPatch = true
			continue
		}
		sub.Subsystems = append(sub.Subsystems, w)
	}
}

func (sub *Subject) addPrefix(p string) {
	for _, have := range sub.Prefixes {
		if have == p {
			return
		}
	}
	sub.Prefixes = append(sub.Prefixes, p)
}

// barePatchPrefix recognises an unbracketed "PATCH", "PATCHv2",
// "PATCH v2 1/3" prefix (uppercase only, followed by ':' or a space).
// It returns its length, 0 if none.
func barePatchPrefix(s string) int {
	if !strings.HasPrefix(s, "PATCH") {
		return 0
	}
	i := len("PATCH")
	for i < len(s) && s[i] != ' ' && s[i] != ':' {
		i++
	}
	if kw, _ := keyword(s[:i]); kw != "PATCH" {
		return 0
	}
	// Optional version and counter words.
	for {
		if i < len(s) && s[i] == ':' {
			return i + 1
		}
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		k := j
		for k < len(s) && s[k] != ' ' && s[k] != ':' {
			k++
		}
		w := s[j:k]
		if _, ok := versionWord(w); ok || isCounter(w) {
			i = k
			continue
		}
		if i == len(s) {
			return 0 // the whole subject is "PATCH"
		}
		return i
	}
}
