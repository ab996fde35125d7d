package patch

import (
	"sort"
)

// Helpers for comparing postings: how much two versions of a series (or
// a posting and a range of commits) have in common. Grouping mails into
// series needs the store and lives in the indexer.

// Overlap says how much two sets of patches (two versions of a series,
// or a posting and a range of commits) have in common.
type Overlap struct {
	SameIDs        int     // patch ids found in both
	IDsA, IDsB     int     // distinct patch ids on each side
	SameFiles      int     // file paths touched by both
	FilesA, FilesB int     // distinct file paths on each side
	Files          float64 // Jaccard index of the file sets, 0..1
	IDs            float64 // Jaccard index of the patch-id sets, 0..1
}

// ComparePatches measures the overlap of two sets of patches by patch
// ids and by the paths they touch (new and old names).
func ComparePatches(a, b []Patch) Overlap {
	ida, idb := patchIDSet(a), patchIDSet(b)
	fa, fb := fileSet(a), fileSet(b)
	o := Overlap{IDsA: len(ida), IDsB: len(idb), FilesA: len(fa), FilesB: len(fb)}
	o.SameIDs = intersect(ida, idb)
	o.SameFiles = intersect(fa, fb)
	o.IDs = jaccard(o.SameIDs, len(ida), len(idb))
	o.Files = jaccard(o.SameFiles, len(fa), len(fb))
	return o
}

// FilePaths returns the sorted distinct paths the patches touch, old and
// new names alike.
func FilePaths(ps []Patch) []string {
	set := fileSet(ps)
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func patchIDSet(ps []Patch) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		if p.PatchID != "" {
			m[p.PatchID] = true
		}
	}
	return m
}

func fileSet(ps []Patch) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		for _, f := range p.Files {
			for _, n := range []string{f.OldPath, f.NewPath} {
				if n != "" && n != "/dev/null" {
					m[n] = true
				}
			}
		}
	}
	return m
}

func intersect(a, b map[string]bool) int {
	if len(b) < len(a) {
		a, b = b, a
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return n
}

func jaccard(both, a, b int) float64 {
	union := a + b - both
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}
