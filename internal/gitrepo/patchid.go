package gitrepo

import "patchtrail/internal/patch"

// diffPatchID is `git patch-id --stable` of one commit's diff section,
// "" when it holds no patch (a merge, an empty commit).
func diffPatchID(diff []byte) string {
	id, err := patch.PatchID(string(diff))
	if err != nil {
		return ""
	}
	return id
}
