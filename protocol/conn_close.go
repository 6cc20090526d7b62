package protocol

import "github.com/wsreactor/wsreactor/frame"

// Closing (RFC 6455 §7): failing the connection, the closing handshake,
// graceful shutdown.

// fail fails the connection (§7.1.7): "the endpoint SHOULD send a Close
// frame with an appropriate status code (Section 7.4) before proceeding to
// _Close the WebSocket Connection_" — unless a close was already sent. TCP
// is closed once the close frame is flushed, or aborted after CloseTimeout.
func (c *Conn) fail(code frame.CloseCode, reason string) {
	switch c.state {
	case stateOpen:
		c.appendClose(code, reason)
		c.closing()
	case stateCloseSent:
		c.closing()
	}
}

// closing stops reading: input is discarded from now on, TCP is closed
// once the pending output is written (LoseConnection), and aborted if that
// has not happened within CloseTimeout (a client that does not read).
func (c *Conn) closing() {
	c.state = stateClosed
	c.lose = true
	c.arm(timerClose, c.srv.cfg.CloseTimeout)
}

// startClose sends a close frame and waits for the client's (§7.1.2), up to
// CloseTimeout; with no CloseTimeout it closes TCP once the frame is
// flushed.
func (c *Conn) startClose(code frame.CloseCode, reason string) {
	if c.state != stateOpen {
		return
	}
	if code != frame.CloseNoStatus && !code.ValidOnWire() {
		code = frame.CloseNoStatus
	}
	c.appendClose(code, reason)
	if d := c.srv.cfg.CloseTimeout; d > 0 {
		c.state = stateCloseSent
		c.arm(timerClose, d)
	} else {
		c.closing()
	}
}

// GoingAway closes the connection for a graceful shutdown (RFC 6455
// §7.4.1, 1001): every echo owed for data already received has been written
// (output is written when each DataReceived returns), so the close frame
// "server shutting down" follows them; then the closing handshake runs as
// in Close, bounded by CloseTimeout.
//
// A connection still in its opening handshake is closed at once if it sent
// nothing yet; otherwise it gets 503 when its request head is complete (or
// is dropped by the handshake timeout, shortened to CloseTimeout).
//
// Event-loop goroutine only, outside DataReceived (the reactor runs it as a
// separate event on the connection's loop).
func (c *Conn) GoingAway() {
	switch c.state {
	case stateHandshake:
		c.goingAway = true
		if c.hp == nil {
			c.state = stateClosed
			c.lose = true
			c.arm(timerClose, c.srv.cfg.CloseTimeout)
		} else if d := c.srv.cfg.CloseTimeout; d > 0 && (c.tkind != timerHandshake || d < c.srv.cfg.HandshakeTimeout) {
			c.arm(timerHandshake, d)
		}
	case stateOpen:
		c.startClose(frame.CloseGoingAway, "server shutting down")
	}
	c.end()
}
