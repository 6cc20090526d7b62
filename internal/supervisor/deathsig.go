//go:build linux || freebsd

package supervisor

import "syscall"

// HasDeathSignal reports whether workers also get SIGTERM from the kernel
// when the parent dies (PR_SET_PDEATHSIG on Linux, PROC_PDEATHSIG_CTL on
// FreeBSD), besides the parent link's end-of-file, which every system has.
const HasDeathSignal = true

// deathSignal is the workers' process attributes: SIGTERM when the parent
// dies.
func deathSignal() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
