//go:build !linux

package search

// releaseMappedPages does nothing outside Linux (pages_linux.go).
func (ix *Index) releaseMappedPages() {}

// unmapPages does nothing outside Linux (pages_linux.go).
func (ix *Index) unmapPages() {}

// fileResident is unknown outside Linux: mapped pages are not bounded.
func fileResident() int64 { return 0 }

// residentSizes is unknown outside Linux.
func residentSizes() (file, total int64) { return 0, 0 }
