package protocol

import (
	"errors"
	"net"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// connState is where a connection is in its life (RFC 6455 §4, §7).
type connState uint8

const (
	stateHandshake connState = iota // reading the opening handshake (§4.2.1)
	stateOpen                       // upgraded: frames flow both ways (§5)
	stateCloseSent                  // our close frame is sent; waiting for the client's (§7.1.2)
	stateClosed                     // closing: input is discarded, TCP closes once output is flushed
	stateLost                       // ConnectionLost has run
)

// Errors returned by the output methods of Conn.
var (
	// ErrClosed: the connection is closing or closed; nothing more may be
	// sent on it (RFC 6455 §5.5.1: "After sending a Close frame, the
	// endpoint MUST NOT send any more data frames").
	ErrClosed = errors.New("protocol: connection closing or closed")
	// ErrFragmentOrder: WriteFragment or WriteMessage called out of order:
	// "The fragments of one message MUST NOT be interleaved between the
	// fragments of another message" (RFC 6455 §5.4).
	ErrFragmentOrder = errors.New("protocol: data frame out of order with a fragmented message being sent")
	// ErrNotDataOpcode: a message opcode other than OpText or OpBinary.
	ErrNotDataOpcode = errors.New("protocol: message opcode is neither text nor binary")
)

// Conn is the WebSocket state machine of one connection, shaped as a
// Twisted protocol: the reactor calls ConnectionMade, DataReceived (bytes in
// whatever pieces they arrive) and ConnectionLost, all on the connection's
// event-loop goroutine, and Conn talks back through its Transport. It reads
// the opening handshake (RFC 6455 §4.2), then frames (§5), applies every
// rule of §5 and §7 and hands message data to its Handler.
//
// A Conn is small: an idle open connection holds only its decoder and
// UTF-8 states, a few flags, and pointers (to its Server, Transport,
// Handler and one timer). Buffers are borrowed from pools while output is
// produced, and the handshake parser only until the upgrade.
//
// Output produced during one DataReceived (the 101 response, echoes, pongs,
// a close) is gathered in one scratch buffer and written with one
// Transport.Write when DataReceived returns; output produced elsewhere (a
// timer, GoingAway, a handler called from outside DataReceived) is written
// at once.
//
// All methods must be called on the connection's event-loop goroutine.
type Conn struct {
	srv   *Server
	t     Transport
	h     Handler           // built at the upgrade
	hp    *handshake.Parser // from hpPool while the handshake is read
	timer DelayedCall       // the one timer: handshake, ping or close (tkind)
	out   *[]byte           // output gathered during the current operation (bufPool)
	ctl   *ctlBuf           // a control payload split across reads (ctlPool)
	zr    *inflaterState    // permessage-deflate state while held (deflate_read.go)

	msgLen uint64 // bytes declared so far by the frames of the current (or last) message
	slack  uint64 // echo of an earlier message the client may still owe us a read of (checkLimit)
	hidx   int32  // 1 + index in its budget shard's holders; 0: holds nothing counted (Budget)

	// An unfinished data fragment at the end of c.out, which the next
	// piece of its message extends (appendFrame): its header's offset and
	// the output's length after it (0: none).
	fragAt, fragEnd uint32
	dfl             deflateParams // permessage-deflate as negotiated (RFC 7692), and flags of its messages; here it fits the padding
	dec             frame.Decoder
	utf8            frame.UTF8
	held            [4]byte // the start of a code point split across reads (nheld bytes)
	nheld           uint8
	loop            uint16 // index of the event loop's Stats (Transport's Loop method); here it fits the padding

	state   connState
	tkind   timerKind
	msgOp   frame.Opcode // opcode of the message being received; 0 between messages
	frameOp frame.Opcode // opcode of the frame being received
	sub     uint8        // 1 + index in Config.Subprotocols of the selected one; 0 none

	frameFin   bool // the frame being received is its message's last
	delivered  bool // the current message's first piece went to the handler
	sending    bool // a fragmented message is being sent (WriteFragment)
	sawTraffic bool // data arrived since the ping timer last fired
	pingOut    bool // a ping was sent and no traffic has come since
	inRead     bool // inside DataReceived: output is batched
	lose       bool // LoseConnection once the gathered output is written
	counted    bool // counted in Server.open
	notified   bool // OnClose was called
	goingAway  bool // GoingAway was called during the handshake
	sendBin    bool // the message being sent is binary (for Stats)
}

// ConnectionMade starts the connection on t (Twisted's makeConnection): it
// arms the handshake timeout. Called once, first. It panics when t's Loop
// is at or past Config.Loops (see there).
func (c *Conn) ConnectionMade(t Transport) {
	c.t = t
	loop, err := c.srv.loopOf(t)
	if err != nil {
		c.state = stateLost // the ConnectionLost that follows has nothing to count
		panic(err)          // the reactor logs it and aborts the connection
	}
	c.loop = loop
	c.stats().Accepted++
	if d := c.srv.cfg.HandshakeTimeout; d > 0 {
		c.arm(timerHandshake, d)
	}
}

// DataReceived processes bytes from the client, in whatever pieces they
// arrive (a head split anywhere, frames that follow the head in the same
// read, frames split anywhere). data is lent writable for the call only:
// Conn unmasks payload in place and never keeps data after returning.
// The output it causes is written with one Transport.Write before it
// returns. After a close (sent or received) input is discarded (RFC 6455
// §5.5.1).
func (c *Conn) DataReceived(data []byte) {
	if c.state >= stateClosed {
		return
	}
	c.sawTraffic = true
	c.inRead = true
	if c.state == stateHandshake {
		data = c.readHandshake(data)
	}
	if len(data) > 0 {
		c.readFrames(data)
	}
	c.inRead = false
	c.flush()
}

// ConnectionLost ends the connection (Twisted's connectionLost): it cancels
// the timer, gives back pooled buffers, uncounts the connection and tells the
// handler OnClose (CloseAbnormal when no close frame was received). reason
// is the reactor's; it is not interpreted. Called once, last; calls after it
// do nothing.
func (c *Conn) ConnectionLost(reason error) {
	if c.state == stateLost {
		return
	}
	inHandshake := c.state == stateHandshake
	c.state = stateLost
	c.stopTimer()
	c.unhold()
	c.putParser()
	if c.ctl != nil {
		ctlPool.Put(c.ctl)
		c.ctl = nil
	}
	c.releaseZ()
	if c.out != nil {
		putBuf(c.out)
		c.out = nil
	}
	c.lose = false
	if inHandshake {
		c.stats().HandshakeFailures[CauseClientClosed]++
	}
	if c.counted {
		c.counted = false
		c.srv.release()
		c.stats().Open--
	}
	c.notify(frame.CloseAbnormal, "")
}

// notify calls the handler's OnClose once.
func (c *Conn) notify(code frame.CloseCode, reason string) {
	if c.h == nil || c.notified {
		return
	}
	c.notified = true
	c.h.OnClose(c, code, reason)
}

// Subprotocol returns the subprotocol selected by the opening handshake
// (RFC 6455 §4.2.2: sent in Sec-WebSocket-Protocol), or "" if none.
func (c *Conn) Subprotocol() string {
	if c.sub == 0 {
		return ""
	}
	return c.srv.cfg.Subprotocols[c.sub-1]
}

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.t.RemoteAddr() }

// Transport returns the Transport given to ConnectionMade (nil before).
// An application that needs more of its reactor than Conn offers, such as
// the event loop's CallFromThread to reach this connection from another
// loop, type-asserts it to the type it passed (see examples/wschat).
// Event-loop goroutine only, like every use of the Transport.
func (c *Conn) Transport() Transport { return c.t }

// Server returns the Server the connection belongs to.
func (c *Conn) Server() *Server { return c.srv }
