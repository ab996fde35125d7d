package patch

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSeriesKey(t *testing.T) {
	tests := []struct {
		from, subject, want string
	}{
		{"Axboe@Kernel.dk", "[PATCH v3 2/7] io_uring: x", "axboe@kernel.dk v3 /7"},
		{"axboe@kernel.dk", "[PATCH v3 0/7] io_uring: cover", "axboe@kernel.dk v3 /7"},
		{"axboe@kernel.dk", "[PATCH] io_uring: single", "axboe@kernel.dk v1 /0"},
		{"axboe@kernel.dk", "Re: [PATCH v3 2/7] io_uring: x", ""},
		{"axboe@kernel.dk", "io_uring: no tags", ""},
	}
	for _, tt := range tests {
		if got := SeriesKey(tt.from, ParseSubject(tt.subject)); got != tt.want {
			t.Errorf("SeriesKey(%q, %q) = %q, want %q", tt.from, tt.subject, got, tt.want)
		}
	}
}

func TestSameSeries(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	msg := func(from, subj string, d time.Duration) SeriesMessage {
		return SeriesMessage{From: from, Subject: ParseSubject(subj), Date: t0.Add(d)}
	}
	cover := msg("a@b", "[PATCH v2 0/3] x", 0)
	tests := []struct {
		name string
		b    SeriesMessage
		want bool
	}{
		{"patch of the posting", msg("a@b", "[PATCH v2 1/3] y", 5*time.Second), true},
		{"other version", msg("a@b", "[PATCH v3 1/3] y", 5*time.Second), false},
		{"other sender", msg("c@d", "[PATCH v2 1/3] y", 5*time.Second), false},
		{"other count", msg("a@b", "[PATCH v2 1/4] y", 5*time.Second), false},
		{"days later", msg("a@b", "[PATCH v2 1/3] y", 48*time.Hour), false},
		{"same counter", msg("a@b", "[PATCH v2 0/3] x", time.Second), false},
		{"reply", msg("a@b", "Re: [PATCH v2 1/3] y", time.Second), false},
	}
	for _, tt := range tests {
		if got := SameSeries(cover, tt.b, 0); got != tt.want {
			t.Errorf("%s: SameSeries = %v, want %v", tt.name, got, tt.want)
		}
	}
}

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
