//go:build darwin || freebsd

package osprobe

import (
	"math"
	"runtime"

	"golang.org/x/sys/unix"
)

// sysctlMemTotal is the physical memory the kernel reports: hw.memsize on
// macOS, hw.physmem on FreeBSD; 0 when it cannot be read.
func sysctlMemTotal() int64 {
	name := "hw.physmem"
	if runtime.GOOS == "darwin" {
		name = "hw.memsize"
	}
	n, err := unix.SysctlUint64(name)
	if err != nil || n > math.MaxInt64 {
		return 0
	}
	return int64(n)
}
