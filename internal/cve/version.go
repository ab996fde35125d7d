package cve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadVersion is returned by ParseVersion for a string that is not a
// kernel release.
var ErrBadVersion = errors.New("cve: not a kernel version")

// Version is a kernel release as the vulns repository writes it:
// mainline "6.8", "6.8-rc3", "2.6.39" or a stable release "6.6.20",
// "2.6.32.5". The rules follow the repository's own tools (strak and
// cve_utils' version_utils.rs): a version with "-rc" is mainline; 2.6.x
// and 2.4.x mainline releases have three numbers, every other mainline
// release two; one number more is a stable release of that branch.
type Version struct {
	raw  string
	nums []int
	rc   int // -1: not a release candidate; "-rc" alone is 0
}

// ParseVersion parses a kernel version. A leading "v" is accepted
// ("v6.6.20", the tag name).
func ParseVersion(s string) (Version, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(s), "v")
	v := Version{raw: raw, rc: -1}
	base := raw
	if i := strings.Index(raw, "-rc"); i >= 0 {
		base = raw[:i]
		v.rc = 0
		if rest := raw[i+3:]; rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 {
				return Version{}, fmt.Errorf("%w: %q", ErrBadVersion, s)
			}
			v.rc = n
		}
	}
	parts := strings.Split(base, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return Version{}, fmt.Errorf("%w: %q", ErrBadVersion, s)
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || p[0] == '+' {
			return Version{}, fmt.Errorf("%w: %q", ErrBadVersion, s)
		}
		v.nums = append(v.nums, n)
	}
	if v.nums[0] == 0 || len(v.nums) > v.mainlineLen()+1 || v.rc >= 0 && len(v.nums) != v.mainlineLen() {
		return Version{}, fmt.Errorf("%w: %q", ErrBadVersion, s)
	}
	return v, nil
}

// MustVersion is ParseVersion for constants; it panics on a bad one.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String is the version as written (without a leading "v").
func (v Version) String() string { return v.raw }

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return len(v.nums) == 0 }

// mainlineLen is the number of components of a mainline release of
// v's line: three for 2.4.x and 2.6.x, two otherwise.
func (v Version) mainlineLen() int {
	if len(v.nums) >= 3 && v.nums[0] == 2 && (v.nums[1] == 6 || v.nums[1] == 4) {
		return 3
	}
	return 2
}

// Mainline reports whether v is a release (or release candidate) of
// Linus' tree rather than of a stable branch.
func (v Version) Mainline() bool { return v.rc >= 0 || len(v.nums) == v.mainlineLen() }

// RC reports whether v is a release candidate.
func (v Version) RC() bool { return v.rc >= 0 }

// Branch is the stable branch v belongs to, named by its mainline
// release: "6.6" for 6.6.20 and for 6.6 itself, "2.6.32" for 2.6.32.5.
// A release candidate belongs to the release it leads to.
func (v Version) Branch() string {
	n := v.mainlineLen()
	parts := make([]string, n)
	for i := 0; i < n; i++ {
		parts[i] = strconv.Itoa(v.nums[i])
	}
	return strings.Join(parts, ".")
}

// sameBranch reports whether a and b have the same Branch.
func sameBranch(a, b Version) bool {
	n := a.mainlineLen()
	if b.mainlineLen() != n || len(a.nums) < n || len(b.nums) < n {
		return false
	}
	for i := 0; i < n; i++ {
		if a.nums[i] != b.nums[i] {
			return false
		}
	}
	return true
}

// base is the mainline release v's branch started from (v itself when
// mainline).
func (v Version) base() Version {
	if v.Mainline() {
		return v
	}
	b := Version{nums: v.nums[:v.mainlineLen()], rc: -1}
	b.raw = v.Branch()
	return b
}

// Compare orders versions as cve_utils' compare_kernel_versions does:
// by their numbers (missing ones are 0), a release candidate before the
// release, and within one branch the mainline release before its stable
// releases. It returns -1, 0 or +1.
func Compare(a, b Version) int {
	if a.Mainline() != b.Mainline() && sameBranch(a, b) {
		if a.Mainline() {
			return -1
		}
		return 1
	}
	for i := 0; i < max(len(a.nums), len(b.nums)); i++ {
		x, y := 0, 0
		if i < len(a.nums) {
			x = a.nums[i]
		}
		if i < len(b.nums) {
			y = b.nums[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case a.RC() && !b.RC():
		return -1
	case !a.RC() && b.RC():
		return 1
	case a.rc < b.rc:
		return -1
	case a.rc > b.rc:
		return 1
	}
	return 0
}

// Contains reports whether release v contains a commit that was first
// released in tag, the question strak answers with
// `git merge-base --is-ancestor`, decided here from the version numbers
// alone (the kernel's branching model):
//
//   - a mainline commit (tag mainline) is in every mainline release from
//     tag on, and in every stable release whose branch started from a
//     mainline release at or after tag;
//   - a stable commit (tag a stable release) is only in the later
//     releases of the same stable branch: stable commits are
//     cherry-picks and never flow back to mainline or to other branches.
func (v Version) Contains(tag Version) bool {
	if v.IsZero() || tag.IsZero() {
		return false
	}
	if tag.Mainline() {
		return Compare(tag, v.base()) <= 0
	}
	return !v.Mainline() && sameBranch(v, tag) && Compare(tag, v) <= 0
}

// Versions caches parsed versions by their string; a listing reads the
// same few thousand versions in every record. The zero value is not
// usable: make one with make(Versions).
type Versions map[string]versionOrErr

type versionOrErr struct {
	v   Version
	err error
}

// Parse is ParseVersion, remembered.
func (c Versions) Parse(s string) (Version, error) {
	if c == nil {
		return ParseVersion(s)
	}
	r, ok := c[s]
	if !ok {
		r.v, r.err = ParseVersion(s)
		c[s] = r
	}
	return r.v, r.err
}
