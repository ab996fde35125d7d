package mbox

import (
	"os"
	"syscall"
)

// pipeSize is the buffer asked for the pipes from git: 1 MiB, the
// default limit of /proc/sys/fs/pipe-max-size for unprivileged users.
const pipeSize = 1 << 20

// newPipe returns a pipe for the output of a child. On Linux the read
// end is blocking, so reads bypass the runtime poller (no epoll wake-up
// per chunk: the reader waits in read(2), which a killed child ends with
// EOF), and the kernel buffer is enlarged (F_SETPIPE_SZ) so git writes
// whole messages without waiting. Failures of the tuning only cost speed.
func newPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return os.Pipe()
	}
	const fSetPipeSz = 1031
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), fSetPipeSz, pipeSize)
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
