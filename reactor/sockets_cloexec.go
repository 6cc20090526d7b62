//go:build !darwin

package reactor

import "golang.org/x/sys/unix"

// streamSocket opens a TCP socket of the family, close-on-exec from the
// start (SOCK_CLOEXEC: Linux and the BSDs).
func streamSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
