package cve

import (
	"fmt"
	"strings"
)

// ParseDyad parses a .dyad file: '#' comment lines and blank lines are
// skipped; every other line must be "iv:isha:fv:fsha" where "0" means
// unknown (returned as ""), versions are non-empty tokens without white
// space and shas are 40 hex digits (returned lowercase). A bad line is a
// *RecordError with its line number and no path.
func ParseDyad(data []byte) ([]Backport, error) {
	var out []Backport
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Split(t, ":")
		if len(f) != 4 {
			return nil, &RecordError{Line: i + 1, Err: fmt.Errorf("%w: %d fields in %q, want 4", ErrBadDyad, len(f), t)}
		}
		for k, v := range f {
			ok := false
			switch {
			case v == "0":
				ok = true
				f[k] = ""
			case k%2 == 1:
				ok = isSHA(v)
				f[k] = strings.ToLower(v)
			default:
				ok = isVersion(v)
			}
			if !ok {
				return nil, &RecordError{Line: i + 1, Err: fmt.Errorf("%w: bad field %d %q in %q", ErrBadDyad, k+1, v, t)}
			}
		}
		out = append(out, Backport{IntroducedVersion: f[0], IntroducedSHA: f[1], FixedVersion: f[2], FixedSHA: f[3]})
	}
	return out, nil
}

// isVersion accepts kernel version tokens such as "6.1.75" or "6.8-rc1".
func isVersion(v string) bool {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '+' || c == '_') {
			return false
		}
	}
	return true
}

// parseAbbrevSHAList reads a .vulnerable file: one commit id per line,
// which the real repository sometimes abbreviates ("1e18ec3e9d46") or
// truncates (39 digits); 7 to 40 hex digits are kept, lowercased.
func parseAbbrevSHAList(b []byte) ([]string, error) {
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		s := strings.TrimSpace(line)
		if s == "" {
			continue
		}
		if len(s) < 7 || len(s) > 40 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
			return nil, &RecordError{Line: i + 1, Err: fmt.Errorf("%w: %q", ErrBadSHA, s)}
		}
		out = append(out, strings.ToLower(s))
	}
	return out, nil
}
