//go:build !linux

package search

// releaseMappedPages does nothing outside Linux (pages_linux.go).
func (ix *Index) releaseMappedPages() {}
