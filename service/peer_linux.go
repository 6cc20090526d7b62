package service

import "golang.org/x/sys/unix"

// peerProcess is a process this one did not start (a -procs worker's
// replacement), held by a pidfd so that killing it cannot hit another
// process that reused its PID.
type peerProcess struct{ fd int }

func (p *peerProcess) open(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return err
	}
	p.fd = fd + 1 // 0 means none
	return nil
}

// killAndWait kills the process and waits until it has exited (its
// descriptors are closed from then on, zombie or not).
func (p *peerProcess) killAndWait() {
	if p.fd == 0 {
		return
	}
	fd := p.fd - 1
	_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			return
		}
	}
}

func (p *peerProcess) release() {
	if p.fd != 0 {
		unix.Close(p.fd - 1)
		p.fd = 0
	}
}
