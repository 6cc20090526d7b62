// Package protocol is the server side of a WebSocket connection (RFC 6455)
// as a Twisted protocol: a state machine fed the connection's bytes in
// whatever pieces they arrive, that reads the HTTP/1.1 opening handshake,
// then frames, applies every rule of §5 and §7, hands message data to the
// application and writes back through a Transport. It builds on package
// frame (the wire codec) and package handshake (the HTTP/1.1 upgrade) and
// knows nothing of sockets or event loops, so a test drives it with a fake
// transport and a fake clock, and package service plugs it into package
// reactor (to run a whole server, use service: this package is the state
// machine inside it).
//
// Read this top to bottom the first time; docs/walkthrough.md in the
// repository follows a byte through all three packages.
//
// # A server in three parts
//
// A Server is what every connection of one listener shares, Twisted's Site:
// the Config (limits, timeouts, subprotocols, origins), the application and
// the count of open connections. The application is a function that builds
// one Handler per connection once its handshake succeeds:
//
//	cfg := protocol.DefaultConfig()
//	cfg.Loops = 4 // the reactor's event loops; service.Start sets it from its own Loops
//	srv := protocol.NewServer(cfg, protocol.Echo)
//
// A Conn is one connection's state machine. It has the three callbacks of a
// Twisted protocol: ConnectionMade(t Transport) once, DataReceived(data)
// for every read, ConnectionLost(reason) once. Make one per connection with
// Server.NewConn (or Server.InitConn inside a larger struct: one
// allocation per connection).
//
// A Transport is what the Conn needs from below: Write, LoseConnection,
// AbortConnection, OutboundBuffered, RemoteAddr and CallLater for its
// timers. A reactor.Transport is one, but for the type CallLater returns;
// package service bridges the two with a three-line adapter
// (service/adapter.go; service.NewFactory builds a reactor.Factory of a
// Server, and service.Start runs a whole server with it, as
// examples/wschat does):
//
//	type transport struct{ reactor.Transport }
//
//	func (t *transport) CallLater(d time.Duration, fn func()) protocol.DelayedCall {
//		return t.Transport.CallLater(d, fn)
//	}
//
// # The opening handshake
//
// Until the upgrade, DataReceived feeds a handshake.Parser (package
// protocol/handshake, the HTTP/1.1 side: parser, errors with their status,
// accept key, responses, origin, subprotocol, extension-list syntax), which
// finds the end of the request head across reads without rescanning and
// checks the request in the order handshake.Parser.Feed documents (RFC 6455
// §4.2.1). The Conn then admits it (Config.Origins, MaxConns, shutdown),
// negotiates permessage-deflate from the client's offer (RFC 7692, when
// Config.Deflate allows it) and answers 101 with the Sec-WebSocket-Accept
// of handshake.AcceptKey, the subprotocol handshake.SelectSubprotocol picks
// from the client's offer and its Sec-WebSocket-Extensions line; bytes that
// followed the head in the same read are decoded as frames at once. A bad
// one gets the HTTP error of its handshake.Error (handshake.AppendHTTPError:
// 400, 403, 405, 426, 431, 503, 505) and the connection closes. A plain GET
// of "/" gets Config.RootPage instead, when the server has one (the
// command's demo page).
//
// # Messages
//
// Once open, the Conn decodes frames with a frame.Decoder, enforces the
// rules between them (masking, fragmentation order, control frames,
// MaxMessageSize, UTF-8 of text) and calls its Handler, Twisted's
// WebSocketServerProtocol:
//
//   - OnOpen(c) after the 101;
//   - OnData(c, op, data, first, fin) for each piece of message data as it
//     arrives, text already validated up to a whole code point;
//   - OnClose(c, code, reason) once, with the client's close code or
//     CloseAbnormal.
//
// Embed BaseHandler and override what you need. Echo streams each piece
// back as it comes, so a message of any size costs no memory; Messages
// adapts a whole-message callback (it gathers the pieces, up to
// MaxMessageSize). Pings are answered by the Conn itself.
//
// # Writing
//
// WriteMessage sends a message, WriteFragment a piece of one, Close starts
// the closing handshake (§7.1.2) and GoingAway closes for a shutdown (1001).
// Everything one DataReceived causes (the 101, echoes, pongs, a close) goes
// out in one Transport.Write when it returns; a write made elsewhere (a
// timer, a function another event loop sent with CallFromThread) goes out at
// once. After every write the Conn checks OutboundBuffered against
// WriteBufferLimit and closes a client that does not read with 1008.
//
// # Memory budget
//
// Per-connection limits do not bound a server with many connections: with
// Config.MemoryBudget set, each Conn also reports what it holds (queued
// output, a partial head, a split control frame) to its event loop's share
// of the Server's Budget, and Budget.Check, run every BudgetCheckInterval
// with the reactor's ForEachLoop, closes the largest holders past the
// budget; echo slack stops being granted before that (see Budget).
//
// # Timers
//
// A Conn holds at most one DelayedCall, re-armed with Reset: the handshake
// timeout, then the ping interval (an idle connection is pinged, then
// closed with 1001 if still silent), then the close timeout. Traffic does
// not touch the timer, so a busy connection pays nothing for it.
//
// # Goroutines and buffers
//
// Every method of Conn, and every Handler callback, runs on the
// connection's event-loop goroutine. The data given to DataReceived and
// OnData is lent for the call only: Conn unmasks it in place, and a Handler
// that keeps data must copy it. Server's methods, and the package's
// functions, are safe from any goroutine.
//
// # Testing
//
// Drive a Conn by hand, as Twisted tests drive a protocol with a
// StringTransport and task.Clock: a Transport that records what is written,
// a CallLater on a fake clock, and the same input fed in pieces of every
// size, down to one byte. ExampleMessages below does it in a few lines; the
// package's own tests (conn_fake_test.go) do it for every rule.
package protocol
