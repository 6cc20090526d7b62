package protocol

import (
	"sync"

	"github.com/klauspost/compress/flate"
)

// Pools of permessage-deflate state, one per event loop. Without context
// takeover (the default) a connection holds a compressor only during one
// WriteFragment call and a decompressor only while a compressed message is
// arriving; both come from its loop's pool, which only that loop's
// goroutine touches, so an idle connection holds neither and no lock or
// atomic is taken per message. A transport that does not say which loop it
// is on (no Loop method) uses one shared pool behind a mutex.

// looper is implemented by transports that know their event loop
// (reactor.Transport, through the command's adapter): the index of the
// connection's loop, 0 to the number of loops - 1.
type looper interface{ Loop() int }

// deflatePool is one loop's pool. Compressors are kept by window bits
// (RFC 7692 §7.1.2.1: a compressor for server_max_window_bits=N keeps a
// 1<<N window); at most one of each is ever out per loop, since a loop
// runs one WriteFragment at a time.
type deflatePool struct {
	mu       *sync.Mutex // nil for a loop's own pool
	writers  [16]*deflater
	inflates []*inflaterState
	_        [64]byte // no false sharing between loops' pools
}

// pools returns the pool of the loop c runs on.
func (c *Conn) pool() *deflatePool {
	s := c.srv
	if l, ok := c.t.(looper); ok {
		if i := l.Loop(); i >= 0 && i < len(s.loopPools) {
			return &s.loopPools[i]
		}
	}
	return &s.sharedPool
}

// getWriter returns a compressor for window bits bits at level, reset to
// write to dst.
func (p *deflatePool) getWriter(bits uint8, level int) *deflater {
	if p.mu != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	z := p.writers[bits]
	if z == nil {
		return newDeflater(bits, level)
	}
	p.writers[bits] = nil
	return z
}

// putWriter gives z back to the pool.
func (p *deflatePool) putWriter(z *deflater) {
	if p.mu != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	z.sink.b = nil
	if p.writers[z.bits] == nil {
		p.writers[z.bits] = z
	}
}

// getInflater returns a decompressor state, ready for Reset.
func (p *deflatePool) getInflater() *inflaterState {
	if p.mu != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	if n := len(p.inflates); n > 0 {
		z := p.inflates[n-1]
		p.inflates[n-1] = nil
		p.inflates = p.inflates[:n-1]
		return z
	}
	return new(inflaterState)
}

// putInflater gives z back; the pool keeps at most maxPooledInflaters, the
// rest go to the garbage collector.
func (p *deflatePool) putInflater(z *inflaterState) {
	if p.mu != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	if len(p.inflates) < maxPooledInflaters {
		p.inflates = append(p.inflates, z)
	}
}

// maxPooledInflaters bounds the idle decompressors one pool keeps (each
// about 50 KiB): enough for the messages that are usually in flight at
// once on a loop, without holding a burst's worth forever.
const maxPooledInflaters = 64

// deflater is a compressor writing into a connection's output buffer.
type deflater struct {
	w    *flate.Writer
	sink appendSink
	bits uint8
}

// newDeflater makes a compressor: klauspost/compress's flate at level
// for the full 32 KiB window, its custom-window encoder below (RFC 7692
// §7.1.2.1).
func newDeflater(bits uint8, level int) *deflater {
	z := &deflater{bits: bits}
	var err error
	if bits >= 15 {
		z.w, err = flate.NewWriter(&z.sink, level)
	} else {
		z.w, err = flate.NewWriterWindow(&z.sink, 1<<bits)
	}
	if err != nil {
		panic("protocol: " + err.Error()) // level and bits are checked by NewServer and the negotiation
	}
	return z
}

// appendSink is an io.Writer that appends to a connection's output buffer.
type appendSink struct{ b *[]byte }

func (s *appendSink) Write(p []byte) (int, error) {
	*s.b = append(*s.b, p...)
	return len(p), nil
}
