package reactor

import "time"

// Clock tells the time. Every deadline in this package (CallLater,
// DelayedCall.Reset, the LoseConnection linger) is measured with the
// reactor's Clock, so tests can replace it with a FakeClock and drive timers
// without sleeping, like Twisted's task.Clock.
//
// Now must be safe to call from any goroutine.
type Clock interface {
	Now() time.Time
}

// SystemClock returns the real clock (time.Now). The reactor sleeps on real
// timers between deadlines.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
