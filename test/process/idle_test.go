package process

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/proxyproto"
)

// TestIdleMemoryPerConnection: an open, idle WebSocket connection costs
// the server at most 1 KiB of memory (RSS), gnet's own share included,
// with the ping timer armed.
func TestIdleMemoryPerConnection(t *testing.T) {
	idleMemory(t, nil)
}

// TestIdleMemoryPerProxiedConnection: the same with -proxy-protocol, each
// connection opened with a PROXY v2 header as HAProxy sends it.
func TestIdleMemoryPerProxiedConnection(t *testing.T) {
	hdr := proxyproto.AppendHeader(nil, proxyproto.Header{Version: 2, Command: proxyproto.Proxy,
		Family: proxyproto.Inet, Transport: proxyproto.Stream,
		Source: netip.MustParseAddrPort("192.0.2.1:56324"), Destination: netip.MustParseAddrPort("198.51.100.7:443")})
	idleMemory(t, hdr, "-proxy-protocol")
}

// idleMemory opens n idle connections, each starting with prefix, to the
// command run with args, and checks the RSS they cost.
func idleMemory(t *testing.T, prefix []byte, args ...string) {
	if testing.Short() {
		t.Skip("opens 8,000 connections")
	}
	const n = 8000
	p := testkit.StartProc(t, append([]string{"-loops", "2"}, args...)...)
	mustDial := func(t *testing.T, addr string) *testkit.WSConn {
		ws, err := testkit.DialWSAfter(addr, prefix)
		if err != nil {
			t.Error(err)
			return nil
		}
		return ws
	}
	// Warm up the pools and the loops' buffers with a few connections.
	for i := 0; i < 10; i++ {
		ws := mustDial(t, p.Addr)
		ws.Echo(t, frame.OpText, []byte("warm"))
		ws.Close()
	}
	time.Sleep(200 * time.Millisecond)
	base := p.RSSKB(t)
	conns := make([]*testkit.WSConn, 0, n)
	defer func() {
		for _, ws := range conns {
			ws.Close()
		}
	}()
	for i := 0; i < n; i++ {
		ws := mustDial(t, p.Addr)
		if ws == nil {
			t.FailNow()
		}
		conns = append(conns, ws)
	}
	time.Sleep(500 * time.Millisecond)
	per := float64(p.RSSKB(t)-base) * 1024 / n
	t.Logf("%d idle connections: RSS %d KiB before, %d KiB after: %.0f bytes each", n, base, p.RSSKB(t), per)
	if per > 1024 {
		t.Errorf("%.0f bytes of RSS per idle connection; want at most 1024", per)
	}
	// Every one of them still works.
	for i := 0; i < n; i += n / 100 {
		conns[i].Echo(t, frame.OpBinary, []byte{byte(i)})
	}
}
