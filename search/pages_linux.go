package search

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4): reclaim the pages of a range.
const madvPageout = 21

// releaseMappedPages hands the pages of this index's segment files that
// the process has mapped back to the kernel (MADV_PAGEOUT on every
// mapping of a .zap file under the index directory).
//
// scorch maps every segment file and touches parts of each (opening a
// segment, looking up the ids of a batch in every segment, merging); on
// a kernel that reads ahead in large folios a touched page brings
// megabytes of the file into the process's resident size, which then
// grows with the index (170 MB of 240 MB at the end of the io-uring
// epoch). Released pages are read again when needed. The advice changes
// no data: if a range was unmapped and reused between reading
// /proc/self/maps and the call, anonymous memory is at most swapped out.
func (ix *Index) releaseMappedPages() { adviseMappings(ix.dir, madvPageout) }

// unmapPages takes the pages of this index's segment files out of the
// process's page tables (MADV_DONTNEED on every mapping of a .zap file
// under the index directory) without evicting them from the kernel's
// page cache: the next touch maps them again with a minor fault, no
// read. The segments are mapped shared and read-only, so their
// contents come back unchanged. Unlike MADV_PAGEOUT this advice zeroes
// anonymous memory, so no mapping may be unmapped (and its range
// reused) meanwhile: ix.mu must be held and the index read-only (only a
// writer's merges close segments while it is open).
func (ix *Index) unmapPages() { adviseMappings(ix.dir, syscall.MADV_DONTNEED) }

// adviseMappings gives advice to every mapping of a .zap file under dir.
func adviseMappings(dir string, advice int) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	// The kernel names a mapping by the file's absolute path, links
	// resolved; dir may be relative (--data d) or pass through a link.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	prefix := []byte(filepath.Clean(dir) + string(filepath.Separator))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		line := sc.Bytes()
		fields := bytes.Fields(line)
		if len(fields) < 6 || !bytes.HasSuffix(fields[5], []byte(".zap")) || !bytes.HasPrefix(fields[5], prefix) {
			continue
		}
		lo, hi, ok := bytes.Cut(fields[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), uintptr(advice))
	}
}

// fileResident is the process's resident memory backed by files (and
// shared memory), in bytes: the third field of /proc/self/statm; 0 if
// unknown. It is a counter the kernel keeps, cheap to read.
func fileResident() int64 {
	file, _ := residentSizes()
	return file
}

// residentSizes is the process's resident memory backed by files (and
// shared memory) and its whole resident size, in bytes (the third and
// second fields of /proc/self/statm); 0, 0 if unknown.
func residentSizes() (file, total int64) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, 0
	}
	rss, err1 := strconv.ParseInt(string(f[1]), 10, 64)
	shared, err2 := strconv.ParseInt(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	page := int64(os.Getpagesize())
	return shared * page, rss * page
}
