package service

import (
	"net"
	"time"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// The adapter between the WebSocket state machine, which knows nothing of
// the reactor, and reactor.Protocol: Twisted's Factory and Protocol for a
// protocol.Server.

// NewFactory returns the reactor.Factory that builds one WebSocket
// connection of srv per accepted TCP connection. Start uses it; a program
// that runs its own reactor listens with it.
func NewFactory(srv *protocol.Server) reactor.Factory { return factory{srv} }

// factory is Twisted's Factory: it builds one protocol per connection.
type factory struct{ srv *protocol.Server }

func (f factory) BuildProtocol(net.Addr) reactor.Protocol {
	p := new(wsProtocol)
	f.srv.InitConn(&p.conn)
	return p
}

// wsProtocol adapts the WebSocket state machine to reactor.Protocol. The
// state machine and its transport adapter live in this one allocation.
type wsProtocol struct {
	conn protocol.Conn
	tr   transport
}

func (p *wsProtocol) ConnectionMade(t reactor.Transport) {
	p.tr.Transport = t
	p.conn.ConnectionMade(&p.tr)
}

func (p *wsProtocol) DataReceived(data []byte)    { p.conn.DataReceived(data) }
func (p *wsProtocol) ConnectionLost(reason error) { p.conn.ConnectionLost(reason) }

// GoingAway starts the connection's part of a graceful shutdown.
func (p *wsProtocol) GoingAway() { p.conn.GoingAway() }

// Restarting is GoingAway with 1012 (Config.CloseSpread).
func (p *wsProtocol) Restarting() { p.conn.Restarting() }

func (p *wsProtocol) reactorTransport() reactor.Transport { return p.tr.Transport }

// goingAway is what Shutdown asks of every connection's protocol
// (*wsProtocol, *proxiedProtocol).
type goingAway interface {
	GoingAway()
	Restarting()
	reactorTransport() reactor.Transport
}

// transport adapts reactor.Transport to protocol.Transport: the two differ
// only in the type CallLater returns.
type transport struct{ reactor.Transport }

func (t *transport) CallLater(d time.Duration, fn func()) protocol.DelayedCall {
	return t.Transport.CallLater(d, fn)
}

// ReactorTransport returns the reactor.Transport under a connection that
// this package's adapter serves (nil for any other): a handler reaches
// another event loop with its CallFromThread, and asks its Loop.
func ReactorTransport(c *protocol.Conn) reactor.Transport {
	switch t := c.Transport().(type) {
	case *transport:
		return t.Transport
	case *proxiedTransport:
		return t.transport.Transport
	}
	return nil
}
