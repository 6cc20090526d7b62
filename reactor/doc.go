// Package reactor is Twisted's reactor model over the gnet event loop: a
// Protocol per connection whose callbacks the reactor calls as events
// happen, a Factory that builds them, a Transport to write and close, and
// delayed calls. It knows nothing of WebSocket or any other protocol.
//
// An echo server, as in Twisted:
//
//	type Echo struct{ reactor.BaseProtocol }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }
//
//	r := reactor.New()
//	r.ListenTCP(":8000", reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return new(Echo) }))
//	r.Run()
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
// gnet has no per-loop timers, so the reactor keeps one timer heap per event
// loop (O(log n) add and cancel, O(1) Reset to a later time, no allocation
// on Reset) and one goroutine that sleeps until the earliest deadline and
// has each loop run its due calls on its own goroutine. 100,000 pending
// timers cost one small struct each and no goroutines. Time comes from a
// Clock; tests use FakeClock and Advance instead of sleeping.
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
package reactor
