package cve

// BranchState is what one .dyad line says about one line of
// development: where the bug came in, where it was fixed, or that it
// never was.
type BranchState struct {
	// Branch is "mainline" for the line that carries the mainline fix,
	// else the stable branch ("6.6"); "" when the line names no version.
	Branch            string `json:"branch"`
	IntroducedVersion string `json:"introduced_version,omitempty"` // "" = since the beginning of git history
	IntroducedSHA     string `json:"introduced_sha,omitempty"`
	FixedVersion      string `json:"fixed_version,omitempty"`
	FixedSHA          string `json:"fixed_sha,omitempty"`
	// Vulnerable: no fix on this line (FixedVersion is empty).
	Vulnerable bool `json:"vulnerable"`
}

// MainlineBranch names the line of Linus' tree in BranchState.Branch.
const MainlineBranch = "mainline"

// Branches reads the .dyad lines of a record as one state per line, in
// file order. The branch of a line is that of its fixed version (a
// mainline version means mainline), or of its introduced version when
// the line has no fix.
func Branches(bps []Backport) []BranchState {
	out := make([]BranchState, 0, len(bps))
	for _, b := range bps {
		s := BranchState{IntroducedVersion: b.IntroducedVersion, IntroducedSHA: b.IntroducedSHA,
			FixedVersion: b.FixedVersion, FixedSHA: b.FixedSHA, Vulnerable: b.FixedVersion == ""}
		name := b.FixedVersion
		if name == "" {
			name = b.IntroducedVersion
		}
		if v, err := ParseVersion(name); err == nil {
			if v.Mainline() && b.FixedVersion != "" {
				s.Branch = MainlineBranch
			} else {
				s.Branch = v.Branch()
			}
		}
		out = append(out, s)
	}
	return out
}

// Exposed reports whether release v carries the bug described by the
// .dyad lines bps, by strak's rule: v is vulnerable when it contains the
// introducing commit of at least one line (a line with no introducing
// commit starts at the first commit of git history, so every release
// contains it) and contains the fixing commit of none of those lines.
// A record without .dyad lines exposes nothing. Versions in the lines
// that do not parse are treated as commits no release contains.
func Exposed(bps []Backport, v Version) bool { return ExposedCached(bps, v, nil) }

// ExposedCached is Exposed parsing the versions of bps through cache
// (nil: no cache).
func ExposedCached(bps []Backport, v Version, cache Versions) bool {
	mustLook, fixed := false, false
	for _, b := range bps {
		if b.IntroducedVersion != "" {
			iv, err := cache.Parse(b.IntroducedVersion)
			if err != nil || !v.Contains(iv) {
				continue
			}
		}
		mustLook = true
		if b.FixedVersion == "" {
			continue
		}
		if fv, err := cache.Parse(b.FixedVersion); err == nil && v.Contains(fv) {
			fixed = true
		}
	}
	return mustLook && !fixed
}

// FixedIn returns the fixing commit of the first .dyad line whose fixed
// version is exactly v (strak --fixed compares the version strings), or
// ok false.
func FixedIn(bps []Backport, v string) (sha string, ok bool) {
	for _, b := range bps {
		if b.FixedVersion != "" && b.FixedVersion == v {
			return b.FixedSHA, true
		}
	}
	return "", false
}
