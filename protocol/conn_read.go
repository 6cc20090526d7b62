package protocol

import (
	"math"
	"strings"

	"github.com/wsreactor/wsreactor/frame"
)

// The read side of an open connection: frames (RFC 6455 §5), messages
// (§5.4), control frames (§5.5) and UTF-8 (§5.6, §8.1).

// readFrames decodes p, which follows whatever came before: a frame may
// have started in an earlier read and may end in a later one. It stops at
// the first error, and as soon as the connection stops reading (a close
// sent or received): "Nothing received after a close is processed".
func (c *Conn) readFrames(p []byte) {
	var ev frame.Event // NextInto fills it in place: no Event copied per step
	for len(p) > 0 && (c.state == stateOpen || c.state == stateCloseSent) {
		n, err := c.dec.NextInto(p, &ev)
		p = p[n:]
		if err != nil {
			c.failErr(err)
			return
		}
		switch ev.Kind {
		case frame.KindHeader:
			c.onHeader(&ev.Header, ev.End)
		case frame.KindPayload:
			if c.frameOp.IsControl() {
				c.onControlData(ev.Data, ev.End)
			} else {
				c.onData(ev.Data, ev.End)
			}
		}
	}
}

// onHeader applies the rules of one frame (RFC 6455 §5.1, §5.2, §5.5, via
// frame.CheckClientFrame) and those between frames (§5.4): a continuation
// needs a message in progress, a new text or binary frame needs none. It
// also applies MaxMessageSize to the length the header declares, before
// any of that payload is read (§7.4.1, 1009). end: the frame has no payload.
func (c *Conn) onHeader(h *frame.Header, end bool) {
	// A masked data frame with no RSV bit passes every rule of
	// CheckClientFrame; only other frames pay for the full check (which
	// copies the Header).
	if !h.Masked || h.Rsv != 0 || h.Opcode > frame.OpBinary {
		// RSV1 marks a compressed message where permessage-deflate was
		// negotiated, on the first frame of a data message only (RFC 7692
		// §6.1: not on control frames, §6: not on continuations).
		var allowed byte
		if c.dfl.on() && (h.Opcode == frame.OpText || h.Opcode == frame.OpBinary) {
			allowed = rsv1 >> 4
		}
		if err := frame.CheckClientFrame(*h, allowed); err != nil {
			c.failErr(err)
			return
		}
	}
	c.frameOp = h.Opcode
	if h.Opcode.IsControl() {
		if end {
			c.onControl(nil)
		}
		return
	}
	if h.Opcode == frame.OpContinuation {
		if c.msgOp == 0 {
			c.failErr(frame.ErrUnexpectedContinuation)
			return
		}
	} else {
		if c.msgOp != 0 {
			c.failErr(frame.ErrExpectedContinuation)
			return
		}
		c.msgOp = h.Opcode
		c.dfl.set(dflReadComp, h.Rsv != 0)
		c.slack = max(c.slack, c.msgLen) // the last message's echo may still be unread
		c.msgLen = 0
	}
	// A compressed message's limit is on its inflated size (inflateFeed);
	// its compressed size may exceed that by deflate's worst-case
	// expansion of incompressible data, given a generous 1/8 here.
	if max := c.srv.cfg.MaxMessageSize; max > 0 && c.msgLen+h.Length > uint64(max)+c.compSlack(max) {
		c.failErr(frame.ErrMessageTooBig)
		return
	}
	c.msgLen += min(h.Length, math.MaxUint64/2-c.msgLen) // saturates: the length is untrusted
	c.frameFin = h.Fin
	if end {
		c.onData(nil, true)
	}
}

// onControlData gathers a control frame's payload (at most 125 bytes,
// §5.5): used in place when it arrives whole, copied into a pooled buffer
// when split across reads.
func (c *Conn) onControlData(d []byte, end bool) {
	if c.ctl == nil {
		if end {
			c.onControl(d)
			return
		}
		c.ctl = ctlPool.Get().(*ctlBuf)
		c.ctl.n = 0
		c.recount()
	}
	c.ctl.n += copy(c.ctl.b[c.ctl.n:], d)
	if end {
		cb := c.ctl
		c.ctl = nil
		c.onControl(cb.b[:cb.n])
		ctlPool.Put(cb)
		c.recount()
	}
}

// onControl acts on a whole control frame, which may come between the
// fragments of a message (§5.4, §5.5). A ping gets a pong with the same
// payload (§5.5.3: "A Pong frame sent in response to a Ping frame must have
// identical Application data"); a pong is only traffic (§5.5.3: "A response
// to an unsolicited Pong frame is not expected").
func (c *Conn) onControl(payload []byte) {
	switch c.frameOp {
	case frame.OpPing:
		if c.state == stateOpen {
			b := c.buf()
			*b = frame.AppendFrame(*b, true, frame.OpPong, payload)
		}
	case frame.OpClose:
		c.onClose(payload)
	}
}

// onClose answers the client's close frame (§5.5.1, §7.1.5): "If an
// endpoint receives a Close frame and did not previously send a Close
// frame, the endpoint MUST send a Close frame in response ... typically
// echos the status code it received" (1000 for an empty body). Then "The
// server MUST close the underlying TCP connection immediately". A 1-byte
// body or a code not valid on the wire fails the connection with 1002, a
// reason that is not UTF-8 with 1007.
func (c *Conn) onClose(payload []byte) {
	code, reason, err := frame.ParseCloseBody(payload)
	slot := closeSlot(code)
	if err != nil {
		slot = NumCloseSlots - 1 // "other"
	}
	c.stats().ClosesIn[slot]++
	if c.state == stateCloseSent {
		// The close handshake we started is complete (§7.1.3).
		c.closing()
		if err == nil {
			c.notify(code, string(reason))
		}
		return
	}
	if err != nil {
		c.failErr(err)
		return
	}
	reply := code
	if reply == frame.CloseNoStatus {
		reply = frame.CloseNormal
	}
	c.appendClose(reply, "")
	c.closing()
	c.notify(code, string(reason))
}

// onData takes a piece of a data frame's payload (possibly empty when the
// frame is); end marks the frame's last piece. A compressed message's
// payload is inflated first (deflate_read.go).
func (c *Conn) onData(d []byte, end bool) {
	fin := end && c.frameFin
	if c.state != stateOpen {
		// Our close is sent: data is discarded (§5.5.1, §7.1.2); only the
		// message boundaries are followed.
		if fin {
			c.msgOp = 0
		}
		return
	}
	if c.dfl.has(dflReadComp) {
		c.inflateMore(d, fin)
		return
	}
	c.onPlain(d, fin)
}

// compSlack is how far a compressed message's wire size may pass
// MaxMessageSize (max).
func (c *Conn) compSlack(max int64) uint64 {
	if !c.dfl.has(dflReadComp) {
		return 0
	}
	return uint64(max/8 + 1024)
}

// onPlain takes a piece of a message's data (inflated when it was
// compressed). Text goes through the UTF-8 validator; a code point split
// across reads or fragments is held back until it is complete.
func (c *Conn) onPlain(d []byte, fin bool) {
	op := c.msgOp
	if op != frame.OpText {
		c.deliver(op, d, fin)
		return
	}
	complete, ok := c.utf8.Validate(d)
	if !ok || (fin && !c.utf8.AtBoundary()) {
		// §8.1: "When an endpoint is to interpret a byte stream as UTF-8
		// but finds that the byte stream is not, in fact, a valid UTF-8
		// stream, that endpoint MUST _Fail the WebSocket Connection_";
		// this includes a message that ends inside a code point.
		c.failErr(frame.ErrInvalidUTF8)
		return
	}
	if c.nheld > 0 {
		need := seqLen(c.held[0]) - int(c.nheld)
		if complete == 0 {
			// d continues the held code point without completing it.
			c.nheld += uint8(copy(c.held[c.nheld:], d))
			return
		}
		n := int(c.nheld) + copy(c.held[c.nheld:], d[:need])
		c.nheld = 0
		d, complete = d[need:], complete-need
		last := fin && len(d) == 0
		c.deliver(op, c.held[:n], last)
		if last || c.state != stateOpen {
			return
		}
	}
	c.deliver(op, d[:complete], fin)
	if rest := d[complete:]; len(rest) > 0 {
		c.nheld = uint8(copy(c.held[:], rest))
	}
}

// deliver hands a validated piece of message data to the handler. An empty
// piece is delivered only when it ends the message.
func (c *Conn) deliver(op frame.Opcode, d []byte, fin bool) {
	if len(d) == 0 && !fin {
		return
	}
	first := !c.delivered
	c.delivered = !fin
	if fin {
		c.msgOp = 0
		c.utf8.Reset()
	}
	if c.state == stateOpen {
		st, t := c.stats(), typeIndex(op)
		st.BytesIn[t] += uint64(len(d))
		if fin {
			st.MessagesIn[t]++
		}
		c.h.OnData(c, op, d, first, fin)
	}
}

// seqLen is the length of the UTF-8 sequence that lead byte b starts.
func seqLen(b byte) int {
	switch {
	case b >= 0xF0:
		return 4
	case b >= 0xE0:
		return 3
	}
	return 2
}

// failErr fails the connection for a protocol error carrying its close code
// (a *frame.CloseError, possibly wrapped; others close with 1011). The close
// reason is the error's text without its "frame: " prefix and code suffix,
// so it quotes the offending value where the error does.
func (c *Conn) failErr(err error) {
	reason := strings.TrimPrefix(err.Error(), "frame: ")
	if i := strings.LastIndex(reason, " (close "); i >= 0 {
		reason = reason[:i]
	}
	c.fail(frame.CodeOf(err), reason)
}
