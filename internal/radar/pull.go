package radar

import (
	"regexp"
	"slices"
	"strings"
)

// A pull request (git request-pull) lists the commits it pulls by their
// subjects, under each author's name:
//
//	The following changes since commit 1234…:
//	…
//	are available in the Git repository at:
//
//	  git://git.kernel.org/pub/scm/linux/kernel/git/wireless/wireless.git tags/wireless-2025-05-08
//	…
//	----------------------------------------------------------------
//	Johannes Berg (2):
//	      wifi: mac80211: fix …
//	      wifi: iwlwifi: …
//
//	 net/mac80211/rx.c | 3 ++-
//
// A patch whose subject a pull request names soon after it was posted
// was applied and is on its way to a release (to the current one when
// the pull request is for a tree of fixes): what happened next, as a
// maintainer's "applied" reply says, for the lists whose maintainers
// send pull requests instead.

// pullMarkRE finds the line of a pull request naming its repository and
// ref.
var pullMarkRE = regexp.MustCompile(`(?m)^\s*are available in the [Gg]it repository at:?\s*$`)

// shortlogAuthorRE matches an author line of a shortlog: "Name (N):".
var shortlogAuthorRE = regexp.MustCompile(`^\S.*\(\d+\):\s*$`)

// diffstatRE matches a diffstat line.
var diffstatRE = regexp.MustCompile(`^\s\S.*\|\s+(\d+|Bin)|^\s\d+ files? changed`)

// pulledKeys returns the subject keys (TitleKey) of the commits a pull
// request's shortlog names, sorted; none when text is no pull request.
func pulledKeys(text string) []string {
	if !strings.Contains(text, "Git repository at") && !strings.Contains(text, "git repository at") {
		return nil
	}
	if !pullMarkRE.MatchString(text) {
		return nil
	}
	var keys []string
	author := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		switch {
		case shortlogAuthorRE.MatchString(line):
			author = true
		case line == "" || strings.HasPrefix(line, "-----"):
			author = author && line == ""
		case !author:
		case diffstatRE.MatchString(line):
			author = false
		case strings.HasPrefix(line, "  "):
			if k := TitleKey(strings.TrimSpace(line)); k != "" {
				keys = append(keys, k)
			}
		default:
			author = false
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// pullDateRE is the date a pull request's tag or subject ends with.
var pullDateRE = regexp.MustCompile(`[-_ ]*\d{4}-?\d{2}-?\d{2}$`)

// pullTree reads the tree a pull request is for from its subject and
// the ref it names: +1 a tree of fixes for the current release
// ("wireless-2025-05-08", "ath-current-20250519", "for-net-…", "smb3
// client fixes", "for-linus"), -1 a development tree
// ("wireless-next-…", "for-next"), 0 neither.
func pullTree(subject, text string) int8 {
	words := strings.FieldsFunc(subject, func(r rune) bool { return r == ' ' || r == ',' || r == ':' || r == '[' || r == ']' })
	if loc := pullMarkRE.FindStringIndex(text); loc != nil {
		rest := strings.TrimLeft(text[loc[1]:], " \t\r\n")
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[:i]
		}
		if f := strings.Fields(rest); len(f) > 1 {
			ref := f[len(f)-1]
			words = append(words, ref[strings.LastIndexByte(ref, '/')+1:])
		}
	}
	tree := int8(0)
	for _, w := range words {
		w = pullDateRE.ReplaceAllString(strings.ToLower(w), "")
		if w == "" || w[0] >= '0' && w[0] <= '9' {
			continue // a release ("6.9-rc1": the merge window's, too)
		}
		parts := strings.Split(w, "-")
		if nextTreeRE.MatchString(w) || slices.Contains(parts, "next") {
			return -1
		}
		if fixTreeRE.MatchString(w) || w == "fix" || slices.ContainsFunc(parts, func(p string) bool { return fixTreeRE.MatchString(p) }) {
			tree = 1
		}
	}
	return tree
}
