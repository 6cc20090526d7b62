package reactor

import "github.com/panjf2000/gnet/v2"

// handler is the gnet.EventHandler that turns gnet's events into Protocol
// callbacks. gnet calls it on the connection's event loop goroutine.
type handler struct {
	gnet.BuiltinEventEngine
	r *Reactor
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action { return h.r.boot(eng) }

// OnOpen builds the protocol (or refuses the connection) and calls
// ConnectionMade.
func (h *handler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	r := h.r
	if a, ok := gc.Context().(*adoption); ok {
		return nil, h.adopted(gc, a)
	}
	if r.refusing.Load() {
		return nil, gnet.Close
	}
	l := r.loopFor(gc.EventLoop())
	p := l.buildProtocol(gc.RemoteAddr())
	if p == nil {
		return nil, gnet.Close
	}
	c := &conn{gc: gc, proto: p, loop: l}
	gc.SetContext(c)
	l.add(c)
	r.conns.Add(1)
	l.connectionMade(c)
	return nil, gnet.None
}

// OnTraffic hands everything read to DataReceived without copying: Next(-1)
// returns the loop's read buffer itself while the connection's inbound
// buffer is empty, and since everything is consumed it stays empty (gnet
// never copies into it).
func (h *handler) OnTraffic(gc gnet.Conn) gnet.Action {
	data, _ := gc.Next(-1)
	c, _ := gc.Context().(*conn)
	if c == nil || c.state&(stClosing|stLost) != 0 || len(data) == 0 {
		return gnet.None // closing: read and drop
	}
	c.loop.dataReceived(c, data)
	return gnet.None
}

// OnClose delivers ConnectionLost (possibly deferred; see loop.closed).
func (h *handler) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, _ := gc.Context().(*conn)
	if c == nil || c.state&stLost != 0 {
		return gnet.None // refused, or already handled
	}
	c.loop.closed(c, err)
	return gnet.None
}
