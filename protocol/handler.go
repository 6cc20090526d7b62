package protocol

import "github.com/wsreactor/wsreactor/frame"

// Handler is the application side of a connection: what Twisted's
// WebSocketServerProtocol subclasses override. A Server builds one Handler
// per connection when its opening handshake succeeds; its methods are called
// on the connection's event-loop goroutine, one at a time.
type Handler interface {
	// OnOpen is called once, when the opening handshake has succeeded
	// (RFC 6455 §4.2.2), before any message data. Output written here
	// follows the 101 response in the same write.
	OnOpen(c *Conn)

	// OnData is the streaming callback: a piece of a message's data as it
	// arrives, whatever the framing (RFC 6455 §5.4). op is the message's
	// opcode (OpText or OpBinary) on every piece; first marks the
	// message's first piece, fin its last; every message gets at least one
	// call with fin set (empty when the last frame brought nothing). Text
	// has been validated as UTF-8 (§8.1) up to a code-point boundary: a
	// code point split across reads or fragments is held back until it is
	// complete. data is valid only until OnData returns and must not be
	// kept; it may be modified.
	OnData(c *Conn, op frame.Opcode, data []byte, first, fin bool)

	// OnClose is called once for a connection that was opened: when the
	// client's close frame arrives (its code, CloseNoStatus for an empty
	// body, and its reason), or when the TCP connection is lost without
	// one (CloseAbnormal, ""), including after the server failed the
	// connection. Output is no longer possible.
	OnClose(c *Conn, code frame.CloseCode, reason string)
}

// BaseHandler is an embeddable Handler that does nothing, as Twisted's
// Protocol base class: embed it and override what you need.
type BaseHandler struct{}

// OnOpen does nothing.
func (BaseHandler) OnOpen(*Conn) {}

// OnData does nothing: the data is dropped.
func (BaseHandler) OnData(*Conn, frame.Opcode, []byte, bool, bool) {}

// OnClose does nothing.
func (BaseHandler) OnClose(*Conn, frame.CloseCode, string) {}
