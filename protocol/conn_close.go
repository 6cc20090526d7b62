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
	if code != frame.CloseNoStatus && !code.ValidOnWire() && !sendable(code) {
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
func (c *Conn) GoingAway() { c.goAway(frame.CloseGoingAway, "server shutting down") }

// Restarting is GoingAway with close code 1012 (Service Restart, in the
// IANA registry of RFC 6455 §11.7): the server goes away for a restart, and
// the client may reconnect (after a pause of its own choosing). The
// service's -close-spread sends it to each connection at its turn.
//
// Event-loop goroutine only, outside DataReceived.
func (c *Conn) Restarting() { c.goAway(frame.CloseServiceRestart, "server restarting") }

// sendable reports whether the server may send code although a peer's
// close frame with it is refused (frame.CloseCode.ValidOnWire follows RFC
// 6455's own list): the codes IANA registered after the RFC for a server
// going away, 1012 to 1014.
func sendable(code frame.CloseCode) bool {
	return code >= frame.CloseServiceRestart && code <= frame.CloseBadGateway
}

// goAway is GoingAway with code and reason. A connection already lost is
// left alone (a close spread over time may reach it after its client left).
func (c *Conn) goAway(code frame.CloseCode, reason string) {
	switch c.state {
	case stateLost:
		return
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
		c.startClose(code, reason)
	}
	c.end()
}
