package patch

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestComparePatches(t *testing.T) {
	p := func(id string, paths ...string) Patch {
		var fs []File
		for _, path := range paths {
			fs = append(fs, File{OldPath: path, NewPath: path})
		}
		return Patch{PatchID: id, Files: fs}
	}
	v1 := []Patch{p("id1", "a.c"), p("id2", "b.c", "c.c")}
	v2 := []Patch{p("id1", "a.c"), p("id3", "b.c"), p("id4", "d.c")}
	got := ComparePatches(v1, v2)
	want := Overlap{SameIDs: 1, IDsA: 2, IDsB: 3, SameFiles: 2, FilesA: 3, FilesB: 3, Files: 2.0 / 4, IDs: 1.0 / 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ComparePatches mismatch (-want +got):\n%s", diff)
	}
	if got := ComparePatches(nil, nil); got != (Overlap{}) {
		t.Errorf("ComparePatches(nil, nil) = %+v", got)
	}
	renamed := []Patch{{Files: []File{{OldPath: "old.c", NewPath: "new.c", IsRename: true}, {NewPath: "added.c", IsNew: true}}}}
	if diff := cmp.Diff([]string{"added.c", "new.c", "old.c"}, FilePaths(renamed)); diff != "" {
		t.Errorf("FilePaths mismatch (-want +got):\n%s", diff)
	}
}
