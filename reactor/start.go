package reactor

import "errors"

// Start runs the reactor in a new goroutine and returns once it listens
// (nil: Addr is set) or once Run has failed to start (Run's error: the
// address is in use, say). The reactor then runs until Stop; Done is
// closed when Run has returned. It is the way to run a reactor from a test,
// or from a main that has more to do: Run itself blocks. Call it once,
// instead of Run, after ListenTCP.
func (r *Reactor) Start() error {
	errc := make(chan error, 1)
	go func() { errc <- r.Run() }()
	select {
	case <-r.started:
		return nil
	case err := <-errc:
		if err == nil {
			err = errors.New("reactor: stopped before it listened")
		}
		return err
	}
}
