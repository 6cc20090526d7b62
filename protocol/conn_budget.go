package protocol

import (
	"unsafe"

	"github.com/wsreactor/wsreactor/frame"
)

// The connection's side of the memory budget (Budget): it reports what it
// holds to its event loop's shard whenever that may have changed (after a
// write, a piece of request head, a split control frame), and refuses echo
// slack while the budget does.

// ctlHeld is what a control frame split across reads holds (its ctlBuf).
const ctlHeld = int64(unsafe.Sizeof(ctlBuf{}))

// heldNow is what c holds with backlog bytes of output queued: the output,
// a partial request head, a split control frame, permessage-deflate state.
func (c *Conn) heldNow(backlog int) int64 {
	n := int64(backlog)
	if c.hp != nil {
		n += int64(c.hp.Held())
	}
	if c.ctl != nil {
		n += ctlHeld
	}
	if c.zr != nil {
		n += c.zr.held()
	}
	return n
}

// account reports to b what c holds with backlog bytes of output queued,
// and returns what it held before and holds now. A connection that holds
// nothing and held nothing costs a comparison.
func (c *Conn) account(b *Budget, backlog int) (before, now int64) {
	now = c.heldNow(backlog)
	if (now == 0 && c.hidx == 0) || c.state == stateLost {
		return 0, 0
	}
	return b.shards[c.loop].set(b, c, now), now
}

// recount is account with the transport's current backlog, for changes
// that are not writes.
func (c *Conn) recount() {
	if b := c.srv.budget; b != nil {
		c.account(b, c.t.OutboundBuffered())
	}
}

// unhold reports that c holds nothing any more: it is lost, or dropped
// with its output.
func (c *Conn) unhold() {
	if c.hidx != 0 {
		b := c.srv.budget
		b.shards[c.loop].set(b, c, 0)
	}
}

// refuseSlack is checkLimit's budget rule for a connection whose output is
// past WriteBufferLimit on echo slack: while the budget refuses slack
// (Budget, from 7/8 of it), such output may not grow, and a connection
// whose holding grew (from before to now) is closed with 1008 (RFC 6455
// §7.4.1, "policy violation").
func (c *Conn) refuseSlack(b *Budget, before, now int64) {
	if now > before && b.pressure.Load() {
		b.refusals.Add(1)
		c.fail(frame.ClosePolicyViolation, "memory budget exceeded")
	}
}
