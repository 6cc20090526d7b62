//go:build !darwin

package supervisor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// linkPair makes the parent link, a connected pair of Unix stream sockets,
// close-on-exec from the start (SOCK_CLOEXEC: Linux and the BSDs); the
// child's end is passed to it explicitly (exec.Cmd.ExtraFiles).
func linkPair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}

// recvLink reads the link, descriptors received close-on-exec.
func recvLink(fd int, p, oob []byte) (n, oobn int, err error) {
	n, oobn, _, _, err = unix.Recvmsg(fd, p, oob, unix.MSG_CMSG_CLOEXEC)
	return n, oobn, err
}
