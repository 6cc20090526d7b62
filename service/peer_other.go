//go:build !linux

package service

import (
	"syscall"
	"time"
)

// peerProcess is a process this one did not start (a -procs worker's
// replacement). Without pidfds (Linux only) it is held by its PID.
type peerProcess struct{ pid int }

func (p *peerProcess) open(pid int) error { p.pid = pid; return nil }

// killAndWait kills the process and waits, at most 2 s, until its PID no
// longer answers: a zombie still does, so this is a bound, not a proof
// that its descriptors are closed (docs/limits: Linux first).
func (p *peerProcess) killAndWait() {
	if p.pid <= 0 {
		return
	}
	_ = syscall.Kill(p.pid, syscall.SIGKILL)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if syscall.Kill(p.pid, 0) != nil {
			return
		}
	}
}

func (p *peerProcess) release() {}
