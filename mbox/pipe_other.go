//go:build !linux

package mbox

import "os"

// newPipe returns a pipe for the output of a child.
func newPipe() (r, w *os.File, err error) { return os.Pipe() }
