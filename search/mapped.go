package search

import (
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Mapped pages of a read-only index.
//
// scorch maps every segment file, and a search reads the postings, doc
// values and stored fields it needs through those mappings. Every page
// touched stays in the process's resident size until its segment is
// closed, which a read-only index (serve) never does: the resident size
// of a server then grows with the part of the archive its queries have
// touched, up to the size of the index (a kernel that reads ahead in
// large folios maps megabytes around each page touched). The kernel's
// page cache is what keeps a hot index fast, not these mappings, so a
// read-only index bounds them: after a search, once the process's
// file-backed resident memory has grown by more than Options.MappedBytes
// since the last release, the pages of the segment mappings are taken out
// of the process (unmapPages, MADV_DONTNEED: they stay in the page cache,
// and the next touch maps them again with a minor fault, no read).
//
// A release costs the next searches: every page they touch is mapped
// again, and a search over the whole index touches the dictionaries of
// every segment (with the kernel's fault-around, more than 64 MiB of
// pages for one stemmed word over the io-uring epoch). So the pages are
// released only while the process's whole resident size is above
// Options.ResidentBytes: an archive whose index fits beside the rest of
// the process is never released, a larger one once the process passes
// the target, and then again each time the pages grew by MappedBytes
// since the last release, as without the target. Whatever fills the
// process (the answer caches, the store's pages) counts towards the
// target, so the index gives way to it.

// DefaultMappedBytes is Options.MappedBytes when it is 0.
const DefaultMappedBytes = 64 << 20

// DefaultResidentBytes is Options.ResidentBytes when it is 0: with
// what one search maps on top, serve stays under 400 MB.
const DefaultResidentBytes = 256 << 20

// pageBound is the state of the bound of a read-only index.
type pageBound struct {
	budget   int64        // least growth of the mapped pages between releases
	resident int64        // no release while the process is smaller; 0: none
	base     atomic.Int64 // fileResident() after the last release
	busy     sync.Mutex   // one release at a time
	releases atomic.Int64
	// cold: the index's segment files are larger than the process may
	// keep mapped (the resident target, or the budget without one), so
	// the pages of the partitions a search does not read for its page
	// are mostly not mapped when it needs them (estimateRest).
	cold bool
}

// due reports whether the pages are to be released now: they grew by
// the budget since the last release and the process is past its
// resident target.
func (b *pageBound) due() bool {
	file, total := residentSizes()
	return file > b.base.Load()+b.budget && (b.resident == 0 || total > b.resident)
}

// mappedBudget is the bound of the mapped pages of an index opened with
// o; 0 when they are not bounded (an index opened for writing).
func mappedBudget(o Options) int64 {
	switch {
	case !o.ReadOnly || o.MappedBytes < 0:
		return 0
	case o.MappedBytes == 0:
		return DefaultMappedBytes
	}
	return o.MappedBytes
}

// residentTarget is the resident size of the process below which the
// mapped pages of an index opened with o are not released; 0 for none.
func residentTarget(o Options) int64 {
	switch {
	case o.ResidentBytes < 0:
		return 0
	case o.ResidentBytes == 0:
		return DefaultResidentBytes
	}
	return o.ResidentBytes
}

// bindPages installs the bound of the mapped pages of ix, opened with
// o, and releases what opening the segments mapped (each segment's
// footer, field index and doc-value headers: 50 MB for the io-uring
// epoch's 200 MB of segments). ix.mu is held for writing, or ix is not
// shared yet.
func (ix *Index) bindPages(o Options) {
	budget := mappedBudget(o)
	if budget == 0 {
		ix.pages.Store(nil)
		return
	}
	ix.unmapPages()
	b := &pageBound{budget: budget, resident: residentTarget(o)}
	b.cold = segmentBytes(ix.dir) > max(b.resident, b.budget)
	b.base.Store(fileResident())
	ix.pages.Store(b)
}

// boundPagesHeld is boundPages for a search that holds ix.mu (to
// read) and goes on: a count over every partition (exactCount, the
// estimates) calls it between partitions, so one search maps at most
// about one MappedBytes past the target however many segments it
// reads (an index of many small segments, before compact, let one
// word's count over 433k messages map 700 MB).
func (ix *Index) boundPagesHeld() {
	b := ix.pages.Load()
	if b == nil || ix.closed || !ix.opts.ReadOnly || !b.due() || !b.busy.TryLock() {
		return
	}
	defer b.busy.Unlock()
	// Read-only: no merge closes a segment (and unmaps it) while ix.mu
	// is held, which unmapPages needs.
	ix.unmapPages()
	b.base.Store(fileResident())
	b.releases.Add(1)
}

// coldPages reports whether ix is a read-only index larger than what
// its process keeps mapped (pageBound.cold).
func (ix *Index) coldPages() bool {
	b := ix.pages.Load()
	return b != nil && b.cold
}

// segmentBytes is the size of the segment files under dir.
func segmentBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".zap") {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// boundPages releases the index's mapped pages when they are due
// (pageBound.due); a search calls it when it is done. Reading the
// counters costs a few microseconds; a release (reading /proc/self/maps
// and one madvise per segment) happens at most once per MappedBytes of
// pages touched.
func (ix *Index) boundPages() {
	if b := ix.pages.Load(); b == nil || !b.due() {
		return
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.boundPagesHeld()
}
