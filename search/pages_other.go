//go:build !linux

package search

// releaseMappedPages does nothing outside Linux (pages_linux.go).
func (ix *Index) releaseMappedPages() {}

// unmapPages does nothing outside Linux (pages_linux.go).
func (ix *Index) unmapPages() {}

// fileResident is unknown outside Linux: mapped pages are not bounded.
func fileResident() int64 { return 0 }
