package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/proxyproto"
	"github.com/wsreactor/wsreactor/reactor"
)

// proxyConfig is testConfig with -proxy-protocol and -proxy-from from.
func proxyConfig(t testing.TB, from string) config {
	cfg := testConfig()
	cfg.ProxyProtocol = true
	var err error
	if cfg.ProxyFrom, err = parseProxyFrom(from); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// lockedBuffer collects log output from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged is startRunning with the server's debug log in buf.
func startLogged(t testing.TB, cfg config, buf *lockedBuffer) running {
	t.Helper()
	return startRunningLogger(t, cfg, slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// wsRequest is an opening handshake.
const wsRequest = "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// sendProxied dials addr and writes pieces one by one (a pause between
// them, so that they arrive as separate reads), then returns a wsConn
// reading what the server answers.
func sendProxied(t testing.TB, addr string, pieces ...[]byte) *wsConn {
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
	return &wsConn{Conn: c, br: bufio.NewReaderSize(c, 64<<10)}
}

// readUpgrade reads the response head and reports whether it is the 101.
func (ws *wsConn) readUpgrade(t testing.TB) {
	t.Helper()
	ws.SetDeadline(time.Now().Add(5 * time.Second))
	defer ws.SetDeadline(time.Time{})
	status, err := ws.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		t.Fatalf("upgrade answered %q, %v; want 101", status, err)
	}
	for {
		line, err := ws.br.ReadString('\n')
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

// peersSeen returns RemoteAddr of every open proxied connection, as the
// WebSocket state machine sees it.
func peersSeen(r running) []string {
	var mu sync.Mutex
	var out []string
	r.r.ForEachProtocol(func(p reactor.Protocol) {
		if pp, ok := p.(*proxiedProtocol); ok {
			a := pp.conn.RemoteAddr().String()
			mu.Lock()
			out = append(out, a)
			mu.Unlock()
		}
	})
	return out
}

// TestProxyProtocolClientAddress: with -proxy-protocol a header, the
// request and a frame in one write, or each in pieces, open a connection
// that echoes, and the client address of the header becomes the
// connection's RemoteAddr and is in the debug log line. A LOCAL header
// (a health check) or UNKNOWN leaves the real peer.
func TestProxyProtocolClientAddress(t *testing.T) {
	var logs lockedBuffer
	r := startLogged(t, proxyConfig(t, "127.0.0.0/8"), &logs)
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
			ws.readUpgrade(t)
			if bytes.Contains(bytes.Join(c.split(proxyproto.AppendHeader(nil, c.h)), nil), maskedText("one write")) {
				if _, msg, err := ws.readMessage(); err != nil || string(msg) != "one write" {
					t.Fatalf("echo of the frame sent with the header: %q, %v", msg, err)
				}
			}
			ws.echo(t, frame.OpText, []byte("hello through the balancer"))
			want := c.client
			if want == "" {
				want = ws.LocalAddr().String() // the real peer: this socket
			}
			if peers := peersSeen(r); !contains(peers, want) {
				t.Fatalf("server sees peers %q; want one of them to be %q", peers, want)
			}
			if !eventually(2*time.Second, func() bool { return strings.Contains(logs.String(), "client="+want+" ") }) {
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
	var logs lockedBuffer
	r := startLogged(t, proxyConfig(t, "127.0.0.1"), &logs)
	addr := r.Addr().String()
	f := func() *proxyFactory { return r.factory.(*proxyFactory) }

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
	if got := f().Refused(); got != int64(len(bad)) {
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
	if got := f().Refused(); got != int64(len(bad)+many) {
		t.Fatalf("Refused() = %d after %d bad headers", got, len(bad)+many)
	}
	// bad has 2 connections without a header (HTTP, TLS) and 3 invalid
	// headers; the many cycle through it.
	for why, want := range map[int]int64{refusedPeer: 0, refusedNoProxy: 2 + 2*many/5, refusedInvalid: 3 + 3*many/5} {
		if got := f().byReason[why].Load(); got != want {
			t.Errorf("refusals for %s = %d; want %d", refusalLabels[why], got, want)
		}
	}
	if n := strings.Count(logs.String(), "refused connections"); n < 1 || n > 3 {
		t.Fatalf("%d refusal log lines for %d refusals within a few seconds; want 1 to 3:\n%s", n, len(bad)+many, logs.String())
	}
	// The server still serves a good header.
	ws := sendProxied(t, addr, append(proxyproto.AppendHeader(nil, proxyproto.Header{Version: 2, Command: proxyproto.Local}), wsRequest...))
	ws.readUpgrade(t)
	ws.echo(t, frame.OpBinary, []byte{1, 2, 3})
	if r.r.Connections() != 1 {
		t.Fatalf("%d connections open; want only the good one", r.r.Connections())
	}
}

// TestProxyFromRefusesOthers: a peer outside -proxy-from is closed at
// accept, before it can send a byte.
// The refusal is in /metrics.
func TestProxyFromRefusesOthers(t *testing.T) {
	var logs lockedBuffer
	cfg := proxyConfig(t, "192.0.2.0/24,2001:db8::/32")
	cfg.AdminAddr = "127.0.0.1:0"
	r := startLogged(t, cfg, &logs)
	c := sendProxied(t, r.Addr().String(), append(proxyproto.AppendHeader(nil, proxyproto.Header{Version: 2, Command: proxyproto.Local}), wsRequest...))
	expectDropped(t, c.Conn)
	if got := r.factory.(*proxyFactory).Refused(); got != 1 {
		t.Fatalf("Refused() = %d; want 1", got)
	}
	if !eventually(2*time.Second, func() bool { return strings.Contains(logs.String(), "peer not in -proxy-from") }) {
		t.Fatalf("no refusal line in the log:\n%s", logs.String())
	}
	code, body, err := httpGet("http://" + r.AdminAddr() + "/metrics")
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
	addr := startServer(t, testConfig())
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

// TestProxiedProtocolSize: -proxy-protocol costs each connection one
// pointer and the client's packed address beyond the plain protocol, and
// the address survives the packing.
func TestProxiedProtocolSize(t *testing.T) {
	for _, s := range []string{"192.0.2.1:56324", "[2001:db8::7]:4000", "[::ffff:192.0.2.1]:1", "0.0.0.0:0", "[::]:65535"} {
		var tr proxiedTransport
		a := netip.MustParseAddrPort(s)
		tr.setClient(a)
		if got, ok := tr.client(); !ok || got != a {
			t.Errorf("setClient(%s): client() = %s, %v", s, got, ok)
		}
		if got := tr.RemoteAddr().String(); got != s && !a.Addr().Is4In6() { // net prints ::ffff:a.b.c.d as a.b.c.d
			t.Errorf("setClient(%s): RemoteAddr %s", s, got)
		}
	}
	extra := unsafe.Sizeof(proxiedProtocol{}) - unsafe.Sizeof(wsProtocol{})
	if extra > 32 {
		t.Fatalf("proxiedProtocol is %d bytes larger than wsProtocol; want at most 32", extra)
	}
}

// TestProxyFlags: -proxy-from takes prefixes and addresses, refuses junk,
// and means nothing without -proxy-protocol.
func TestProxyFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // prefixes, or an error substring
	}{
		{[]string{"-proxy-protocol"}, "[127.0.0.0/8 ::1/128]"},
		{[]string{"-proxy-protocol", "-proxy-from", "10.1.2.3, 10.0.0.0/8 ,2001:db8::/32"}, "[10.1.2.3/32 10.0.0.0/8 2001:db8::/32]"},
		{[]string{"-proxy-protocol", "-proxy-from", "10.0.0.9/8"}, "[10.0.0.0/8]"},
		{[]string{"-proxy-protocol", "-proxy-from", "10.0.0/8"}, `"10.0.0/8" is neither a CIDR prefix`},
		{[]string{"-proxy-protocol", "-proxy-from", "fe80::1%eth0"}, "is neither"},
		{[]string{"-proxy-protocol", "-proxy-from", " , "}, "no prefix given"},
		{[]string{"-proxy-from", "10.0.0.0/8"}, "without -proxy-protocol"},
		{nil, "[]"},
	} {
		cfg, err := parseFlags(newFlagSet(), c.args)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = "[" + fmtPrefixes(cfg.ProxyFrom) + "]"
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("parseFlags(%q) = %s; want %s", c.args, got, c.want)
		}
	}
}

func fmtPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// TestProxiedEchoDoesNotAllocate: once a -proxy-protocol connection has
// read its header and upgraded, echoing allocates nothing per message,
// server and client together, as on a plain connection.
func TestProxiedEchoDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cfg := proxyConfig(t, "127.0.0.1")
	cfg.Loops = 1
	r := startRunning(t, cfg)
	h := proxyproto.Header{Version: 2, Command: proxyproto.Proxy, Family: proxyproto.Inet, Transport: proxyproto.Stream,
		Source: netip.MustParseAddrPort("192.0.2.1:56324"), Destination: netip.MustParseAddrPort("198.51.100.7:443")}
	ws := sendProxied(t, r.Addr().String(), append(proxyproto.AppendHeader(nil, h), wsRequest...))
	ws.readUpgrade(t)
	msg := frame.AppendMaskedFrame(nil, true, frame.OpBinary, [4]byte{9, 8, 7, 6}, make([]byte, 512))
	echo := make([]byte, 2+2+512) // unmasked header with a 16-bit length, then the payload
	roundTrip := func() {
		ws.Write(msg)
		io.ReadFull(ws.br, echo)
	}
	for range 100 {
		roundTrip()
	}
	if a := testing.AllocsPerRun(2000, roundTrip); a > 0.05 {
		t.Fatalf("%.2f allocations per echoed message; want 0", a)
	}
	if peers := peersSeen(r); len(peers) != 1 || peers[0] != "192.0.2.1:56324" {
		t.Fatalf("server sees peers %q; want the header's client", peers)
	}
}

// TestProxyFlagsFromEnvironment: WSREACTOR_PROXY_PROTOCOL and
// WSREACTOR_PROXY_FROM work like the flags, and the command line wins.
func TestProxyFlagsFromEnvironment(t *testing.T) {
	t.Setenv("WSREACTOR_PROXY_FROM", "10.0.0.0/8")
	if _, err := parseFlags(newFlagSet(), nil); err == nil || !strings.Contains(err.Error(), "without -proxy-protocol") {
		t.Fatalf("WSREACTOR_PROXY_FROM alone: %v; want the error that it needs -proxy-protocol", err)
	}
	t.Setenv("WSREACTOR_PROXY_PROTOCOL", "true")
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil || !cfg.ProxyProtocol || fmtPrefixes(cfg.ProxyFrom) != "10.0.0.0/8" {
		t.Fatalf("from the environment: %v, %v, %s", err, cfg.ProxyProtocol, fmtPrefixes(cfg.ProxyFrom))
	}
	cfg, err = parseFlags(newFlagSet(), []string{"-proxy-from", "192.0.2.7"})
	if err != nil || fmtPrefixes(cfg.ProxyFrom) != "192.0.2.7/32" {
		t.Fatalf("command line over the environment: %v, %s", err, fmtPrefixes(cfg.ProxyFrom))
	}
}
