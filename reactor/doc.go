// Package reactor is Twisted's reactor model over the gnet event loop: a
// Protocol per connection whose callbacks the reactor calls as events
// happen, a Factory that builds them, a Transport to write and close, and
// delayed calls. It knows nothing of WebSocket or any other protocol.
//
// Read this top to bottom the first time: a first server, the rules every
// callback lives by (goroutines, buffers), timers, crossing event loops,
// closing, testing. docs/walkthrough.md in the repository puts it next to
// the Twisted code it comes from, and examples/ has four small programs.
//
// # A first server
//
// An echo server, as in Twisted's echoserv.py:
//
//	type Echo struct{ reactor.BaseProtocol }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }
//
//	r := reactor.New()
//	r.ListenTCP(":8000", reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return new(Echo) }))
//	r.Run() // blocks; or r.Start() to run it in the background
//
// The Factory builds one Protocol per connection; BaseProtocol stores the
// Transport in ConnectionMade and ignores the rest, so Echo overrides only
// DataReceived. The bytes come in whatever pieces TCP delivers: a Protocol
// keeps its own state between calls (see Protocol.DataReceived).
//
// # Twisted to this package
//
//	protocol.Protocol          Protocol, BaseProtocol (embed it)
//	Factory.buildProtocol      Factory.BuildProtocol (nil refuses)
//	transport.write/writeSeq   Transport.Write / Writev
//	transport.loseConnection   Transport.LoseConnection (after the output drains)
//	transport.abortConnection  Transport.AbortConnection
//	getHost / getPeer          Transport.LocalAddr / RemoteAddr
//	ConnectionDone / Lost      ErrConnectionDone / ErrConnectionLost (errors.Is)
//	reactor.listenTCP/run/stop Reactor.ListenTCP / Run / Stop
//	reactor.callLater          Transport.CallLater (on the loop), Reactor.CallLater
//	reactor.callFromThread     Transport.CallFromThread
//	task.LoopingCall           LoopingCall (on a Transport, Reactor or FakeClock)
//	task.Clock                 FakeClock
//
// # Goroutines
//
// gnet runs several event loops (WithLoops), each on its own goroutine, and
// gives each connection to one of them for its whole life. Every callback
// of a connection's Protocol runs on that loop's goroutine, one at a time,
// and its Transport may be used only there (from a callback, a delayed call
// it scheduled with Transport.CallLater, or a function passed to
// CallFromThread). CallFromThread, and the Reactor's methods, are safe from
// any goroutine. Callbacks must never block: a loop serves thousands of
// connections.
//
// # Buffers
//
// The slice passed to DataReceived aliases the loop's read buffer and is
// valid only during the call; the protocol may modify it in place. Write
// copies (or sends) its argument before returning.
//
// # Timers
//
// Never sleep in a callback: schedule. Transport.CallLater runs a function
// on the connection's loop later and returns a DelayedCall to Cancel or
// Reset (an idle timeout is one DelayedCall pushed back on every read); a
// LoopingCall repeats one on a steady cadence (a heartbeat). Neither is
// cancelled for you: stop them in ConnectionLost.
//
// gnet has no per-loop timers, so the reactor keeps one timer heap per event
// loop (O(log n) add and cancel, O(1) Reset to a later time, no allocation
// on Reset) and one goroutine that sleeps until the earliest deadline and
// has each loop run its due calls on its own goroutine. 100,000 pending
// timers cost one small struct each and no goroutines. Time comes from a
// Clock; tests use FakeClock and Advance instead of sleeping.
//
// # Crossing event loops
//
// A connection's Transport belongs to its loop. To reach it from anywhere
// else (a connection on another loop, a goroutine that did blocking work, a
// shutdown) hand a function to its Transport.CallFromThread: it runs on the
// right goroutine between callbacks. Copy any lent bytes before sending
// them across. Transport.Loop tells which loop a connection is on, so state
// kept per loop needs no lock; Reactor.ForEachLoop and ForEachProtocol run a
// function on every loop (gathering counters, telling every connection to
// close).
//
// # A peer that does not read
//
// gnet reads every readable socket and queues output without bound: there
// is no backpressure. Watch Transport.OutboundBuffered after writing and
// drop (AbortConnection) or close a peer whose backlog passes a limit you
// choose and document.
//
// # Out of descriptors
//
// Every connection is a descriptor. When accept(2) fails for want of one
// (EMFILE, ENFILE) or of kernel memory, the reactor does not stop: the gnet
// it is built on (patched, third_party/gnet/PATCH.md) closes each pending
// connection at once through a spare descriptor, or, when even that fails,
// stops polling the listener for a backoff (10ms doubling to 1s). Open
// connections are untouched; accepting resumes by itself. Reactor.AcceptStats
// counts both, and the reactor logs them at most once per ShedLogInterval.
// Keep your own connection cap below the open-file limit so that ordinary
// overload gets an answer (a 503, say) rather than a closed connection.
//
// # Closing
//
// LoseConnection waits until everything written has been taken by the
// socket (gnet itself gives pending output only one try at close), then
// half-closes and lingers briefly for the peer's FIN. AbortConnection
// resets the connection at once. Either way ConnectionLost is called
// exactly once, never inside another callback.
//
// As in Twisted by default, a peer's half-close counts as a close: when the
// peer shuts down its sending side, gnet closes the connection (giving queued
// output one try) and ConnectionLost follows with ErrConnectionDone.
//
// # Panics
//
// A panic in a callback is recovered and logged; the connection it
// belonged to is aborted. Other connections are not affected.
//
// # Testing
//
// Test a Protocol as Twisted does, without sleeps: give the reactor a
// FakeClock (WithClock) and move time with Advance, which runs every call
// that comes due on its own loop before it returns; feed DataReceived the
// same input in pieces of every size. A reactor on "127.0.0.1:0" with
// Start runs a real server over loopback in a test (Addr has the port).
package reactor
