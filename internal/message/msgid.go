package message

import (
	"net/url"
	"strings"
)

// maxIDLen is public-inbox's MAX_MID_SIZE: longer Message-IDs are dropped.
const maxIDLen = 244

// scanIDs appends to dst the ids found in <...> in v, cleaned by cleanID.
// found reports whether v had any <...> pair at all.
func scanIDs(dst []string, v string) (_ []string, found bool) {
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return dst, found
		}
		j := strings.IndexByte(v[i+1:], '>')
		if j < 0 {
			return dst, found
		}
		inner := v[i+1 : i+1+j]
		if k := strings.LastIndexByte(inner, '<'); k >= 0 {
			inner = inner[k+1:] // "<a <b@c>": the innermost pair
		}
		found = true
		if id := cleanID(inner); id != "" {
			dst = append(dst, id)
		}
		v = v[i+1+j+1:]
	}
}

// cleanID removes whitespace (folding artefacts) and any angle brackets.
func cleanID(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n', '<', '>':
			clean = false
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n', '<', '>':
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// bareIDs is the fallback for an id header without any <...>: the
// whitespace-separated tokens that contain an '@'; of an archive URL
// ("https://lore.kernel.org/list/ID/") the last path element.
func bareIDs(dst []string, v string) []string {
	for _, tok := range strings.Fields(v) {
		if i := strings.Index(tok, "://"); i >= 0 {
			tok = strings.TrimRight(tok[i+3:], "/")
			tok = tok[strings.LastIndexByte(tok, '/')+1:]
			if u, err := url.PathUnescape(tok); err == nil {
				tok = u
			}
		}
		if strings.IndexByte(tok, '@') > 0 {
			if id := cleanID(strings.Trim(tok, `"'(),;`)); id != "" {
				dst = append(dst, id)
			}
		}
	}
	return dst
}

// parseIdentity fills IDs, References and ListIDs. It needs the addresses.
func (p *parser) parseIdentity() {
	h := p.m.Header
	m := p.m

	for _, v := range h.Values("Message-ID") {
		got, found := scanIDs(nil, v)
		if !found {
			if id := cleanID(strings.Trim(strings.TrimSpace(v), `"'`)); id != "" {
				p.problem("Message-ID without angle brackets: %s", quote(v))
				got = append(got, id)
			}
		}
		for _, id := range got {
			if len(id) > maxIDLen {
				p.problem("Message-ID too long: %d bytes", len(id))
				continue
			}
			if !contains(m.IDs, id) {
				m.IDs = append(m.IDs, id)
			}
		}
	}
	if len(m.IDs) == 0 {
		p.problem("no Message-ID")
	}

	var refs []string
	for _, key := range [...]string{"References", "In-Reply-To"} {
		for _, v := range h.Values(key) {
			var found bool
			n := len(refs)
			refs, found = scanIDs(refs, v)
			if !found {
				refs = bareIDs(refs, v)
				if len(refs) > n {
					p.problem("%s without angle brackets: %s", key, quote(v))
				}
			}
		}
	}
	m.References = p.cleanReferences(refs)

	for _, v := range h.Values("List-Id") {
		got, found := scanIDs(nil, v)
		if !found {
			if f := strings.Fields(v); len(f) > 0 {
				got = append(got, cleanID(f[len(f)-1]))
			}
		}
		for _, id := range got {
			if id != "" && !contains(m.ListIDs, id) {
				m.ListIDs = append(m.ListIDs, id)
			}
		}
	}
}

// cleanReferences applies public-inbox's rules to the raw parent candidates
// (References ids, then In-Reply-To ids): drop ids that are too long, the
// message's own ids, addresses of From/To/Cc and junk, and deduplicate
// keeping the last position so that In-Reply-To stays last.
func (p *parser) cleanReferences(refs []string) []string {
	if len(refs) == 0 {
		return nil
	}
	m := p.m
	isAddr := func(id string) bool {
		for _, l := range [...][]Address{m.From, m.To, m.Cc} {
			for _, a := range l {
				if strings.EqualFold(a.Email, id) {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(refs))
	keep := make([]string, 0, len(refs))
	for i := len(refs) - 1; i >= 0; i-- { // backwards: the first seen is the last position
		id := refs[i]
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		switch {
		case len(id) > maxIDLen:
			p.problem("reference too long: %d bytes", len(id))
		case contains(m.IDs, id):
			p.problem("cyclic References: %s", quote(id))
		case len(id) < 3 || strings.IndexByte(id, '@') < 0:
			p.problem("junk reference: %s", quote(id))
		case isAddr(id):
			p.problem("reference is an address: %s", quote(id))
		default:
			keep = append(keep, id)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return keep
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
