package supervisor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// linkPair makes the parent link, a connected pair of Unix stream sockets,
// close-on-exec. macOS has no SOCK_CLOEXEC: both ends are marked after they
// are made, under syscall.ForkLock so that no fork in between (another
// worker's start) inherits them.
func linkPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return pair, err
	}
	syscall.CloseOnExec(pair[0])
	syscall.CloseOnExec(pair[1])
	return pair, nil
}

// recvLink reads the link; darwin has no MSG_CMSG_CLOEXEC, so descriptors
// received are marked close-on-exec after, under syscall.ForkLock.
func recvLink(fd int, p, oob []byte) (n, oobn int, err error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	n, oobn, _, _, err = unix.Recvmsg(fd, p, oob, 0)
	if err == nil {
		for _, r := range rights(oob[:oobn]) {
			syscall.CloseOnExec(r)
		}
	}
	return n, oobn, err
}
