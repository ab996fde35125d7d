package patch

import (
	"net/url"
	"strings"
)

// parsePerson splits "Name <email> # comment", "<email>", "email",
// "\"Last, First\" <email> [tag]" and "Name email".
func parsePerson(v string) (name, email, comment string) {
	main := v
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		if gt := strings.IndexByte(v[lt:], '>'); gt >= 0 {
			gt += lt
			name = v[:lt]
			email = v[lt+1 : gt]
			after := v[gt+1:]
			if h := strings.IndexByte(after, '#'); h >= 0 {
				comment = strings.TrimSpace(after[h+1:])
			}
			return cleanName(name), strings.TrimSpace(email), comment
		}
	}
	if h := strings.IndexByte(v, '#'); h >= 0 {
		main, comment = v[:h], strings.TrimSpace(v[h+1:])
	}
	f := strings.Fields(main)
	if len(f) == 0 {
		return "", "", comment
	}
	if last := strings.Trim(f[len(f)-1], "<>()[],;"); strings.Contains(last, "@") {
		return cleanName(strings.Join(f[:len(f)-1], " ")), last, comment
	}
	return cleanName(strings.Join(f, " ")), "", comment
}

func cleanName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`))
	}
	return s
}

// parseFixes splits `<sha> ("subject")`, also accepting "commit <sha>",
// a missing quote pair or missing parentheses.
func parseFixes(v string) (sha, title string) {
	rest := strings.TrimSpace(v)
	if r, ok := strings.CutPrefix(rest, "commit "); ok {
		rest = strings.TrimSpace(r)
	}
	word := rest
	if i := strings.IndexAny(rest, " \t("); i >= 0 {
		word = rest[:i]
	}
	if !isHexWord(word, 4) {
		return "", rest
	}
	sha = strings.ToLower(word)
	rest = strings.TrimSpace(rest[len(word):])
	if strings.HasPrefix(rest, "(") {
		if i := strings.LastIndexByte(rest, ')'); i > 0 {
			rest = rest[1:i]
		} else {
			rest = rest[1:]
		}
		rest = strings.TrimSpace(rest)
	}
	if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
		rest = rest[1 : len(rest)-1]
	} else {
		rest = strings.Trim(rest, `"`)
	}
	return sha, strings.TrimSpace(rest)
}

// parseLink splits a Link:, Closes: or Message-ID: value into the URL
// (without <>), the Message-ID it names and a "# comment".
func parseLink(v string) (link, msgid, comment string) {
	v = strings.TrimSpace(v)
	if h := strings.Index(v, " #"); h >= 0 {
		v, comment = strings.TrimSpace(v[:h]), strings.TrimSpace(v[h+2:])
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return "", "", comment
	}
	bare := f[0]
	if len(bare) >= 2 && bare[0] == '<' && bare[len(bare)-1] == '>' {
		bare = bare[1 : len(bare)-1]
	}
	if strings.Contains(bare, "://") {
		return bare, MessageIDFromURL(bare), comment
	}
	// A bare Message-ID, with or without angle brackets.
	if strings.Contains(bare, "@") && !strings.Contains(bare, "/") {
		return "", bare, comment
	}
	return "", "", comment
}

// msgidHosts are archives whose URLs name a message by its Message-ID.
var msgidHosts = map[string]bool{
	"lore.kernel.org": true, "lkml.kernel.org": true, "patch.msgid.link": true,
	"msgid.link": true, "public-inbox.org": true, "inbox.sourceware.org": true,
	"lore.gnuweeb.org": true, "yhbt.net": true,
}

// MessageIDFromURL extracts the Message-ID from a mail archive URL:
// https://lore.kernel.org/r/<id>, https://lore.kernel.org/<list>/<id>/
// (with /T/#u, /raw, /t.mbox.gz and the like after it),
// https://patch.msgid.link/<id>, https://lkml.kernel.org/r/<id>,
// https://msgid.link/r/<id>, and for any other host the first path
// segment that holds an '@'. The id is URL-unescaped. It returns "" when
// the URL names no message.
func MessageIDFromURL(raw string) string {
	raw = strings.TrimSpace(raw)
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "<"), ">")
	scheme := strings.Index(raw, "://")
	if scheme < 0 {
		return ""
	}
	rest := raw[scheme+3:]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return ""
	}
	host := strings.ToLower(rest[:slash])
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimPrefix(host, "www.")
	path := rest[slash+1:]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	var segs []string
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	pick := ""
	for _, s := range segs {
		if strings.Contains(s, "@") || strings.Contains(s, "%40") {
			pick = s
			break
		}
	}
	if pick == "" && msgidHosts[host] && len(segs) > 0 {
		switch {
		case segs[0] == "r" && len(segs) > 1:
			pick = segs[1]
		case host == "patch.msgid.link" || host == "msgid.link":
			pick = segs[0]
		case len(segs) > 1 && !isArchivePage(segs[1]):
			pick = segs[1] // /<list>/<id>/
		}
	}
	if pick == "" {
		return ""
	}
	if u, err := url.PathUnescape(pick); err == nil {
		pick = u
	}
	return strings.TrimSuffix(strings.TrimPrefix(pick, "<"), ">")
}

// isArchivePage reports lore path segments that are pages, not ids.
func isArchivePage(s string) bool {
	switch s {
	case "", "T", "t", "raw", "new.atom", "_", "?", "t.mbox.gz", "all.mbox.gz":
		return true
	}
	return false
}
