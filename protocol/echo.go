package protocol

import "github.com/wsreactor/wsreactor/frame"

// echo is the streaming echo application; it has no state.
type echo struct{ BaseHandler }

// Echo returns the streaming echo handler: each piece of message data goes
// back as soon as it has arrived (and, for text, been validated), as a
// fragment of a message of the same type (RFC 6455 §5.4): the first piece
// with the message's opcode, the next ones as continuations, FIN on the
// last. A frame that arrives whole in one read goes back as one
// unfragmented frame. Nothing is accumulated, so a connection's memory does
// not grow with the message size. Echo allocates nothing.
func Echo() Handler { return echo{} }

// OnData sends data back as a fragment.
func (echo) OnData(c *Conn, op frame.Opcode, data []byte, first, fin bool) {
	c.WriteFragment(op, data, first, fin)
}
