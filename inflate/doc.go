// Package inflate is a DEFLATE decoder (RFC 1951) that is pushed its input
// in pieces of any size, as a reactor receives it, instead of pulling it
// from an io.Reader. It exists for permessage-deflate (RFC 7692): a
// compressed WebSocket message is inflated as its bytes arrive in
// DataReceived, with memory independent of the message's size.
//
// # The push model
//
// compress/flate (and klauspost/compress/flate, its fork) decode by pulling:
// they call Read on an io.Reader whenever they want another byte. On an
// event loop the next bytes of a message may not have arrived yet, and
// those readers treat a reader that runs dry mid-stream as the end
// (io.ErrUnexpectedEOF, kept for good). So they would need the whole
// message buffered first, or a goroutine blocked per message.
//
// An Inflater turns that around. The caller hands it whatever has arrived
// and a buffer to fill:
//
//	nOut, nIn, err := f.Inflate(out, in)
//
// It decodes until in is used up or out is full, and returns. Everything it
// needs to resume is kept inside: the position in the block (RFC 1951
// §3.2.3), the Huffman tables of the current block (§3.2.7), a
// half-read symbol's bits (at most a few bytes), the rest of a
// back-reference that did not fit in out, and the last 1<<windowBits bytes
// of output, which later back-references (§3.2.5) may copy from. It keeps
// no reference to in or out after it returns. The caller decides how much
// output it takes: a small input that inflates to gigabytes (a "bomb")
// costs no more than the out buffer the caller lends, and the caller stops
// when it has seen enough.
//
// # Permessage-deflate
//
// RFC 7692 §7.2.2: the receiver appends 00 00 ff ff to each message's
// payload and inflates the whole. Those four bytes end an empty stored
// block (a "sync flush", §7.2.1), so once they have been pushed and out had
// room, every byte of the message has come out: an Inflater never holds
// output back waiting for more input. Without context takeover, Reset
// before each message; with it, keep the Inflater (and its window) from one
// message to the next. A sender may end a message's blocks with BFINAL set
// (RFC 7692 §7.2.3.4): Final then reports true and Continue starts the next
// stream with the window kept.
//
// # Goroutines and memory
//
// An Inflater is not safe for concurrent use: one connection's event loop
// owns it while a message is in flight. Its tables live inside the struct
// (about 11 KiB); the window of 1<<windowBits bytes is allocated on the
// first Inflate after a Reset that needs more than it has, and reused
// after that. Decoding allocates nothing; only an error allocates its
// message.
package inflate
