package protocol

import "github.com/wsreactor/wsreactor/frame"

// The compressing write side of permessage-deflate (RFC 7692 §7.2.1).
//
// Each fragment of a compressed message is compressed and flushed at once
// (a sync flush, so everything written so far can be decoded by the
// client), and goes out as the payload of one frame. Without context
// takeover the compressor is reset for every fragment: raw DEFLATE
// (RFC 1951) has no stream header, and after a sync flush the output is
// byte-aligned with nothing pending, so a fresh compressor's blocks
// continue the same stream; they only never refer back to earlier
// fragments. The connection thus borrows a compressor for the duration of
// one WriteFragment call, from its loop's pool.
//
// A sync flush ends with the 4 bytes 00 00 ff ff, which §7.2.1 says to
// remove from the end of a message. The server removes them from every
// fragment and sends them at the start of the next fragment of the
// message, so they are never sent at its end, whatever its last fragment
// holds.

// rsv1 is the RSV1 bit of a frame's first byte: "Per-Message Compressed"
// (RFC 7692 §6).
const rsv1 = 0x40

// syncTail is what a sync flush ends with (RFC 7692 §7.2.1).
var syncTail = [4]byte{0, 0, 0xff, 0xff}

// compressChunk: data is handed to the compressor in pieces of this size,
// so that the output buffer can be written between them.
const compressChunk = 32 << 10

// writeCompressed adds one fragment of a compressed message to the output
// (the caller has checked the order of fragments).
func (c *Conn) writeCompressed(first, fin bool, op frame.Opcode, data []byte) {
	b := c.buf()
	z := c.getWriter()
	z.sink.b = b
	if first || c.fragEnd == 0 || int(c.fragEnd) != len(*b) {
		c.startFragment(first, op)
	}
	if !first {
		// The previous fragment's sync flush, held back (see above).
		*b = append(*b, syncTail[:]...)
	}
	for len(data) > 0 {
		n := min(len(data), compressChunk)
		z.w.Write(data[:n])
		data = data[n:]
		if len(*b) >= flushAt && len(data) > 0 {
			c.refitFragment(false)
			c.writeOut()
			if c.state != stateOpen {
				c.putWriter(z)
				return
			}
			c.startFragment(false, frame.OpContinuation)
		}
	}
	z.w.Flush()
	// A sync flush always ends so; the check keeps a surprise from
	// corrupting the stream.
	if n := len(*b) - 4; n >= 0 && [4]byte((*b)[n:]) == syncTail {
		*b = (*b)[:n]
	}
	c.refitFragment(fin)
	c.putWriter(z)
	if len(*b) >= flushAt {
		c.writeOut()
	}
}

// getWriter returns the compressor for the next fragment: the
// connection's own with server context takeover, else a fresh one from its
// loop's pool.
func (c *Conn) getWriter() *deflater {
	if !c.dfl.has(dflServerNoCtx) {
		z := c.zstate()
		if z.w == nil {
			z.w = c.pool().getWriter(c.dfl.serverBits(), c.srv.cfg.Deflate.Level)
			z.w.w.Reset(&z.w.sink)
			c.recount()
		}
		return z.w
	}
	z := c.pool().getWriter(c.dfl.serverBits(), c.srv.cfg.Deflate.Level)
	z.w.Reset(&z.sink)
	return z
}

// putWriter ends the use of a compressor from getWriter.
func (c *Conn) putWriter(z *deflater) {
	z.sink.b = nil
	if c.dfl.has(dflServerNoCtx) {
		c.pool().putWriter(z)
	}
}

// startFragment appends the header of a new data frame with no payload
// yet, which refitFragment completes; the first frame of a message carries
// RSV1.
func (c *Conn) startFragment(first bool, op frame.Opcode) {
	b := c.out
	at := len(*b)
	if !first {
		op = frame.OpContinuation
	}
	*b = frame.AppendHeader(*b, false, op, 0)
	if first {
		(*b)[at] |= rsv1
	}
	c.fragAt = uint32(at)
}
