package reactor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// streamSocket opens a TCP socket of the family, close-on-exec. macOS has
// no SOCK_CLOEXEC: the socket is marked after it is made, under
// syscall.ForkLock so that no fork in between can inherit it (what Go's
// net package does there).
func streamSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}
