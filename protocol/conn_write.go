package protocol

import "github.com/wsreactor/wsreactor/frame"

// The write side: server frames are unmasked (RFC 6455 §5.1). Output is
// gathered in a pooled scratch buffer (c.out) and written with one
// Transport.Write per DataReceived, or at once outside DataReceived.

const (
	// flushAt: output gathered during one DataReceived is written early
	// at this size, so a scratch buffer stays small and the write-buffer
	// limit and the memory budget see a read's output at least every
	// flushAt bytes (a message of more is written by itself).
	flushAt = 128 << 10
	// directAt: a payload this large is written by itself, not copied into
	// the scratch buffer.
	directAt = 256 << 10
)

// WriteMessage sends data as one unfragmented message (RFC 6455 §5.4) of
// type op (OpText, whose data must be UTF-8, or OpBinary). data is copied
// or written before WriteMessage returns. It returns ErrClosed once the
// connection is closing, ErrFragmentOrder while a fragmented message is
// being sent. Event-loop goroutine only.
func (c *Conn) WriteMessage(op frame.Opcode, data []byte) error {
	return c.WriteFragment(op, data, true, true)
}

// WriteFragment sends one fragment of a message (RFC 6455 §5.4): first
// marks the message's first fragment, which carries op (OpText or
// OpBinary); the others go as continuations, whatever op; fin marks the
// last. The fragments of a message must be written in order, with no other
// message in between (ErrFragmentOrder). data is copied or written before
// WriteFragment returns. Inside DataReceived the frame joins the read's
// batched output. Event-loop goroutine only.
func (c *Conn) WriteFragment(op frame.Opcode, data []byte, first, fin bool) error {
	switch {
	case c.state != stateOpen:
		return ErrClosed
	case first == c.sending:
		return ErrFragmentOrder
	case first && op != frame.OpText && op != frame.OpBinary:
		return ErrNotDataOpcode
	}
	if first {
		c.sendBin = op == frame.OpBinary
	} else {
		op = frame.OpContinuation
	}
	st, t := c.stats(), 0
	if c.sendBin {
		t = 1
	}
	st.BytesOut[t] += uint64(len(data))
	if fin {
		st.MessagesOut[t]++
	}
	c.sending = !fin
	if c.dfl.on() {
		if first {
			// RSV1 is per message (RFC 7692 §6): a short whole message
			// goes uncompressed (see DeflateConfig.MinSize).
			c.dfl.set(dflWriteComp, !fin || (len(data) > 0 && len(data) >= c.srv.cfg.Deflate.MinSize))
		}
		if c.dfl.has(dflWriteComp) {
			c.writeCompressed(first, fin, op, data)
			c.end()
			return nil
		}
	}
	c.appendFrame(fin, op, data)
	c.end()
	return nil
}

// Close starts the closing handshake (RFC 6455 §7.1.2) with code and reason
// (at most 123 bytes; longer is cut): it sends the close frame after what is
// already written, then waits up to CloseTimeout for the client's close and
// closes TCP. code must be valid on the wire (§7.4) or CloseNoStatus for an
// empty body. It does nothing once a close was sent or received.
// Event-loop goroutine only.
func (c *Conn) Close(code frame.CloseCode, reason string) {
	c.startClose(code, reason)
	c.end()
}

// appendFrame adds a data frame to the output. A continuation that follows
// an unfinished fragment still at the end of the output is merged into it:
// the pieces of a message that arrive in one read go back as one fragment,
// so a client that sends many small fragments does not get as many back
// (some client libraries cap the fragments of a message).
func (c *Conn) appendFrame(fin bool, op frame.Opcode, data []byte) {
	b := c.buf()
	if op == frame.OpContinuation && c.fragEnd != 0 && int(c.fragEnd) == len(*b) && len(*b)+len(data) < flushAt {
		c.extendFragment(fin, data)
		return
	}
	c.fragEnd = 0
	if len(data) >= directAt {
		*b = frame.AppendHeader(*b, fin, op, len(data))
		c.writeOut()
		c.t.Write(data)
		c.checkLimit()
		return
	}
	if len(*b) > 0 && len(*b)+frame.HeaderLen(len(data))+len(data) > flushAt {
		// Write what is gathered first, so that the output grows by at
		// most flushAt between two checks of the write-buffer limit,
		// however much one read brought (-read-buffer): a check that
		// fails the connection ends its data (RFC 6455 §5.5.1).
		c.writeOut()
		if c.state != stateOpen {
			return
		}
	}
	at := len(*b)
	*b = frame.AppendFrame(*b, fin, op, data)
	if len(*b) >= flushAt {
		c.writeOut()
	} else if !fin {
		c.fragAt, c.fragEnd = uint32(at), uint32(len(*b))
	}
}

// extendFragment appends data to the unfinished fragment that ends the
// output, rewriting its header (refitFragment).
func (c *Conn) extendFragment(fin bool, data []byte) {
	*c.out = append(*c.out, data...)
	c.refitFragment(fin)
}

// refitFragment rewrites the header of the fragment at c.fragAt so that it
// covers everything after it in the output, with the minimal length
// encoding (§5.2: its length may grow), FIN set to fin, and the RSV bits
// and opcode it had. An unfinished fragment stays open for extension.
func (c *Conn) refitFragment(fin bool) {
	b := c.out
	at := int(c.fragAt)
	b0 := (*b)[at]
	oldHdr := 2
	switch (*b)[at+1] & 0x7f {
	case 126:
		oldHdr = 4
	case 127:
		oldHdr = 10
	}
	n := len(*b) - at - oldHdr
	var hdr [10]byte
	h := frame.AppendHeader(hdr[:0], fin, frame.Opcode(b0&0x0f), n)
	h[0] |= b0 & 0x70
	if grow := len(h) - oldHdr; grow > 0 {
		*b = append(*b, hdr[:grow]...)
		copy((*b)[at+len(h):], (*b)[at+oldHdr:len(*b)-grow])
	}
	copy((*b)[at:], h)
	c.fragEnd = uint32(len(*b))
	if fin {
		c.fragEnd = 0
	}
}

// appendClose adds a close frame (§5.5.1) to the output.
func (c *Conn) appendClose(code frame.CloseCode, reason string) {
	c.stats().ClosesOut[closeSlot(code)]++
	b := c.buf()
	*b = frame.AppendClose(*b, code, reason)
}

// buf returns the output buffer, borrowing one if needed.
func (c *Conn) buf() *[]byte {
	if c.out == nil {
		c.out = getBuf()
	}
	return c.out
}

// end finishes an operation that may have produced output: outside
// DataReceived the output is written now (inside, DataReceived does it
// once when it returns).
func (c *Conn) end() {
	if !c.inRead {
		c.flush()
	}
}

// writeOut writes the output gathered so far, keeping the buffer, and
// applies the write-buffer limit.
func (c *Conn) writeOut() {
	if c.out == nil || len(*c.out) == 0 || c.state == stateLost {
		return
	}
	c.t.Write(*c.out)
	*c.out = (*c.out)[:0]
	c.fragEnd = 0
	c.checkLimit()
}

// flush writes the gathered output, gives the buffer back and, when the
// connection is closing, asks the transport to close once the output is
// flushed.
func (c *Conn) flush() {
	for c.out != nil && len(*c.out) > 0 && c.state != stateLost {
		c.writeOut() // may add a close frame (checkLimit): loop to write it
	}
	if c.out != nil {
		putBuf(c.out)
		c.out = nil
	}
	if c.lose {
		c.lose = false
		if c.state != stateLost {
			c.t.LoseConnection()
		}
	}
}

// checkLimit applies WriteBufferLimit after a write: a client that does not
// read what it is sent is closed with 1008 (RFC 6455 §7.4.1, "policy
// violation") rather than let its output grow without bound. It also
// reports the output to the memory budget (conn_budget.go).
//
// Most client libraries write a whole message before they read, so the echo
// of a large message backs up while the client is still sending it. The
// limit therefore allows, on top of WriteBufferLimit, the size of the message
// being received (or of the last one, until its echo has been read),
// capped at MaxEchoSlack. A client that keeps sending without reading
// passes that within one message and is closed. While the memory budget
// refuses slack, output past WriteBufferLimit may not grow at all.
func (c *Conn) checkLimit() {
	lim, b := c.srv.cfg.WriteBufferLimit, c.srv.budget
	if b == nil && (lim <= 0 || c.state != stateOpen) {
		return
	}
	backlog := c.t.OutboundBuffered()
	var before, now int64
	if b != nil {
		before, now = c.account(b, backlog)
	}
	if lim <= 0 || c.state != stateOpen {
		return
	}
	bl := uint64(backlog)
	c.slack = min(c.slack, bl) // what the client has read is no longer owed
	if bl <= uint64(lim) {
		return
	}
	if bl > uint64(lim)+min(max(c.slack, c.msgLen), MaxEchoSlack) {
		c.stats().WriteLimitCloses++
		c.fail(frame.ClosePolicyViolation, "write buffer limit exceeded")
	} else if b != nil {
		c.refuseSlack(b, before, now)
	}
}
