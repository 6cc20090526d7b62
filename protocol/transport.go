package protocol

import (
	"net"
	"time"
)

// Transport is what a Conn needs from the reactor: Twisted's ITransport
// plus IReactorTime.callLater for this connection's event loop. A
// reactor.Transport satisfies it through a small adapter in the command.
// Every method is called on the connection's event-loop goroutine only.
type Transport interface {
	// Write writes p or copies it before returning: p may be reused after.
	Write(p []byte) (int, error)
	// LoseConnection closes the connection after the pending output has
	// been flushed.
	LoseConnection()
	// AbortConnection closes the connection now, dropping pending output.
	AbortConnection()
	// OutboundBuffered is the number of bytes written but not yet taken
	// by the socket.
	OutboundBuffered() int
	// CallLater runs fn on this connection's event loop after d.
	CallLater(d time.Duration, fn func()) DelayedCall
	// RemoteAddr is the peer's address (Twisted's getPeer).
	RemoteAddr() net.Addr
}

// DelayedCall is a pending CallLater, as Twisted's IDelayedCall (and
// reactor.DelayedCall). Its methods are called on the event loop that runs
// it.
type DelayedCall interface {
	// Cancel stops the call from running; it does nothing if the call has
	// already run or been cancelled.
	Cancel()
	// Reset schedules the call to run d from now, whether it is pending,
	// has run or was cancelled (as time.Timer.Reset): a Conn re-arms its
	// one timer with Reset and never allocates another.
	Reset(d time.Duration)
	// Active reports whether the call is pending: it has neither run nor
	// been cancelled since it was last scheduled.
	Active() bool
}
