// wsreactor patch (PATCH.md, "Raw system calls on the loop"): not part of gnet v2.9.7.

//go:build linux && !race

package gnet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead, sysWrite and sysWritev are read(2), write(2) and writev(2) on a
// connection's non-blocking socket, made as raw system calls: the runtime
// does not see the event loop's goroutine leave for a system call, so its
// P stays in the running state and the sysmon thread has nothing to take
// back from it. A call that cannot block does not need what
// syscall.Syscall buys (the P handed to another thread should the call
// block); what the ordinary call cost was sysmon: on a busy loop, one P per
// loop, sysmon found the P "in a system call" at its 20 µs checks often
// enough to retake it hundreds of times a second, each time waking another
// thread to hold it and going back to waking itself every 20 µs: 2,624 and
// 4,266 sysmon wake-ups a second in two runs and 311 and 594 of the extra
// thread, against 98 and 99 and none with raw calls (perf sched, 100
// connections echoing 64 B; see docs/benchmarks.md, "Raw system calls on
// the loop"). With -race the ordinary calls are kept (rawio_ordinary.go):
// they tell the race detector about the synchronisation the socket carries.
func sysRead(fd int, p []byte) (int, error) {
	return rawResult(unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p))))
}

func sysWrite(fd int, p []byte) (int, error) {
	return rawResult(unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p))))
}

// rawResult turns a raw call's results into the ordinary calls' (n, err):
// n is -1 with the error, as unix.Read and unix.Write return it.
func rawResult(n, _ uintptr, e unix.Errno) (int, error) {
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// rawIovMax is how many buffers one sysWritev passes: the iovecs live on
// the stack. The callers handle a partial write (the rest is queued), so a
// longer list is written over several calls.
const rawIovMax = 64

func sysWritev(fd int, bs [][]byte) (int, error) {
	var iov [rawIovMax]unix.Iovec
	n := 0
	for _, b := range bs {
		if len(b) == 0 {
			continue
		}
		if n == rawIovMax {
			break
		}
		iov[n].Base = unsafe.SliceData(b)
		iov[n].SetLen(len(b))
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return rawResult(unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n)))
}
