package protocol

import "github.com/wsreactor/wsreactor/frame"

// messages adapts a whole-message callback to Handler.
type messages struct {
	BaseHandler
	fn  func(c *Conn, op frame.Opcode, msg []byte)
	buf *[]byte // the message so far, from bufPool; nil between messages
}

// Messages adapts fn, a whole-message callback, to a Handler: the pieces of
// each message are gathered and fn is called once per message with its
// opcode (OpText, already UTF-8-validated, or OpBinary) and its data, valid
// only during the call. A message that arrives as one frame in one read is
// passed without a copy.
//
// The size of a message is bounded by the Server's MaxMessageSize (past it
// the connection is failed with 1009 before fn is called); with
// MaxMessageSize 0 messages are gathered without a bound, so give a limit.
//
// The returned Handler holds the message being gathered: build one per
// connection, as in
//
//	protocol.NewServer(cfg, func() protocol.Handler { return protocol.Messages(fn) })
func Messages(fn func(c *Conn, op frame.Opcode, msg []byte)) Handler {
	return &messages{fn: fn}
}

// OnData gathers data and calls fn on the message's last piece.
func (m *messages) OnData(c *Conn, op frame.Opcode, data []byte, first, fin bool) {
	if first && fin {
		m.fn(c, op, data)
		return
	}
	if m.buf == nil {
		m.buf = getBuf()
	}
	*m.buf = append(*m.buf, data...)
	if fin {
		b := m.buf
		m.buf = nil
		m.fn(c, op, *b)
		putBuf(b)
	}
}

// OnClose drops a message in progress.
func (m *messages) OnClose(*Conn, frame.CloseCode, string) {
	if m.buf != nil {
		putBuf(m.buf)
		m.buf = nil
	}
}
