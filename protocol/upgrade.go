package protocol

import (
	"errors"
	"sync"

	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// The opening handshake as the connection state machine runs it: feed the
// handshake.Parser until the head is complete, admit the request
// (origin, connection cap, shutdown), negotiate permessage-deflate, answer
// 101 and open. The parser itself is package handshake.

var hpPool = sync.Pool{New: func() any { return new(handshake.Parser) }}

// errUnavailable answers an upgrade past MaxConns or during shutdown.
var errUnavailable = handshake.ErrServiceUnavailable(1)

// readHandshake feeds data to the handshake parser. It returns the bytes
// that followed the request head in data once the connection is open (they
// are frames, RFC 6455 §4.2.2 / §5), nil otherwise.
func (c *Conn) readHandshake(data []byte) []byte {
	if c.hp == nil {
		c.hp = hpPool.Get().(*handshake.Parser)
	}
	n, done, req, head, err := c.hp.FeedHead(data)
	if err != nil {
		var he *handshake.Error
		if !errors.As(err, &he) {
			he = &handshake.Error{Status: 400, Msg: err.Error()}
		}
		c.reject(he)
		return nil
	}
	if !done {
		c.recount() // a partial head is held in the parser's buffer
		return nil
	}
	cfg := &c.srv.cfg
	sub := handshake.SelectSubprotocol(req.Protocols, cfg.Subprotocols)
	sub, h, he, cause := c.admit(req, head, sub)
	if he != nil {
		c.rejectAs(he, cause)
		return nil
	}
	c.sub = subIndex(cfg.Subprotocols, sub)
	dfl, _ := negotiateDeflate(req.Extensions, &cfg.Deflate)
	c.dfl = dfl.p
	b := c.buf()
	*b = appendResponse(*b, req.Key, sub, dfl)
	c.putParser()

	c.state = stateOpen
	st := c.stats()
	st.Open++
	st.Responses[responseSlot(101)]++
	c.sawTraffic = false
	if d := cfg.PingInterval; d > 0 {
		c.arm(timerPing, d)
	} else {
		c.stopTimer()
	}
	if h == nil {
		h = c.srv.app()
	}
	c.h = h
	c.h.OnOpen(c)
	return data[n:]
}

// admit decides whether a well-formed upgrade request may open: 403 for an
// Origin outside the allow-list (RFC 6455 §4.2.2 step 4, §10.2), then
// Config.Upgrade's answer when it is set (which may also change the
// subprotocol sub and give the connection's Handler; nil: the factory's),
// then 503 with Retry-After past MaxConns or during shutdown. A nil error
// means the connection is open and counted; otherwise cause is what to
// count the rejection under.
func (c *Conn) admit(req *handshake.Request, head handshake.Head, sub string) (string, Handler, *handshake.Error, HandshakeCause) {
	if !handshake.OriginAllowed(req.Origin, c.srv.cfg.Origins) {
		return sub, nil, handshake.ErrOriginForbidden(req.Origin), CauseOrigin
	}
	var h Handler
	if hook := c.srv.cfg.Upgrade; hook != nil { // nothing escapes without it
		var he *handshake.Error
		if sub, h, he = c.runUpgrade(hook, req, head, sub); he != nil {
			return sub, nil, he, CauseRefused
		}
	}
	if c.goingAway || c.srv.ShuttingDown() || !c.srv.acquire() {
		return sub, nil, errUnavailable, causeOf(503)
	}
	c.counted = true
	return sub, h, nil, 0
}

// reject answers the handshake with an HTTP error and closes the
// connection after it (RFC 6455 §4.2.1: "the server MUST stop processing
// the client's handshake and return an HTTP response with an appropriate
// error code").
//
// A plain GET of "/" gets Config.RootPage instead when there is one: it is
// written by itself (nothing precedes it during the handshake), not copied
// into the scratch buffer.
func (c *Conn) reject(he *handshake.Error) { c.rejectAs(he, causeOf(he.Status)) }

// rejectAs is reject counting the failure under cause.
func (c *Conn) rejectAs(he *handshake.Error, cause HandshakeCause) {
	st := c.stats()
	if page := c.srv.cfg.RootPage; he.Root() && page != nil {
		st.Responses[responseSlot(200)]++
		c.t.Write(page)
	} else {
		st.Responses[responseSlot(he.Status)]++
		if cause == CauseAtCapacity && (c.goingAway || c.srv.ShuttingDown()) {
			cause = CauseShuttingDown
		}
		st.HandshakeFailures[cause]++
		b := c.buf()
		*b = handshake.AppendHTTPError(*b, he)
	}
	c.putParser()
	c.closing()
}

// putParser gives the handshake parser back, emptied.
func (c *Conn) putParser() {
	if c.hp != nil {
		c.hp.Reset()
		hpPool.Put(c.hp)
		c.hp = nil
	}
}

// appendResponse appends the 101 that accepts the request with
// Sec-WebSocket-Key key (handshake.AppendResponse), with the
// Sec-WebSocket-Extensions line of a negotiated permessage-deflate
// (RFC 7692 §7.1) when a is one.
func appendResponse(dst []byte, key, subprotocol string, a deflateAnswer) []byte {
	dst = handshake.AppendResponseHeader(dst, key, subprotocol)
	if a.p.on() {
		dst = appendDeflateAnswer(dst, a)
	}
	return append(dst, "\r\n"...)
}

// subIndex returns 1 + the index of sub in supported, 0 if sub is "" or
// not there.
func subIndex(supported []string, sub string) uint8 {
	if sub == "" {
		return 0
	}
	for i, s := range supported {
		if s == sub && i < 255 {
			return uint8(i + 1)
		}
	}
	return 0
}
