package protocol

import (
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// A connection has at most one timer at a time (Transport.CallLater),
// created when first needed (one allocation) and re-armed with Reset: the handshake timeout
// until the upgrade, then the ping timer while open, then the close timeout.
// Traffic never touches the timer: DataReceived only sets sawTraffic, and
// the ping timer looks at it when it fires.

// timerKind says what the connection's timer is for.
type timerKind uint8

const (
	timerNone      timerKind = iota
	timerHandshake           // HandshakeTimeout: drop a connection that did not upgrade in time
	timerPing                // PingInterval: ping a silent connection, close a dead one
	timerClose               // CloseTimeout: abort a connection whose close did not complete
)

// arm (re)starts the timer as kind, to fire after d; d <= 0 stops it.
func (c *Conn) arm(kind timerKind, d time.Duration) {
	if d <= 0 {
		c.stopTimer()
		return
	}
	c.tkind = kind
	if c.timer != nil {
		c.timer.Reset(d)
		return
	}
	c.timer = c.t.CallLater(d, c.onTimer)
}

// stopTimer cancels the timer, if any, and drops it.
func (c *Conn) stopTimer() {
	if c.timer != nil {
		c.timer.Cancel()
		c.timer = nil
	}
	c.tkind = timerNone
}

// onTimer runs when the timer fires, on the connection's event loop.
func (c *Conn) onTimer() {
	if c.state == stateLost {
		return
	}
	switch c.tkind {
	case timerHandshake:
		// RFC 6455 §4.2.1 owes no response to half a request.
		st := c.stats()
		st.Timeouts[TimeoutHandshake]++
		st.HandshakeFailures[CauseTimeout]++
		c.abort()
	case timerClose:
		c.stats().Timeouts[TimeoutClose]++
		c.abort()
	case timerPing:
		c.onPingTimer()
	}
}

// abort drops the connection at once (AbortConnection): pending output is
// lost, so it no longer counts in the memory budget.
func (c *Conn) abort() {
	c.state = stateClosed
	c.tkind = timerNone
	c.t.AbortConnection()
	c.unhold()
}

// onPingTimer: traffic during the last interval => wait another one; silent
// for an interval => ping (RFC 6455 §5.5.2); silent for another interval
// after the ping => the peer is dead: close 1001 "ping timeout", and drop
// TCP after CloseTimeout if the close is not taken.
func (c *Conn) onPingTimer() {
	if c.state != stateOpen {
		return
	}
	d := c.srv.cfg.PingInterval
	switch {
	case c.sawTraffic:
		c.sawTraffic = false
		c.pingOut = false
		c.arm(timerPing, d)
	case !c.pingOut:
		c.pingOut = true
		b := c.buf()
		*b = frame.AppendFrame(*b, true, frame.OpPing, nil)
		c.arm(timerPing, d)
	default:
		c.stats().Timeouts[TimeoutPing]++
		c.fail(frame.CloseGoingAway, "ping timeout")
	}
	c.end()
}
