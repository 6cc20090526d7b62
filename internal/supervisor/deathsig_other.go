//go:build !linux && !freebsd

package supervisor

import "syscall"

// HasDeathSignal reports whether workers also get SIGTERM from the kernel
// when the parent dies. Not here (macOS and the other BSDs have no parent
// death signal): a worker learns of its parent's death from the parent
// link alone, which reads end-of-file however the parent ends, SIGKILL
// included, so no worker is left behind either way.
const HasDeathSignal = false

// deathSignal is the workers' process attributes: none here.
func deathSignal() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
