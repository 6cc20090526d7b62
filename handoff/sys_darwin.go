package handoff

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// macOS has neither SOCK_CLOEXEC nor MSG_CMSG_CLOEXEC: descriptors are
// marked close-on-exec right after they are made, under syscall.ForkLock
// for the pair (what Go's net package does there). macOS may also refuse
// SOCK_SEQPACKET for unix sockets: Pair then fails with the system's error,
// and the upgrade with it (the command keeps serving).

// seqpacketPair makes a connected pair of unix SOCK_SEQPACKET sockets,
// close-on-exec.
func seqpacketPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err != nil {
		return fds, err
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	return fds, nil
}

// recvCloexec receives one packet without waiting; markCloexec marks the
// descriptors it carried.
func recvCloexec(fd int, p, oob []byte) (n, oobn, flags int, from unix.Sockaddr, err error) {
	return unix.Recvmsg(fd, p, oob, unix.MSG_DONTWAIT)
}

// markCloexec marks received descriptors close-on-exec.
func markCloexec(fds []int) {
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
}
