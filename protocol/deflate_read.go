package protocol

import (
	"unsafe"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/inflate"
)

// The decompressing read side of permessage-deflate (RFC 7692 §7.2.2): a
// compressed message is inflated as its bytes arrive, in pieces of at most
// inflateChunk bytes, and each piece goes through the same UTF-8
// validation and delivery as an uncompressed message's data, so memory
// does not depend on the message size.

// inflateChunk is the size of the buffer inflated data is delivered from.
const inflateChunk = 16 << 10

// inflaterState is a connection's permessage-deflate state while it holds
// one: without context takeover only while a compressed message is
// arriving (from its loop's pool); with takeover in either direction for
// the connection's life, then also holding its compressor.
type inflaterState struct {
	f    inflate.Inflater
	n    uint64    // bytes the current message has inflated to so far
	m    int       // inflated bytes held in out, not yet delivered
	busy bool      // a compressed message is arriving
	w    *deflater // the compressor kept for server context takeover
	out  [inflateChunk]byte
}

// Memory held, as the memory budget counts it (heldNow): the state with
// its 32 KiB window, and a compressor (klauspost's flate holds 0.8 to
// 1.4 MiB by level).
const (
	zStateHeld  = int64(unsafe.Sizeof(inflaterState{})) + 32<<10
	zWriterHeld = 1 << 20
)

// held is what z holds.
func (z *inflaterState) held() int64 {
	if z.w != nil {
		return zStateHeld + zWriterHeld
	}
	return zStateHeld
}

// zstate returns the connection's state, borrowing one from its loop's
// pool if it has none (and telling the memory budget).
func (c *Conn) zstate() *inflaterState {
	if c.zr == nil {
		c.zr = c.pool().getInflater()
		c.zr.f.Reset(15)
		c.zr.busy = false
		c.recount()
	}
	return c.zr
}

// keepsState reports whether context takeover in either direction makes
// the connection keep its state between messages (RFC 7692 §7.1.1).
func (c *Conn) keepsState() bool {
	return !c.dfl.has(dflServerNoCtx) || !c.dfl.has(dflClientNoCtx)
}

// inflateMore passes a piece of a compressed message's payload through
// the decompressor; fin marks the message's last piece, after which the
// 4 bytes 00 00 ff ff are appended (§7.2.2). What comes out is delivered
// when the output buffer is full, and what is left when the piece is used
// up: a message that arrives in one read is delivered in one piece (when
// it inflates to at most inflateChunk), with fin.
func (c *Conn) inflateMore(d []byte, fin bool) {
	z := c.zstate()
	if !z.busy {
		z.busy, z.n, z.m = true, 0, 0
		if c.dfl.has(dflClientNoCtx) {
			// Each message is a stream of its own. The window is 32 KiB
			// whatever client_max_window_bits says: the pooled state has
			// it anyway, and zlib compresses with 9 bits when asked for 8.
			z.f.Reset(15)
		}
	}
	if !c.inflateFeed(z, d) {
		return
	}
	if !fin {
		if z.m > 0 {
			c.deliverInflated(z, false)
		}
		return
	}
	if !z.f.Final() && !c.inflateFeed(z, syncTail[:]) {
		return
	}
	z.busy = false
	// A message whose blocks ended with BFINAL set (§7.2.3.4) gets no
	// 00 00 ff ff; the next message starts a new stream, over the same
	// window under context takeover.
	z.f.Continue()
	c.deliverInflated(z, true)
}

// deliverInflated hands the inflated bytes held in z.out to the
// handler; fin ends the message, and then the connection's state goes
// back to its loop's pool unless context takeover keeps it.
func (c *Conn) deliverInflated(z *inflaterState, fin bool) {
	n := z.m
	z.m = 0
	if fin && !c.keepsState() {
		// The bytes are delivered from z.out: the state goes back to the
		// pool only after, but is no longer the connection's.
		c.zr = nil
		c.onPlain(z.out[:n], true)
		c.putZ(z)
		c.recount()
		return
	}
	c.onPlain(z.out[:n], fin)
}

// inflateFeed inflates in into z.out after the z.m bytes held there,
// delivering whenever z.out is full; it reports false when the connection
// was failed (bad data, or past MaxMessageSize) or stopped reading.
func (c *Conn) inflateFeed(z *inflaterState, in []byte) bool {
	max := c.srv.cfg.MaxMessageSize
	for {
		if z.f.Final() && len(in) > 0 {
			// RFC 7692 §7.2.3.4: a sender may end its blocks with
			// BFINAL set; the bytes after are a new DEFLATE stream
			// over the same window.
			z.f.Continue()
		}
		nOut, nIn, err := z.f.Inflate(z.out[z.m:], in)
		in = in[nIn:]
		if err != nil {
			c.failInflate(err)
			return false
		}
		z.m += nOut
		z.n += uint64(nOut)
		if max > 0 && z.n > uint64(max) {
			// RFC 6455 §7.4.1, 1009; checked on the inflated size while
			// inflating, so a bomb is stopped after at most
			// MaxMessageSize + inflateChunk bytes of output.
			c.failErr(frame.ErrMessageTooBig)
			return false
		}
		if z.m == len(z.out) {
			c.deliverInflated(z, false)
			if c.state != stateOpen {
				return false
			}
			continue
		}
		if len(in) == 0 {
			return true
		}
	}
}

// failInflate fails the connection with 1007 for data that does not
// inflate.
func (c *Conn) failInflate(err error) {
	// RFC 7692 §8 leaves the code open; the payload is not valid for
	// the message: 1007 (RFC 6455 §7.4.1).
	c.releaseZ()
	reason := "compressed message does not inflate"
	if msg := err.Error(); len(msg) <= 80 {
		reason += ": " + msg
	}
	c.fail(frame.CloseInvalidPayload, reason)
}

// releaseZ gives the connection's permessage-deflate state back to the
// pool (its compressor to its own pool).
func (c *Conn) releaseZ() {
	if z := c.zr; z != nil {
		c.zr = nil
		c.putZ(z)
		if c.state != stateLost {
			c.recount()
		}
	}
}

// putZ gives z back to the pool of c's loop (its compressor to its own
// pool).
func (c *Conn) putZ(z *inflaterState) {
	p := c.pool()
	if z.w != nil {
		z.w.sink.b = nil
		p.putWriter(z.w)
		z.w = nil
	}
	p.putInflater(z)
}
