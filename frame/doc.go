// Package frame is the WebSocket wire codec of RFC 6455 §5 and §7.4: an
// incremental frame decoder, the frame encoder, masking, close codes and
// close bodies, the single-frame rules a server applies to client frames, and
// an incremental UTF-8 validator. It imports only the standard library and
// knows nothing of sockets, handshakes or message assembly; that is the
// protocol package's job.
//
// Read this top to bottom the first time: how a server reads frames, how it
// writes them, how it closes, how it checks text. The examples below run
// each step.
//
// # Reading frames
//
// A Decoder is fed the bytes of one connection as they arrive and turns
// them into events. Next (or NextInto) takes whatever is buffered, consumes
// what it can and returns one Event and the number of bytes used:
//
//   - KindHeader: a frame header is complete (Header: FIN, RSV bits, opcode,
//     mask, length). A server checks it at once with CheckClientFrame
//     (RFC 6455 §5.1 masking, §5.2 reserved bits, §5.5 control frames).
//   - KindPayload: a piece of the frame's payload, already unmasked in
//     place (§5.3), aliasing the caller's buffer; End marks the frame's
//     last piece.
//   - KindNone: the bytes ran out in the middle of something; feed more.
//
// Call it in a loop until the buffer is used up; the next read continues
// where this one stopped. Messages (a text frame and its continuations,
// §5.4) and the control frames that may come between them (§5.5) are the
// caller's to follow: Example_fragmented shows how.
//
// # Writing frames
//
// A server's frames are unmasked (§5.1). AppendFrame appends one with the
// shortest length encoding; AppendHeader appends only the header, so a large
// payload can go out beside it (Writev) without a copy. AppendClose appends
// a close frame. Clients (and tests playing one) mask with
// AppendMaskedFrame; Mask is the masking itself.
//
// # Closing
//
// A CloseCode is a status code of §7.4; ParseCloseBody reads a close
// frame's body and says which code to answer with when it is bad. Every
// protocol error of this package is a *CloseError carrying the code that
// fails the connection (1002 for a broken frame, 1007 for bad UTF-8, 1009
// for a message over the limit, ErrMessageTooBig): CodeOf gets it out of any
// wrapped error.
//
// # Text
//
// Text must be UTF-8 (§8.1), checked as it arrives even when a code point
// is split across reads or fragments. A UTF8 validator is fed piece by
// piece and says how much of each piece is complete; AtBoundary at the end
// of the message says whether it ended on a whole code point.
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
