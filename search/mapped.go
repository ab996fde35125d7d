package search

import (
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

// DefaultMappedBytes is Options.MappedBytes when it is 0.
const DefaultMappedBytes = 64 << 20

// pageBound is the state of the bound of a read-only index.
type pageBound struct {
	budget   int64
	limit    atomic.Int64 // release once fileResident() passes it
	busy     sync.Mutex   // one release at a time
	releases atomic.Int64
}

// newPageBound is the bound of a read-only index with options o, nil
// when its pages are not bounded.
func newPageBound(o Options) *pageBound {
	if !o.ReadOnly || o.MappedBytes < 0 {
		return nil
	}
	b := &pageBound{budget: o.MappedBytes}
	if b.budget == 0 {
		b.budget = DefaultMappedBytes
	}
	b.limit.Store(fileResident() + b.budget)
	return b
}

// boundPages releases the index's mapped pages when the process's
// file-backed resident memory passed the limit; a search calls it when
// it is done. Reading the counter costs a few microseconds; a release
// (reading /proc/self/maps and one madvise per segment) happens once per
// MappedBytes of pages touched.
func (ix *Index) boundPages() {
	b := ix.pages.Load()
	if b == nil || fileResident() <= b.limit.Load() || !b.busy.TryLock() {
		return
	}
	defer b.busy.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	// Read-only: no merge closes a segment (and unmaps it) while ix.mu
	// is held, which unmapPages needs.
	if ix.closed || !ix.opts.ReadOnly {
		return
	}
	ix.unmapPages()
	b.limit.Store(fileResident() + b.budget)
	b.releases.Add(1)
}
