// Package regfile opens input files named by a user or found in a
// directory (Maildir messages, CVE record files) without trusting what
// they are: a FIFO must not block the open, and a caller can refuse
// anything but a regular file by name.
package regfile

import (
	"io/fs"
	"os"
	"syscall"
)

// Open opens path for reading and returns it with its FileInfo (of what
// a symlink points to). O_NONBLOCK keeps a FIFO from waiting for a
// writer; it changes nothing for a regular file.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// Kind names the type of a file that is not a regular one, for an error
// message: "a FIFO", "a character device", and so on.
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "not a regular file"
}
