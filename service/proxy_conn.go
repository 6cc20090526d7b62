package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/proxyproto"
	"github.com/wsreactor/wsreactor/reactor"
)

// One connection behind a load balancer that sends the PROXY protocol: its
// header is read before the WebSocket state machine sees a byte, and the
// client it names is the connection's RemoteAddr (proxy.go has the
// factory, the flags and the refusal counts).

// headerState is what a connection holds only while its PROXY header is
// read: the parser and the factory (for the refusal count and the log).
// It is pooled: a connection past its header holds none.
type headerState struct {
	pp proxyproto.Parser
	f  *proxyFactory
}

// proxiedProtocol is wsProtocol for a connection that starts with a PROXY
// header: it feeds the header to a pooled proxyproto.Parser, then hands
// the rest of that read and every later one to the WebSocket state
// machine. Besides wsProtocol's fields it holds one pointer and the
// client's address, packed (32 bytes more on 64-bit: 224 bytes in all,
// a size class of its own).
type proxiedProtocol struct {
	conn protocol.Conn
	tr   proxiedTransport
	hs   *headerState // from the factory's pool until the header is read; then nil
}

func (p *proxiedProtocol) ConnectionMade(t reactor.Transport) {
	p.tr.Transport = t
	p.conn.ConnectionMade(&p.tr) // arms the handshake timeout: it covers the PROXY header too
}

// DataReceived reads the PROXY header, then passes the bytes after it (in
// the same read: the HTTP request and maybe frames) and every later read
// to the WebSocket state machine. A connection whose header is invalid is
// aborted (the client sees a reset, no response: spec §2.1, "Any sequence
// which does not exactly match the protocol must be discarded and cause the
// receiver to abort the connection").
func (p *proxiedProtocol) DataReceived(data []byte) {
	if p.hs != nil {
		n, done, h, err := p.hs.pp.Feed(data)
		switch {
		case err != nil:
			why := refusedInvalid
			if errors.Is(err, proxyproto.ErrNotProxy) {
				why = refusedNoProxy
			}
			f := p.release()
			f.refuse(p.tr.Transport.RemoteAddr(), why, err.Error())
			p.tr.AbortConnection()
			return
		case !done:
			return
		}
		f := p.release()
		if client, ok := h.Client(); ok {
			p.tr.setClient(client)
		}
		if f.logger.Enabled(context.Background(), slog.LevelDebug) {
			f.logger.Debug("proxied connection", "client", addrString(p.tr.RemoteAddr()),
				"proxy", addrString(p.tr.Transport.RemoteAddr()), "header", h.String())
		}
		if data = data[n:]; len(data) == 0 {
			return
		}
	}
	p.conn.DataReceived(data)
}

// release gives the header state back to the pool and returns the
// factory.
func (p *proxiedProtocol) release() *proxyFactory {
	hs := p.hs
	p.hs = nil
	f := hs.f
	*hs = headerState{}
	f.pool.Put(hs)
	return f
}

func (p *proxiedProtocol) ConnectionLost(reason error) {
	if p.hs != nil {
		p.release()
	}
	p.conn.ConnectionLost(reason)
}

// GoingAway starts the connection's part of a graceful shutdown.
func (p *proxiedProtocol) GoingAway() { p.conn.GoingAway() }

// Restarting is GoingAway with 1012 (Config.CloseSpread).
func (p *proxiedProtocol) Restarting() { p.conn.Restarting() }

func (p *proxiedProtocol) reactorTransport() reactor.Transport { return p.tr.Transport }

// proxiedTransport is the transport adapter with the client's address
// from the PROXY header as RemoteAddr. The address is packed (19 bytes
// against netip.AddrPort's 32) because every connection holds it.
type proxiedTransport struct {
	transport
	ip   [16]byte // the client's IP: IPv4 in the first 4 bytes
	port uint16
	fam  uint8 // 0 until the header named a client (never, for LOCAL or UNKNOWN); 4 or 6
}

// setClient records a, an IPv4 or IPv6 address (an IPv4-mapped IPv6
// address stays IPv6, as the header said).
func (t *proxiedTransport) setClient(a netip.AddrPort) {
	t.port = a.Port()
	if ip := a.Addr(); ip.Is4() {
		t.fam = 4
		b := ip.As4()
		copy(t.ip[:], b[:])
	} else {
		t.fam = 6
		t.ip = ip.As16()
	}
}

// client returns the address setClient recorded; ok is false if none.
func (t *proxiedTransport) client() (a netip.AddrPort, ok bool) {
	switch t.fam {
	case 4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(t.ip[:4])), t.port), true
	case 6:
		return netip.AddrPortFrom(netip.AddrFrom16(t.ip), t.port), true
	}
	return netip.AddrPort{}, false
}

// RemoteAddr is the client the PROXY header named, or the real peer (the
// balancer) when it named none. Each call allocates the *net.TCPAddr: it is
// for logs, not for the per-message path.
func (t *proxiedTransport) RemoteAddr() net.Addr {
	if a, ok := t.client(); ok {
		return net.TCPAddrFromAddrPort(a)
	}
	return t.transport.RemoteAddr()
}
