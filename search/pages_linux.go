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
func (ix *Index) releaseMappedPages() {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	dir := []byte(filepath.Clean(ix.dir) + string(filepath.Separator))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		line := sc.Bytes()
		fields := bytes.Fields(line)
		if len(fields) < 6 || !bytes.HasSuffix(fields[5], []byte(".zap")) || !bytes.HasPrefix(fields[5], dir) {
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
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvPageout)
	}
}
