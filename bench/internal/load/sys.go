//go:build linux

package load

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reads and writes of non-blocking sockets never block, so they go through
// RawSyscall: no scheduler hand-off around each call, and the runtime's
// monitor thread does not see the loop as "in a syscall" and retake its P
// thousands of times a second. Only the epoll wait, which does block, uses
// the scheduler-aware Syscall.

// sysRead reads from a non-blocking descriptor.
func sysRead(fd int, p []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// sysWrite writes to a non-blocking descriptor.
func sysWrite(fd int, p []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
