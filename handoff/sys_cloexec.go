//go:build !darwin

package handoff

import "golang.org/x/sys/unix"

// seqpacketPair makes a connected pair of unix SOCK_SEQPACKET sockets,
// close-on-exec from the start.
func seqpacketPair() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
}

// recvCloexec receives one packet without waiting; descriptors it carries
// are close-on-exec from the start (MSG_CMSG_CLOEXEC).
func recvCloexec(fd int, p, oob []byte) (n, oobn, flags int, from unix.Sockaddr, err error) {
	return unix.Recvmsg(fd, p, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
}

// markCloexec does nothing here: recvCloexec's descriptors are marked.
func markCloexec([]int) {}
