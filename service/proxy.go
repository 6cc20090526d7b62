package service

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// Behind a load balancer: -proxy-protocol makes every connection start with
// a PROXY protocol header (HAProxy's spec, version 1 or 2; package
// proxyproto reads it), and the client address it carries becomes the
// connection's peer: protocol.Conn.RemoteAddr, the debug log line, anything
// that asks. Only peers in -proxy-from may send one; the spec requires the
// receiver to accept nothing else on such a port ("The receiver MUST be
// configured to only receive the protocol described in this specification
// and MUST not try to guess whether the protocol header is present or not").

// DefaultProxyFrom is -proxy-from's default: loopback only. A PROXY header
// lets its sender claim any client address, so only the balancer may send
// one; the one place that is known to be the balancer without asking the
// operator is this machine (HAProxy beside the server, the common set-up
// and the one deploy/ ships). Balancers on other machines are named
// explicitly: a default that trusts a whole private range would let any
// host in it forge addresses.
const DefaultProxyFrom = "127.0.0.0/8,::1/128"

// ParseProxyFrom reads a -proxy-from value: comma-separated CIDR prefixes
// ("10.0.0.0/8") or single addresses ("10.0.0.5", taken as /32 or /128).
func ParseProxyFrom(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, err2 := netip.ParseAddr(item)
			if err2 != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is neither a CIDR prefix (10.0.0.0/8) nor an address", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, errors.New("no prefix given: name the balancers' addresses")
	}
	return out, nil
}

// mustParseProxyFrom is ParseProxyFrom for the constant default.
func mustParseProxyFrom(s string) []netip.Prefix {
	p, err := ParseProxyFrom(s)
	if err != nil {
		panic(err)
	}
	return p
}

// newFactory returns the factory of the listening port: plain, or, with
// -proxy-protocol, one that reads the PROXY header first.
func newFactory(srv *protocol.Server, cfg Config, logger *slog.Logger) reactor.Factory {
	if !cfg.ProxyProtocol {
		return factory{srv}
	}
	return &proxyFactory{srv: srv, from: cfg.ProxyFrom, logger: logger}
}

// proxyFactory builds the protocol of a connection from a balancer that
// sends the PROXY protocol. It is shared by every event loop: its fields
// are read-only but for the refusal counters, which are atomics touched
// only when a connection is refused (never per message).
type proxyFactory struct {
	srv    *protocol.Server
	from   []netip.Prefix
	logger *slog.Logger
	pool   sync.Pool // *headerState, held while a header is read

	refused   atomic.Int64              // connections refused, for any reason
	byReason  [numRefusals]atomic.Int64 // the same by refusal reason
	logged    atomic.Int64              // refused as of the last log line
	lastLogAt atomic.Int64              // unix nanoseconds of the last refusal log line
}

// Why a connection was refused: the label of wsreactor_proxy_refused_total.
const (
	refusedPeer    = iota // the peer is not in -proxy-from
	refusedNoProxy        // the first bytes are not a PROXY header (proxyproto.ErrNotProxy)
	refusedInvalid        // a PROXY header that breaks the spec (proxyproto.ErrInvalid)
	numRefusals
)

var refusalLabels = [numRefusals]string{"peer_not_allowed", "not_proxy", "invalid_header"}

var descProxyRefused = prometheus.NewDesc("wsreactor_proxy_refused_total",
	"With -proxy-protocol: connections refused, by reason (peer_not_allowed: not in -proxy-from; not_proxy: no PROXY header; invalid_header: a header that breaks the spec).",
	[]string{"reason"}, nil)

// Describe and Collect make the factory a prometheus.Collector of its
// refusal counts (registered with the admin server's metrics).
func (f *proxyFactory) Describe(ch chan<- *prometheus.Desc) { ch <- descProxyRefused }

func (f *proxyFactory) Collect(ch chan<- prometheus.Metric) {
	for i := range f.byReason {
		ch <- prometheus.MustNewConstMetric(descProxyRefused, prometheus.CounterValue, float64(f.byReason[i].Load()), refusalLabels[i])
	}
}

// factoryMetrics returns the metrics collectors of the listening port's
// factory: the refusal counts with -proxy-protocol, none otherwise.
func factoryMetrics(f reactor.Factory) []prometheus.Collector {
	if c, ok := f.(prometheus.Collector); ok {
		return []prometheus.Collector{c}
	}
	return nil
}

// refuseLogInterval spaces the refusal log lines: a scan or a
// misconfigured balancer makes one line per interval, not one per
// connection.
const refuseLogInterval = time.Second

// allowed reports whether the peer at addr may send a PROXY header.
func (f *proxyFactory) allowed(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip := ta.AddrPort().Addr().Unmap()
	for _, p := range f.from {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// BuildProtocol refuses a peer outside -proxy-from (the reactor closes the
// connection at once) and otherwise builds a proxiedProtocol. Runs on the
// new connection's loop; safe from several loops at once.
func (f *proxyFactory) BuildProtocol(addr net.Addr) reactor.Protocol {
	if !f.allowed(addr) {
		f.refuse(addr, refusedPeer, "peer not in -proxy-from")
		return nil
	}
	p := new(proxiedProtocol)
	f.srv.InitConn(&p.conn)
	p.hs, _ = f.pool.Get().(*headerState)
	if p.hs == nil {
		p.hs = new(headerState)
	}
	p.hs.f = f
	return p
}

// Refused returns the number of connections refused so far: from a peer
// outside -proxy-from, or without a valid PROXY header. Safe from any
// goroutine.
func (f *proxyFactory) Refused() int64 { return f.refused.Load() }

// refuse counts a refused connection and logs at most one line per
// refuseLogInterval, with the count since the last line and this refusal's
// peer and reason.
func (f *proxyFactory) refuse(peer net.Addr, why int, reason string) {
	f.byReason[why].Add(1)
	n := f.refused.Add(1)
	now := time.Now().UnixNano()
	last := f.lastLogAt.Load()
	if now-last < int64(refuseLogInterval) || !f.lastLogAt.CompareAndSwap(last, now) {
		return
	}
	since := n - f.logged.Swap(n)
	f.logger.Warn("proxy protocol: refused connections", "refused", since, "peer", addrString(peer), "reason", reason)
}

// addrString is a.String(), or "" for a nil address.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
