package mbox

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// packWithoutDeltas repacks the repository dir into one pack in which
// every object is stored whole, and returns the pack's path.
func packWithoutDeltas(t *testing.T, dir string) string {
	t.Helper()
	runGit(t, dir, "", "repack", "-a", "-d", "-f", "-q", "--window=0")
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs after repack: %v", packs)
	}
	return packs[0]
}

// corruptPacked overwrites the last bytes of object oid's data in pack,
// so that inflating it fails its checksum.
func corruptPacked(t *testing.T, dir, pack, oid string) {
	t.Helper()
	idx := strings.TrimSuffix(pack, ".pack") + ".idx"
	var offs []int64
	var at int64 = -1
	for _, line := range strings.Split(runGit(t, dir, mustRead(t, idx), "show-index"), "\n") {
		fs := strings.Fields(line)
		off, _ := strconv.ParseInt(fs[0], 10, 64)
		offs = append(offs, off)
		if fs[1] == oid {
			at = off
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	i := sort.Search(len(offs), func(i int) bool { return offs[i] > at })
	if at < 0 || i == len(offs) {
		t.Fatalf("object %s is not followed by another in %s", oid, pack)
	}
	w, err := os.OpenFile(pack, os.O_WRONLY, 0)
	if err != nil {
		os.Chmod(pack, 0o644)
		if w, err = os.OpenFile(pack, os.O_WRONLY, 0); err != nil {
			t.Fatal(err)
		}
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte("XXXX"), offs[i]-4); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCorruptBlob reads an epoch in which one blob is corrupt: git
// cat-file dies on it. That message is an item with Err naming the blob,
// and every other message of the epoch is read.
func TestCorruptBlob(t *testing.T) {
	needGit(t)
	dir := filepath.Join(t.TempDir(), "git", "0.git")
	ops := msgOps("c", 30)
	ids := buildEpoch(t, dir, false, ops)
	pack := packWithoutDeltas(t, dir)
	bad := runGit(t, dir, "", "rev-parse", ids[9]+":m")
	corruptPacked(t, dir, pack, bad)

	got, err := openAll(t, dir, nil)
	if err != nil {
		t.Fatalf("reading the epoch: %v", err)
	}
	want := expected("git/0.git", dir, false, ops, ids, 0)
	want[9].Data, want[9].Err = "", true
	if diff := cmp.Diff(want, items(got)); diff != "" {
		t.Errorf("items differ (-want +got):\n%.3000s", diff)
	}
	if len(got) > 9 {
		if e := got[9].Err; e == nil || !strings.Contains(e.Error(), bad) || !strings.Contains(e.Error(), "corrupt") {
			t.Errorf("corrupt blob item: Err %v, want one naming blob %s as corrupt", e, bad)
		}
	}
}

// TestTruncatedPack opens an epoch whose pack was cut in half: an error
// naming the repository, not an empty epoch; an empty repository is
// still read as one without messages.
func TestTruncatedPack(t *testing.T) {
	needGit(t)
	dir := filepath.Join(t.TempDir(), "git", "0.git")
	buildEpoch(t, dir, false, msgOps("t", 5))
	pack := packWithoutDeltas(t, dir)
	fi, err := os.Stat(pack)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(pack, 0o644)
	if err := os.Truncate(pack, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	got, err := openAll(t, dir, nil)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("reading a truncated epoch: %d items, error %v; want an error naming %s", len(got), err, dir)
	}

	empty := filepath.Join(t.TempDir(), "git", "0.git")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, empty, "", "init", "-q", "--bare")
	if got, err := openAll(t, empty, nil); err != nil || len(got) != 0 {
		t.Errorf("reading an empty epoch: %d items, error %v; want none, no error", len(got), err)
	}
}
