package conformance

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/service"
)

// The conformance tests drive the real server over loopback with a client
// of their own (conformance_client_test.go, conformance_wire_test.go and
// conformance_http_test.go), written from RFC 6455, through
// the ground the Autobahn test suite covers: groups 1 (framing), 2 (pings),
// 3 (reserved bits), 4 (reserved opcodes), 5 (fragmentation), 6 (UTF-8),
// 7 (close handshake), 9 (large messages) and 10 (fragmentation of large
// echoes), plus the opening handshake, delivery in arbitrary pieces, many
// connections, and hostile input. Cases are named after Autobahn's numbers
// where one matches. Each case ends the way Autobahn's do: with a clean
// close handshake that nothing unexpected comes before, or with the close
// code the RFC demands and the server closing TCP.

// conformanceConfig is the default configuration with two changes that make
// the server's obligations visible: no keepalive pings (a ping the case did
// not ask for would be an unexpected frame), and a close timeout far longer
// than the client waits, so a server that waits for the client to close TCP
// after the close handshake fails instead of passing late.
func conformanceConfig() service.Config {
	cfg := testkit.Config()
	cfg.PingInterval = 0
	cfg.CloseTimeout = 30 * time.Second
	return cfg
}

// rfcCase is one conformance case: it gets a connection that has completed
// the opening handshake.
type rfcCase struct {
	name string
	run  func(c *rfcConn)
}

// runCases runs each case as a parallel subtest on its own connection.
func runCases(t *testing.T, addr string, cases []rfcCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(openConn(t, addr))
		})
	}
}

// rfcConn is rfcClient for the test goroutine: every failure fails the test.
type rfcConn struct {
	*rfcClient
	t testing.TB
}

// openConn connects and completes the opening handshake; the connection is
// closed when the test ends.
func openConn(t testing.TB, addr string) *rfcConn {
	t.Helper()
	c, err := rfcOpen(addr)
	if err != nil {
		t.Fatalf("opening handshake: %v", err)
	}
	t.Cleanup(func() { c.conn.Close() })
	return &rfcConn{c, t}
}

// dialConn connects without a handshake.
func dialConn(t testing.TB, addr string) *rfcConn {
	t.Helper()
	c, err := rfcDial(addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.conn.Close() })
	return &rfcConn{c, t}
}

// send writes frames in one write.
func (c *rfcConn) send(frames ...rfcFrame) {
	c.t.Helper()
	c.sendBytes(rfcWire(frames...))
}

// sendBytes writes b in one write.
func (c *rfcConn) sendBytes(b []byte) {
	c.t.Helper()
	c.writeErr(c.write(b))
}

// sendChopped writes frames in pieces of chop bytes with delay after each.
func (c *rfcConn) sendChopped(chop int, delay time.Duration, frames ...rfcFrame) {
	c.t.Helper()
	c.writeErr(c.writeChopped(rfcWire(frames...), chop, delay))
}

// writeErr fails the test on a write error, except the errors of writing
// to a connection the server has already closed: cases that send bad
// frames followed by more may see those, and what the server sent before
// closing decides the case.
func (c *rfcConn) writeErr(err error) {
	c.t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		c.t.Logf("write after the server closed: %v", err)
	default:
		c.t.Fatalf("write: %v", err)
	}
}

// expectMessage checks that the next thing the server sends is the data
// message op with payload (reassembled: the echo may be fragmented
// differently from what was sent).
func (c *rfcConn) expectMessage(op byte, payload []byte) {
	c.t.Helper()
	if err := c.checkMessage(op, payload); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rfcConn) expectText(s string) {
	c.t.Helper()
	c.expectMessage(rfcOpText, []byte(s))
}

// expectPong checks that the next thing the server sends is a pong with
// payload (§5.5.3: the pong carries the ping's application data).
func (c *rfcConn) expectPong(payload string) {
	c.t.Helper()
	ev, err := c.readEvent()
	if err != nil {
		c.t.Fatalf("waiting for pong %q: %v", payload, err)
	}
	if ev.op != rfcOpPong || string(ev.payload) != payload {
		c.t.Fatalf("got %v; want pong %q", ev, payload)
	}
}

// expectClose checks that the server closes with code and then closes TCP
// (see checkClose).
func (c *rfcConn) ExpectClose(code uint16) {
	c.t.Helper()
	if err := c.checkClose(code); err != nil {
		c.t.Fatal(err)
	}
}

// expectCloseFIN is expectClose for when the last thing sent was a close
// frame: TCP must then be closed cleanly (see checkCloseFIN).
func (c *rfcConn) expectCloseFIN(code uint16) {
	c.t.Helper()
	if err := c.checkCloseFIN(code); err != nil {
		c.t.Fatal(err)
	}
}

// expectEchoPrefix checks that what the server echoed of a message it then
// failed (the echo streams, so it may have sent the start) is the start of
// sent, byte-exact.
func (c *rfcConn) expectEchoPrefix(sent []byte) {
	c.t.Helper()
	if !bytes.HasPrefix(sent, c.msg) {
		c.t.Fatalf("before closing, the server echoed %d bytes %s that do not start the message sent %s%s",
			len(c.msg), rfcShort(c.msg), rfcShort(sent), rfcDiff(c.msg, sent))
	}
}

// closeNormally ends a case that expects the connection to be healthy:
// close 1000, answered by close 1000 with nothing before it, then TCP
// closed by the server.
func (c *rfcConn) closeNormally() {
	c.t.Helper()
	if err := c.closeHandshake(); err != nil {
		c.t.Fatal(err)
	}
}

// sendFramewise writes each frame with a write of its own (Autobahn's
// "frame-wise chops").
func (c *rfcConn) sendFramewise(frames ...rfcFrame) {
	c.t.Helper()
	for _, f := range frames {
		c.send(f)
	}
}

// rfcTextPayload is n bytes of valid UTF-8 mixing 1- to 4-byte code points,
// so that any cut into fragments is likely to split a code point.
func rfcTextPayload(n int) []byte {
	const unit = "Hello-µ@ßöäüàá-UTF-8!! κόσμε €𝄞 "
	b := bytes.Repeat([]byte(unit), n/len(unit)+1)[:n]
	// Do not end inside a code point: pad the cut one with ASCII.
	for i := max(0, n-3); i < n; i++ {
		if utf8.RuneStart(b[i]) && !utf8.FullRune(b[i:]) {
			for j := i; j < n; j++ {
				b[j] = '.'
			}
			break
		}
	}
	return b
}

// rfcBinaryPayload is n pseudo-random bytes (all 256 values), different for
// each seed, so that a reordered or misplaced chunk shows.
func rfcBinaryPayload(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 1})
	r.Read(b)
	return b
}

// rfcPayload is a payload of n bytes fit for opcode op.
func rfcPayload(op byte, n int) []byte {
	if op == rfcOpText {
		return rfcTextPayload(n)
	}
	return rfcBinaryPayload(n, uint64(n))
}
