// Package frame is the WebSocket wire codec of RFC 6455 §5 and §7.4: an
// incremental frame decoder, the frame encoder, masking, close codes and
// close bodies, the single-frame rules a server applies to client frames, and
// an incremental UTF-8 validator. It imports only the standard library and
// knows nothing of sockets, handshakes or message assembly; that is the
// protocol package's job.
//
// # Parsers are fed, never pull
//
// A Decoder and a UTF8 validator are fed whatever bytes have arrived, in
// pieces of any size, down to one byte. They consume what they can, remember
// their state in a few bytes, and never block. They never keep a reference
// to a buffer they were lent: a Decoder copies the at most 14 bytes of a
// header split across calls into itself, and its payload events alias the
// caller's buffer (valid as long as that buffer is). A declared payload
// length is never allocated up front: a frame that declares 2^40 bytes and
// sends 10 costs nothing.
//
// Decoder.Next returns each event by value, as design.md specifies;
// Decoder.NextInto writes it into the caller's Event instead, which saves a
// copy per event on the hot path (see BenchmarkDecodeBatch).
//
// # Goroutines
//
// Decoder and UTF8 values are not safe for concurrent use: give each
// connection its own and call them from that connection's event-loop
// goroutine. The functions of the package (AppendFrame, Mask,
// ParseCloseBody, CheckClientFrame, ...) hold no state and may be called
// from any goroutine.
//
// # Allocation
//
// Decoding, encoding into a buffer with room, masking and validating
// allocate nothing; tests pin this with testing.AllocsPerRun.
package frame
