package gitrepo

import (
	"regexp"
	"strings"
)

// splitMessage splits a raw commit message the way git's %s and %b do:
// the subject is the first paragraph with its lines joined by spaces, the
// body is everything after the blank line(s) that end it, without
// trailing newlines.
func splitMessage(msg string) (subject, body string) {
	// Leading blank lines are not part of the subject (git skips them).
	for {
		line, rest, ok := strings.Cut(msg, "\n")
		if !ok || strings.TrimSpace(line) != "" {
			break
		}
		msg = rest
	}
	var subj []string
	for msg != "" {
		line, rest, _ := strings.Cut(msg, "\n")
		msg = rest
		if strings.TrimSpace(line) == "" {
			break
		}
		subj = append(subj, strings.TrimRight(line, " \t\r"))
	}
	for {
		line, rest, ok := strings.Cut(msg, "\n")
		if !ok || strings.TrimSpace(line) != "" {
			break
		}
		msg = rest
	}
	return strings.Join(subj, " "), strings.TrimRight(msg, "\n")
}

var (
	// "commit <sha> upstream." — the stable-kernel backport line.
	upstreamCommitRE = regexp.MustCompile(`(?i)\bcommit\s+([0-9a-f]{40})\s+upstream\b`)
	// "[ Upstream commit <sha> ]" — the other stable convention.
	upstreamBracketRE = regexp.MustCompile(`(?i)\[\s*upstream\s+commit\s+([0-9a-f]{40})\s*\]`)
	// "This reverts commit <sha>." — written by `git revert`.
	revertsRE = regexp.MustCompile(`(?i)\bthis\s+reverts\s+commit\s+([0-9a-f]{7,40})\b`)
)

// UpstreamOf returns the mainline commit a stable backport names in its
// body ("commit <sha> upstream." or "[ Upstream commit <sha> ]", any
// case), as 40 lowercase hex digits, or "" when the body names none. The
// first such line wins.
func UpstreamOf(body string) string {
	best, sha := -1, ""
	for _, re := range []*regexp.Regexp{upstreamCommitRE, upstreamBracketRE} {
		if m := re.FindStringSubmatchIndex(body); m != nil && (best < 0 || m[0] < best) {
			best, sha = m[0], body[m[2]:m[3]]
		}
	}
	return strings.ToLower(sha)
}

// RevertOf reports whether a commit is a revert — its subject starts with
// `Revert "` or its body says "This reverts commit <sha>." — and returns
// the reverted commit's id from that body line (lowercase, as abbreviated
// as the author left it; "" when the body names none).
func RevertOf(subject, body string) (sha string, ok bool) {
	if m := revertsRE.FindStringSubmatch(body); m != nil {
		return strings.ToLower(m[1]), true
	}
	return "", strings.HasPrefix(subject, `Revert "`)
}
