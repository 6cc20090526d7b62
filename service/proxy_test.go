package service_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/proxyproto"
	"github.com/wsreactor/wsreactor/service"
)

// proxyConfig is testConfig with -proxy-protocol and -proxy-from from.
func proxyConfig(t testing.TB, from string) service.Config {
	cfg := testkit.Config()
	cfg.ProxyProtocol = true
	var err error
	if cfg.ProxyFrom, err = service.ParseProxyFrom(from); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// wsRequest is an opening handshake.
const wsRequest = "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// sendProxied dials addr and writes pieces one by one (a pause between
// them, so that they arrive as separate reads), then returns a testkit.WSConn
// reading what the server answers.
func sendProxied(t testing.TB, addr string, pieces ...[]byte) *testkit.WSConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for i, p := range pieces {
		if i > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	return &testkit.WSConn{Conn: c, BR: bufio.NewReaderSize(c, 64<<10)}
}

// readUpgrade reads the response head and reports whether it is the 101.
func readUpgrade(t testing.TB, ws *testkit.WSConn) {
	t.Helper()
	ws.SetDeadline(time.Now().Add(5 * time.Second))
	defer ws.SetDeadline(time.Time{})
	status, err := ws.BR.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		t.Fatalf("upgrade answered %q, %v; want 101", status, err)
	}
	for {
		line, err := ws.BR.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			return
		}
	}
}

// maskedText is a masked text frame carrying s.
func maskedText(s string) []byte {
	return frame.AppendMaskedFrame(nil, true, frame.OpText, [4]byte{1, 2, 3, 4}, []byte(s))
}

// TestProxyProtocolClientAddress: with -proxy-protocol a header, the
// request and a frame in one write, or each in pieces, open a connection
// that echoes, and the client address of the header becomes the
// connection's RemoteAddr and is in the debug log line. A LOCAL header
// (a health check) or UNKNOWN leaves the real peer.
func TestProxyProtocolClientAddress(t *testing.T) {
	var logs testkit.LockedBuffer
	r := testkit.StartLogged(t, proxyConfig(t, "127.0.0.0/8"), &logs)
	addr := r.Addr().String()
	v4 := proxyproto.Header{Version: 2, Command: proxyproto.Proxy, Family: proxyproto.Inet, Transport: proxyproto.Stream,
		Source: netip.MustParseAddrPort("192.0.2.1:56324"), Destination: netip.MustParseAddrPort("198.51.100.7:443")}
	v6 := proxyproto.Header{Version: 1, Command: proxyproto.Proxy, Family: proxyproto.Inet6, Transport: proxyproto.Stream,
		Source: netip.MustParseAddrPort("[2001:db8::7]:4000"), Destination: netip.MustParseAddrPort("[2001:db8::1]:443")}
	local := proxyproto.Header{Version: 2, Command: proxyproto.Local}
	unknown := proxyproto.Header{Version: 1, Command: proxyproto.Proxy}

	for _, c := range []struct {
		name   string
		h      proxyproto.Header
		split  func(hdr []byte) [][]byte
		client string // "" : the real peer
	}{
		{"v2 header, request and frame in one write", v4, func(h []byte) [][]byte {
			return [][]byte{append(append(h, wsRequest...), maskedText("one write")...)}
		}, "192.0.2.1:56324"},
		{"v2 header split in three", v4, func(h []byte) [][]byte {
			return [][]byte{h[:5], h[5:14], append(h[14:], wsRequest...)}
		}, "192.0.2.1:56324"},
		{"v1 tcp6 header alone, then the request", v6, func(h []byte) [][]byte {
			return [][]byte{h, []byte(wsRequest)}
		}, "[2001:db8::7]:4000"},
		{"v1 header byte by byte", v6, func(h []byte) [][]byte {
			var out [][]byte
			for i := range h {
				out = append(out, h[i:i+1])
			}
			return append(out, []byte(wsRequest))
		}, "[2001:db8::7]:4000"},
		{"v2 LOCAL", local, func(h []byte) [][]byte { return [][]byte{append(h, wsRequest...)} }, ""},
		{"v1 UNKNOWN", unknown, func(h []byte) [][]byte { return [][]byte{append(h, wsRequest...)} }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := sendProxied(t, addr, c.split(proxyproto.AppendHeader(nil, c.h))...)
			readUpgrade(t, ws)
			if bytes.Contains(bytes.Join(c.split(proxyproto.AppendHeader(nil, c.h)), nil), maskedText("one write")) {
				if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "one write" {
					t.Fatalf("echo of the frame sent with the header: %q, %v", msg, err)
				}
			}
			ws.Echo(t, frame.OpText, []byte("hello through the balancer"))
			want := c.client
			if want == "" {
				want = ws.LocalAddr().String() // the real peer: this socket
			}
			if peers := service.ProxiedPeers(r); !contains(peers, want) {
				t.Fatalf("server sees peers %q; want one of them to be %q", peers, want)
			}
			if !testkit.Eventually(2*time.Second, func() bool { return strings.Contains(logs.String(), "client="+want+" ") }) {
				t.Fatalf("no debug line with client=%s in the log:\n%s", want, logs.String())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// expectDropped checks that the server closes c without writing a byte.
func expectDropped(t testing.TB, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	var ne net.Error
	if n != 0 || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("server wrote %d bytes, then %v; want the connection closed without a response", n, err)
	}
}

// TestProxyProtocolRefused: with -proxy-protocol, a connection without a
// valid header is dropped without a response, as is a connection from a
// peer outside -proxy-from; many at once leave the server serving, and the
// refusals are counted and logged once per interval, not per connection.
func TestProxyProtocolRefused(t *testing.T) {
	var logs testkit.LockedBuffer
	r := testkit.StartLogged(t, proxyConfig(t, "127.0.0.1"), &logs)
	addr := r.Addr().String()

	bad := [][]byte{
		[]byte(wsRequest), // a client that skipped the balancer
		[]byte("PROXY TCP4 192.0.2.256 198.51.100.7 56324 443\r\n" + wsRequest),
		[]byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\n" + wsRequest),
		append([]byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff"), wsRequest...), // past MaxV2Length
		{0x16, 0x03, 0x01, 0x00, 0xa5, 0x01},                                   // a TLS ClientHello: wss:// straight to the server
	}
	for _, in := range bad {
		c := sendProxied(t, addr, in)
		expectDropped(t, c.Conn)
	}
	if got := r.ProxyRefused(); got != int64(len(bad)) {
		t.Fatalf("Refused() = %d after %d bad headers", got, len(bad))
	}

	// Many at once, some in pieces.
	const many = 60
	var wg sync.WaitGroup
	for i := range many {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			in := bad[i%len(bad)]
			c.Write(in[:len(in)/2])
			c.Write(in[len(in)/2:])
			expectDropped(t, c)
		}()
	}
	wg.Wait()
	if got := r.ProxyRefused(); got != int64(len(bad)+many) {
		t.Fatalf("Refused() = %d after %d bad headers", got, len(bad)+many)
	}
	// bad has 2 connections without a header (HTTP, TLS) and 3 invalid
	// headers; the many cycle through it.
	byReason := service.ProxyRefusedBy(r)
	for why, want := range map[string]int64{"peer_not_allowed": 0, "not_proxy": 2 + 2*many/5, "invalid_header": 3 + 3*many/5} {
		if got := byReason[why]; got != want {
			t.Errorf("refusals for %s = %d; want %d", why, got, want)
		}
	}
	if n := strings.Count(logs.String(), "refused connections"); n < 1 || n > 3 {
		t.Fatalf("%d refusal log lines for %d refusals within a few seconds; want 1 to 3:\n%s", n, len(bad)+many, logs.String())
	}
	// The server still serves a good header.
	ws := sendProxied(t, addr, append(proxyproto.AppendHeader(nil, proxyproto.Header{Version: 2, Command: proxyproto.Local}), wsRequest...))
	readUpgrade(t, ws)
	ws.Echo(t, frame.OpBinary, []byte{1, 2, 3})
	if r.Reactor().Connections() != 1 {
		t.Fatalf("%d connections open; want only the good one", r.Reactor().Connections())
	}
}

// TestProxyFromRefusesOthers: a peer outside -proxy-from is closed at
// accept, before it can send a byte.
// The refusal is in /metrics.
func TestProxyFromRefusesOthers(t *testing.T) {
	var logs testkit.LockedBuffer
	cfg := proxyConfig(t, "192.0.2.0/24,2001:db8::/32")
	cfg.AdminAddr = "127.0.0.1:0"
	r := testkit.StartLogged(t, cfg, &logs)
	c := sendProxied(t, r.Addr().String(), append(proxyproto.AppendHeader(nil, proxyproto.Header{Version: 2, Command: proxyproto.Local}), wsRequest...))
	expectDropped(t, c.Conn)
	if got := r.ProxyRefused(); got != 1 {
		t.Fatalf("Refused() = %d; want 1", got)
	}
	if !testkit.Eventually(2*time.Second, func() bool { return strings.Contains(logs.String(), "peer not in -proxy-from") }) {
		t.Fatalf("no refusal line in the log:\n%s", logs.String())
	}
	code, body, err := testkit.HTTPGet("http://" + r.AdminAddr() + "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("GET /metrics = %d, %v", code, err)
	}
	for _, want := range []string{
		`wsreactor_proxy_refused_total{reason="peer_not_allowed"} 1`,
		`wsreactor_proxy_refused_total{reason="not_proxy"} 0`,
		`wsreactor_proxy_refused_total{reason="invalid_header"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics has no line %q", want)
		}
	}
}

// TestNoProxyProtocolRejectsHeader: without -proxy-protocol a request that
// starts with a PROXY header gets 400 naming it.
func TestNoProxyProtocolRejectsHeader(t *testing.T) {
	addr := testkit.StartAddr(t, testkit.Config())
	for _, h := range []proxyproto.Header{
		{Version: 1, Command: proxyproto.Proxy, Family: proxyproto.Inet, Transport: proxyproto.Stream,
			Source: netip.MustParseAddrPort("192.0.2.1:1"), Destination: netip.MustParseAddrPort("192.0.2.2:2")},
		{Version: 2, Command: proxyproto.Local},
	} {
		c := sendProxied(t, addr, append(proxyproto.AppendHeader(nil, h), wsRequest...))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, _ := io.ReadAll(c)
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 400 ")) || !bytes.Contains(resp, []byte("PROXY protocol version")) {
			t.Fatalf("version %d header without -proxy-protocol answered %q; want 400 naming the PROXY header", h.Version, resp)
		}
	}
}

// TestProxiedEchoDoesNotAllocate: once a -proxy-protocol connection has
// read its header and upgraded, echoing allocates nothing per message,
// server and client together, as on a plain connection.
func TestProxiedEchoDoesNotAllocate(t *testing.T) {
	if testkit.RaceEnabled {
		t.Skip("the race detector allocates")
	}
	cfg := proxyConfig(t, "127.0.0.1")
	cfg.Loops = 1
	r := testkit.Start(t, cfg)
	h := proxyproto.Header{Version: 2, Command: proxyproto.Proxy, Family: proxyproto.Inet, Transport: proxyproto.Stream,
		Source: netip.MustParseAddrPort("192.0.2.1:56324"), Destination: netip.MustParseAddrPort("198.51.100.7:443")}
	ws := sendProxied(t, r.Addr().String(), append(proxyproto.AppendHeader(nil, h), wsRequest...))
	readUpgrade(t, ws)
	msg := frame.AppendMaskedFrame(nil, true, frame.OpBinary, [4]byte{9, 8, 7, 6}, make([]byte, 512))
	echo := make([]byte, 2+2+512) // unmasked header with a 16-bit length, then the payload
	roundTrip := func() {
		ws.Write(msg)
		io.ReadFull(ws.BR, echo)
	}
	for range 100 {
		roundTrip()
	}
	if a := testing.AllocsPerRun(2000, roundTrip); a > 0.05 {
		t.Fatalf("%.2f allocations per echoed message; want 0", a)
	}
	if peers := service.ProxiedPeers(r); len(peers) != 1 || peers[0] != "192.0.2.1:56324" {
		t.Fatalf("server sees peers %q; want the header's client", peers)
	}
}
