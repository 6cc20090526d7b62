package reactor

import (
	"net"
	"time"
)

// Protocol handles one connection's events (Twisted's IProtocol). The
// reactor calls its methods one at a time, always on the connection's event
// loop goroutine, in this order: ConnectionMade once, DataReceived any number
// of times, ConnectionLost once. A Protocol must never block: one blocked
// callback stalls every connection on its loop.
type Protocol interface {
	// ConnectionMade is called once, when the connection is open, with the
	// Transport to write to and close it. Keep t: it is the only way to
	// reach the connection. Writing here is allowed (a greeting).
	ConnectionMade(t Transport)

	// DataReceived is called whenever bytes arrive. The bytes come in
	// arbitrary pieces: one call may hold part of a message, several
	// messages, or the end of one and the start of the next, and a test
	// should feed a protocol in chunks down to one byte. The implementer
	// must consume data incrementally and keep whatever state it needs.
	//
	// data is lent for the call only: it aliases the event loop's read
	// buffer and is overwritten by the next read, so copy anything you need
	// later. The protocol may modify data in place (unmask it, say) during
	// the call. It is never empty.
	//
	// After the protocol calls LoseConnection or AbortConnection, no more
	// DataReceived calls are made.
	DataReceived(data []byte)

	// ConnectionLost is called once when the connection has closed, for
	// whatever reason; the Transport must not be used for I/O afterwards.
	// errors.Is(reason, ErrConnectionDone) reports a clean close (we called
	// LoseConnection, the peer closed its side in order, or the reactor
	// stopped); errors.Is(reason, ErrConnectionLost) anything else (a
	// reset, AbortConnection, an I/O error). Cancel the connection's pending
	// DelayedCalls here: the reactor does not cancel them for you.
	//
	// ConnectionLost never runs inside another callback: if a Write made
	// from a callback finds the socket broken, the call is delivered after
	// that callback returns.
	ConnectionLost(reason error)
}

// Factory builds a Protocol for each accepted connection (Twisted's
// Factory.buildProtocol). BuildProtocol runs on the new connection's event
// loop goroutine (different loops call it concurrently, so a shared Factory
// must be goroutine-safe). Returning nil refuses the connection: it is
// closed at once and no Protocol method is called.
type Factory interface {
	BuildProtocol(addr net.Addr) Protocol
}

// FactoryFunc lets an ordinary function serve as a Factory.
type FactoryFunc func(addr net.Addr) Protocol

// BuildProtocol calls f(addr).
func (f FactoryFunc) BuildProtocol(addr net.Addr) Protocol { return f(addr) }

// Transport is a protocol's handle on its connection (Twisted's ITransport).
//
// Goroutines: every method except CallFromThread must be called on the
// connection's event loop goroutine, that is from within a Protocol
// callback, a DelayedCall made by this connection's CallLater, or a function
// run by CallFromThread. CallFromThread is safe from any goroutine; use it to
// bring work from elsewhere onto the loop.
type Transport interface {
	// Write sends p, or queues what the socket does not take at once, in
	// order. It never blocks, and p may be reused as soon as Write returns.
	// There is no limit on what may be queued: watch OutboundBuffered and
	// stop writing to a peer that does not read. After LoseConnection,
	// AbortConnection or ConnectionLost it returns ErrClosed. A socket error
	// is returned too; the connection is then being lost and
	// ConnectionLost follows.
	Write(p []byte) (int, error)

	// Writev is Write for several buffers at once, in one system call when
	// the socket takes them (a header and a payload without copying). It
	// may modify the slice headers in bufs, not the bytes they point to.
	Writev(bufs [][]byte) (int, error)

	// LoseConnection closes the connection after everything written so far
	// has been handed to the socket: it waits for the queue to drain (however
	// long the peer takes to read: bound that with a DelayedCall and
	// AbortConnection), then half-closes (FIN) and waits up to the linger
	// timeout for the peer to close its side before closing the socket. No
	// DataReceived is delivered after it. Calling it again does nothing.
	LoseConnection()

	// AbortConnection closes the connection at once and drops any output
	// still queued: the peer sees a reset. ConnectionLost follows with a
	// reason that wraps ErrConnectionLost.
	AbortConnection()

	// OutboundBuffered is the number of bytes written but not yet taken by
	// the socket. Use it to enforce a limit on slow readers.
	OutboundBuffered() int

	// CallLater runs fn on this connection's event loop d from now (Twisted's
	// callLater). fn runs even if the connection has closed in between;
	// cancel it in ConnectionLost.
	CallLater(d time.Duration, fn func()) *DelayedCall

	// CallFromThread runs fn on this connection's event loop goroutine as
	// soon as the loop gets to it; safe from any goroutine. It returns an
	// error (ErrNotRunning) if the reactor has stopped.
	CallFromThread(fn func()) error

	// LocalAddr is our end of the connection (Twisted's getHost).
	LocalAddr() net.Addr

	// Loop is the index of the event loop this connection runs on, from 0
	// to the reactor's loop count minus 1; it never changes. State kept
	// per loop (counters, pools) is indexed by it: only that loop's
	// goroutine touches its slot, so it needs no lock or atomic, and
	// Reactor.ForEachLoop reads it on the loop's own goroutine.
	Loop() int

	// RemoteAddr is the peer's end (Twisted's getPeer). Both addresses can
	// be read until the socket is released, which is after ConnectionLost
	// returns except when ConnectionLost was deferred (see Protocol); from
	// then on they are nil. Keep the address from BuildProtocol if you need
	// it later.
	RemoteAddr() net.Addr
}
