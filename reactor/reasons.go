package reactor

import (
	"errors"
	"io"
)

// Reasons given to Protocol.ConnectionLost wrap exactly one of these two, and
// the underlying cause where there is one, so errors.Is works on both:
//
//	errors.Is(reason, ErrConnectionDone) // clean: LoseConnection, peer's orderly close (EOF), reactor stop
//	errors.Is(reason, ErrConnectionLost) // not clean: reset, AbortConnection, I/O error
var (
	ErrConnectionDone = errors.New("reactor: connection was closed cleanly")
	ErrConnectionLost = errors.New("reactor: connection was lost")
)

// Other errors of this package.
var (
	// ErrClosed is returned by Write and Writev after LoseConnection,
	// AbortConnection or ConnectionLost.
	ErrClosed = errors.New("reactor: write on a closing or closed connection")
	// ErrNotRunning is returned by CallFromThread when the reactor is not
	// running.
	ErrNotRunning = errors.New("reactor: reactor is not running")
	// ErrAborted is the cause wrapped in the reason after AbortConnection.
	ErrAborted = errors.New("reactor: connection aborted by AbortConnection")
	// ErrStopped is the cause wrapped in the reason of connections closed
	// because the reactor stopped.
	ErrStopped = errors.New("reactor: reactor stopped")
)

// reason is a ConnectionLost reason: a kind (ErrConnectionDone or
// ErrConnectionLost) and an optional cause.
type reason struct {
	kind, cause error
}

func (r *reason) Error() string {
	if r.cause == nil {
		return r.kind.Error()
	}
	return r.kind.Error() + ": " + r.cause.Error()
}

func (r *reason) Unwrap() []error {
	if r.cause == nil {
		return []error{r.kind}
	}
	return []error{r.kind, r.cause}
}

var (
	reasonDone    error = &reason{kind: ErrConnectionDone}
	reasonAborted error = &reason{kind: ErrConnectionLost, cause: ErrAborted}
	reasonStopped error = &reason{kind: ErrConnectionDone, cause: ErrStopped}
)

// lostReason classifies gnet's close error for a connection in state st.
func lostReason(st uint8, err error) error {
	switch {
	case st&stAborted != 0:
		return reasonAborted
	case err == nil && st&stClosing != 0:
		return reasonDone // LoseConnection completed
	case err == nil:
		return reasonStopped // closed by the engine: the reactor is stopping
	case errors.Is(err, io.EOF):
		return &reason{kind: ErrConnectionDone, cause: err}
	default:
		return &reason{kind: ErrConnectionLost, cause: err}
	}
}
