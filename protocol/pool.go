package protocol

import "sync"

// Scratch buffers, shared by all connections of the process: a connection
// holds one only while it produces output (during one DataReceived, or one
// timer callback), or while Messages gathers a message. An idle connection
// holds none.
const (
	bufInitial = 4 << 10   // capacity of a new scratch buffer
	bufKeep    = 256 << 10 // larger buffers are left to the GC, not pooled
)

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, bufInitial)
	return &b
}}

// getBuf returns an empty scratch buffer.
func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf gives b back; b must not be used afterwards.
func putBuf(b *[]byte) {
	if cap(*b) > bufKeep {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// ctlBuf holds a control frame's payload (at most 125 bytes, RFC 6455
// §5.5) that arrives split across reads.
type ctlBuf struct {
	n int
	b [125]byte
}

var ctlPool = sync.Pool{New: func() any { return new(ctlBuf) }}
