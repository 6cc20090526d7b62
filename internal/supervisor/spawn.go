package supervisor

import (
	"os/exec"
	"runtime"
)

// spawner starts processes from one goroutine locked to its OS thread.
// PR_SET_PDEATHSIG (SysProcAttr.Pdeathsig) fires when the thread that
// forked the child exits, not the process: Go may end a thread whenever a
// goroutine that locked it returns, so children are forked from a thread
// that lives until close, which Run calls only once every worker is gone.
type spawner struct {
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		for r := range s.reqs {
			r.errc <- r.cmd.Start()
		}
	}()
	return s
}

// start runs cmd.Start on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	s.reqs <- spawnReq{cmd, errc}
	return <-errc
}

// close ends the spawner's goroutine and its thread.
func (s *spawner) close() { close(s.reqs) }
