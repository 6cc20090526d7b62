//go:build linux

package load

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// consumeRaw checks bytes from a plain TCP echo: they must equal, in order,
// the masked frames we wrote. A message is complete when its frame's last
// byte is back. Bytes are compared in one span up to the end of the batch;
// only a span that differs is walked frame by frame to count the messages
// that differ. p is lent for the call only.
func (c *conn) consumeRaw(p []byte) {
	fs := c.l.r.fs
	f := fs.frameLen
	written := c.wseq*uint64(f) + uint64(c.woff)
	received := c.rseq*uint64(f) + uint64(c.roff)
	if uint64(len(p)) > written-received {
		c.mismatch(errUnexpectedData.Error())
		c.finish(false)
		return
	}
	for len(p) > 0 {
		j := int(c.rseq % uint64(fs.k))
		exp := c.b.req[j*f+c.roff : fs.k*f]
		n := min(len(p), len(exp))
		done := (c.roff + n) / f
		if bytes.Equal(p[:n], exp[:n]) {
			if done > 0 && c.msgBad {
				c.msgBad = false
				c.mismatch("echoed bytes differ from those sent")
			}
		} else {
			for off, r := 0, c.roff; off < n; {
				seg := min(f-r, n-off)
				if !bytes.Equal(p[off:off+seg], exp[off:off+seg]) {
					c.msgBad = true
				}
				off, r = off+seg, r+seg
				if r == f {
					if c.msgBad {
						c.msgBad = false
						c.mismatch("echoed bytes differ from those sent")
					}
					r = 0
				}
			}
		}
		c.roff = (c.roff + n) % f
		p = p[n:]
		if done > 0 && !c.completeMessages(done) {
			return
		}
	}
}

// consumeFrames decodes server frames incrementally (RFC 6455 §5.2): a header
// split over reads is gathered in c.hdr, payload is compared chunk by chunk
// with the payload sent, wherever the server's frame boundaries fall (it may
// fragment a message, §5.4). p is lent for the call only and never kept.
func (c *conn) consumeFrames(p []byte) {
	for len(p) > 0 {
		if !c.inFr {
			var h []byte
			if c.hn == 0 && len(p) >= 2 {
				if need := serverHeaderLen(p[1]); len(p) >= need {
					h, p = p[:need], p[need:]
				}
			}
			if h == nil {
				for c.hn < 2 && len(p) > 0 {
					c.hdr[c.hn] = p[0]
					c.hn++
					p = p[1:]
				}
				if c.hn < 2 {
					return
				}
				need := serverHeaderLen(c.hdr[1])
				for int(c.hn) < need && len(p) > 0 {
					c.hdr[c.hn] = p[0]
					c.hn++
					p = p[1:]
				}
				if int(c.hn) < need {
					return
				}
				h = c.hdr[:need]
				c.hn = 0
			}
			if !c.startFrame(h) {
				return
			}
			continue
		}
		n := len(p)
		if uint64(n) > c.rem {
			n = int(c.rem)
		}
		c.payload(p[:n])
		p = p[n:]
		c.rem -= uint64(n)
		if c.rem == 0 {
			c.inFr = false
			if !c.endFrame() {
				return
			}
		}
	}
}

// serverHeaderLen is the length of a frame header given its second byte,
// not counting a masking key (a server never masks, RFC 6455 §5.1).
func serverHeaderLen(b1 byte) int {
	switch b1 & 0x7F {
	case 126:
		return 4
	case 127:
		return 10
	}
	return 2
}

// startFrame checks a server frame header (RFC 6455 §5.1, §5.2, §5.4, §5.5).
func (c *conn) startFrame(h []byte) bool {
	b0, b1 := h[0], h[1]
	if b1&0x80 != 0 {
		return c.protocolError("masked frame from the server (RFC 6455 §5.1)", h)
	}
	op, fin := b0&0x0F, b0&0x80 != 0
	if rsv := b0 & 0x70; rsv != 0 && (rsv != rsv1 || !c.deflate || (op != opText && op != opBinary)) {
		return c.protocolError("reserved bits set (RFC 6455 §5.2; RSV1 only on the first frame of a message once permessage-deflate is agreed, RFC 7692 §6)", h)
	}
	length := uint64(b1 & 0x7F)
	switch length {
	case 126:
		length = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		length = binary.BigEndian.Uint64(h[2:])
		if length>>63 != 0 {
			return c.protocolError("64-bit length with the top bit set (RFC 6455 §5.2)", h)
		}
	}
	switch op {
	case opContinuation:
		if !c.inMsg {
			return c.protocolError("continuation frame outside a message (RFC 6455 §5.4)", h)
		}
	case opText, opBinary:
		if c.inMsg {
			return c.protocolError("new message inside a fragmented one (RFC 6455 §5.4)", h)
		}
		c.inMsg = true
		c.msgOff = 0
		c.unsol = c.rseq >= c.iseq
		c.msgBad = op != c.l.r.fs.op
		c.zmsg = b0&rsv1 != 0
		c.zbuf = c.zbuf[:0]
		c.msgWire = 0
	case opClose, opPing, opPong:
		if !fin || length > 125 {
			return c.protocolError("fragmented or long control frame (RFC 6455 §5.5)", h)
		}
		c.cbuf = c.cbuf[:0]
	default:
		return c.protocolError("reserved opcode (RFC 6455 §5.2)", h)
	}
	c.fop, c.ffin, c.rem = op, fin, length
	if op < opClose {
		c.msgWire += len(h) + int(length)
	}
	if length == 0 {
		return c.endFrame()
	}
	c.inFr = true
	return true
}

// payload compares a chunk of a data frame with the bytes the message must
// carry, or gathers a control frame's payload.
func (c *conn) payload(chunk []byte) {
	if c.fop >= opClose {
		c.cbuf = append(c.cbuf, chunk...)
		return
	}
	if c.zmsg {
		// Gathered whole and checked at the end (checkInflated); a DEFLATE
		// stream that grows past 2× the message plus 1 KiB is no echo of it.
		if !c.msgBad && !c.unsol {
			if len(c.zbuf)+len(chunk) > 2*c.l.r.fs.size+1024 {
				c.msgBad = true
			} else {
				c.zbuf = append(c.zbuf, chunk...)
			}
		}
		return
	}
	if !c.msgBad && !c.unsol {
		size := c.l.r.fs.size
		j := int(c.rseq % uint64(c.l.r.fs.k))
		exp := c.b.payload[j*size : (j+1)*size]
		if c.msgOff+len(chunk) > len(exp) || !bytes.Equal(chunk, exp[c.msgOff:c.msgOff+len(chunk)]) {
			c.msgBad = true
		}
	}
	c.msgOff += len(chunk)
}

// endFrame acts on a complete frame: answers a ping (RFC 6455 §5.5.2), handles
// a close (§5.5.1), and completes a message at its final fragment.
func (c *conn) endFrame() bool {
	switch c.fop {
	case opClose:
		return c.onCloseFrame()
	case opPing:
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], c.l.rng.Uint32())
		c.ctl = appendMaskedFrame(c.ctl, opPong, key, c.cbuf)
		return c.flush()
	case opPong:
		return true
	}
	if !c.ffin {
		return true
	}
	c.inMsg = false
	if c.zmsg {
		c.zmsg = false
		if c.l.meas {
			c.l.st.zmsgs++
		}
		if !c.msgBad && !c.unsol {
			fs := c.l.r.fs
			j := int(c.rseq % uint64(fs.k))
			c.msgBad = !c.checkInflated(c.b.payload[j*fs.size : (j+1)*fs.size])
		}
	} else if c.msgOff != c.l.r.fs.size {
		c.msgBad = true
	}
	if c.unsol {
		c.mismatch("message echoed that was never sent")
		return true
	}
	return c.completeMessage()
}

// completeMessage counts a fully echoed message (a mismatch if any of its
// bytes differed).
func (c *conn) completeMessage() bool {
	if c.msgBad {
		c.msgBad = false
		c.mismatch("echoed bytes differ from those sent")
	}
	return c.completeMessages(1)
}

// completeMessages counts n fully echoed messages and their latencies, then
// lets the mode decide what comes next once nothing is outstanding.
func (c *conn) completeMessages(n int) bool {
	l := c.l
	seq := c.rseq
	c.rseq += uint64(n)
	if l.meas {
		l.st.msgs += int64(n)
		l.st.bytes += int64(n) * int64(l.r.fs.size)
		fs := l.r.fs
		if l.r.cfg.Raw {
			l.st.wireOut += int64(n) * int64(fs.frameLen)
			l.st.wireIn += int64(n) * int64(fs.frameLen)
		} else {
			start, end := c.b.span(int(seq % uint64(fs.k)))
			l.st.wireOut += int64(end - start)
			l.st.wireIn += int64(c.msgWire)
		}
		if c.times == nil {
			l.record(l.now-c.sendAt, int64(n))
		} else {
			for s := seq; s < c.rseq; s++ {
				l.record(l.now-c.times[s&uint64(len(c.times)-1)], 1)
			}
		}
	}
	if c.rseq == c.iseq {
		return l.onIdle(c)
	}
	return true
}

// mismatch counts a message whose echo differs from what was sent; the first
// few per loop are described in the report.
func (c *conn) mismatch(what string) {
	c.l.st.mismatches++
	if c.l.st.mismatches <= 3 {
		c.l.r.note(fmt.Sprintf("load: mismatch on connection %d: %s", c.target.index, what))
	}
}

func (c *conn) protocolError(what string, h []byte) bool {
	c.fail(kindProtocol, fmt.Errorf("load: %s: header %x", what, h))
	return false
}

// onCloseFrame handles the server's close frame (RFC 6455 §5.5.1, §7.4):
// the answer to ours, or the server ending the connection on its own (an error).
func (c *conn) onCloseFrame() bool {
	body := c.cbuf
	code := 1005
	if len(body) == 1 {
		return c.protocolError("close body of one byte (RFC 6455 §5.5.1)", body)
	}
	if len(body) >= 2 {
		code = int(binary.BigEndian.Uint16(body))
		if !validCloseCode(code) || !utf8.Valid(body[2:]) {
			return c.protocolError(fmt.Sprintf("invalid close code %d or reason (RFC 6455 §7.4)", code), body)
		}
	}
	if c.state == stClosing {
		c.gotClose = true
		c.dtok++
		c.l.addTimer(timer{at: c.l.now + int64(linger), id: c.id, gen: c.gen, kind: timerLinger})
		return true
	}
	reason := ""
	if len(body) > 2 {
		reason = string(body[2:])
	}
	c.fail(kindClosed, fmt.Errorf("load: server closed with %d %q and %d echoes outstanding", code, reason, c.iseq-c.rseq))
	return false
}

// validCloseCode: the codes an endpoint may send (RFC 6455 §7.4.1, §7.4.2).
func validCloseCode(code int) bool {
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)
}

// startClose begins the closing handshake once nothing is owed: our close
// frame, then the server's close and its FIN (RFC 6455 §7.1.2). Raw mode just closes.
func (c *conn) startClose() {
	if c.state != stOpen {
		return
	}
	if c.l.r.cfg.Raw {
		c.finish(true)
		return
	}
	if c.wseq < c.iseq {
		c.fail(kindTimeout, fmt.Errorf("%w: output still blocked at close", errTimeout))
		return
	}
	c.state = stClosing
	cl := c.l.r.fs.close
	c.ctl = append(c.ctl, cl...)
	c.setDeadline(c.l.r.cfg.Timeout)
	c.flush()
}

// onSendTimer sends every message whose intended time has come (fixed-rate
// mode). Each keeps its intended time, so a late send (a slow server, or this
// loop busy) shows in the latency instead of being hidden.
func (c *conn) onSendTimer() {
	l := c.l
	if !l.sending || c.state != stOpen {
		return
	}
	next := c.phase + int64(float64(c.iseq)*l.r.period)
	for next <= l.now {
		if c.iseq-c.rseq >= uint64(len(c.times)) && !c.growTimes() {
			return
		}
		c.times[c.iseq&uint64(len(c.times)-1)] = next
		c.iseq++
		next = c.phase + int64(float64(c.iseq)*l.r.period)
	}
	if !c.flush() {
		return
	}
	l.addTimer(timer{at: next, id: c.id, gen: c.gen, kind: timerSend})
}

// growTimes doubles the ring of intended send times (up to 65536 outstanding).
func (c *conn) growTimes() bool {
	n := 2 * len(c.times)
	if n > 1<<16 {
		c.fail(kindTimeout, errNotKeepingUp)
		return false
	}
	t := make([]int64, n)
	for s := c.rseq; s < c.iseq; s++ {
		t[s&uint64(n-1)] = c.times[s&uint64(len(c.times)-1)]
	}
	c.times = t
	return true
}
