package protocol

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// Test doubles for the connection state machine, as Twisted's
// StringTransport and task.Clock: no sockets, no sleeps.

// fakeClock schedules delayed calls on a fake time; Advance runs the due
// ones synchronously, in time order.
type fakeClock struct {
	now   time.Duration
	seq   int
	calls []*fakeCall
}

// fakeCall is a DelayedCall of a fakeClock, with reactor.DelayedCall's
// semantics: Reset re-arms whatever the state, Cancel is idempotent.
type fakeCall struct {
	clk     *fakeClock
	when    time.Duration
	seq     int
	fn      func()
	pending bool
}

func (k *fakeClock) CallLater(d time.Duration, fn func()) DelayedCall {
	fc := &fakeCall{clk: k, fn: fn}
	fc.Reset(d)
	k.calls = append(k.calls, fc)
	return fc
}

func (fc *fakeCall) Reset(d time.Duration) {
	fc.clk.seq++
	fc.when, fc.seq, fc.pending = fc.clk.now+max(d, 0), fc.clk.seq, true
}
func (fc *fakeCall) Cancel()      { fc.pending = false }
func (fc *fakeCall) Active() bool { return fc.pending }

// Advance moves time forward by d, running every call that falls due.
func (k *fakeClock) Advance(d time.Duration) {
	end := k.now + d
	for {
		var next *fakeCall
		for _, fc := range k.calls {
			if fc.pending && fc.when <= end && (next == nil || fc.when < next.when || fc.when == next.when && fc.seq < next.seq) {
				next = fc
			}
		}
		if next == nil {
			break
		}
		k.now = next.when
		next.pending = false
		next.fn()
	}
	k.now = end
}

// Pending returns the number of calls waiting to run.
func (k *fakeClock) Pending() int {
	n := 0
	for _, fc := range k.calls {
		if fc.pending {
			n++
		}
	}
	return n
}

// fakeTransport records what a Conn does to its connection.
type fakeTransport struct {
	clk      *fakeClock
	out      []byte // everything written (unless discard)
	writes   int    // Write calls
	lost     bool   // LoseConnection called
	aborted  bool   // AbortConnection called
	late     int    // Write calls after LoseConnection or AbortConnection
	buffered int    // what OutboundBuffered reports
	discard  bool   // count writes but keep nothing (benchmarks, allocation tests)
	nbytes   int64  // bytes written
	sink     func([]byte)
	loop     int // what Loop reports
}

func (t *fakeTransport) Write(p []byte) (int, error) {
	t.writes++
	t.nbytes += int64(len(p))
	if t.lost || t.aborted {
		t.late++
	}
	if t.sink != nil {
		t.sink(p)
	} else if !t.discard {
		t.out = append(t.out, p...)
	}
	return len(p), nil
}
func (t *fakeTransport) LoseConnection()       { t.lost = true }
func (t *fakeTransport) AbortConnection()      { t.aborted = true }
func (t *fakeTransport) OutboundBuffered() int { return t.buffered }
func (t *fakeTransport) CallLater(d time.Duration, fn func()) DelayedCall {
	return t.clk.CallLater(d, fn)
}
func (t *fakeTransport) Loop() int { return t.loop }
func (t *fakeTransport) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}

// recorder is a Handler that wraps another and records the callbacks.
type recorder struct {
	inner  Handler
	opened int
	closes []string // "code reason"
}

func (r *recorder) OnOpen(c *Conn) {
	r.opened++
	r.inner.OnOpen(c)
}
func (r *recorder) OnData(c *Conn, op frame.Opcode, d []byte, first, fin bool) {
	r.inner.OnData(c, op, d, first, fin)
}
func (r *recorder) OnClose(c *Conn, code frame.CloseCode, reason string) {
	r.closes = append(r.closes, fmt.Sprintf("%d %s", code, reason))
	r.inner.OnClose(c, code, reason)
}

// testConfig is DefaultConfig with Origins left open.
func testConfig() Config { return DefaultConfig() }

// harness is one Conn on a fake transport and clock.
type harness struct {
	t   testing.TB
	srv *Server
	clk *fakeClock
	tr  *fakeTransport
	c   *Conn
	rec *recorder
}

// newHarness makes a Server with cfg and app (Echo when nil), whose
// handlers are wrapped in a recorder (h.rec is the last one built), and one
// connection on it, made.
func newHarness(t testing.TB, cfg Config, app func() Handler) *harness {
	if app == nil {
		app = Echo
	}
	h := &harness{t: t, clk: &fakeClock{}}
	h.srv = NewServer(cfg, func() Handler {
		h.rec = &recorder{inner: app()}
		return h.rec
	})
	h.add()
	return h
}

// add replaces h's connection with a new one on the same Server and clock.
func (h *harness) add() *harness {
	h.tr = &fakeTransport{clk: h.clk}
	h.c = h.srv.NewConn()
	h.c.ConnectionMade(h.tr)
	return h
}

// feed hands a copy of b to DataReceived (which unmasks in place).
func (h *harness) feed(b []byte) {
	h.c.DataReceived(append([]byte(nil), b...))
}

// feedChunks feeds b in pieces of k bytes.
func (h *harness) feedChunks(b []byte, k int) {
	for len(b) > 0 {
		n := min(k, len(b))
		h.feed(b[:n])
		b = b[n:]
	}
}

// lost ends the connection as the reactor would.
func (h *harness) lost() { h.c.ConnectionLost(nil) }

// output parses everything written so far.
func (h *harness) output() serverOutput { return parseOutput(h.tr.out) }

// The seed's request (issue 2) and the response it must get.
const (
	seedRequest = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
	seedResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
)

// open feeds the seed request and checks the 101 response.
func (h *harness) open() *harness {
	h.t.Helper()
	h.feed([]byte(seedRequest))
	if got := string(h.tr.out); got != seedResponse {
		h.t.Fatalf("response to the seed request:\n%q\nwant\n%q", got, seedResponse)
	}
	h.tr.out = h.tr.out[:0]
	h.tr.writes = 0
	return h
}

// testKey is the masking key of the test client's frames.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// cf is a masked client frame.
func cf(fin bool, op frame.Opcode, payload []byte) []byte {
	return frame.AppendMaskedFrame(nil, fin, op, testKey, payload)
}

// text and bin are whole single-frame client messages.
func text(s string) []byte { return cf(true, frame.OpText, []byte(s)) }
func bin(b []byte) []byte  { return cf(true, frame.OpBinary, b) }
func ping(s string) []byte { return cf(true, frame.OpPing, []byte(s)) }
func closeBody(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}
func closeFrame(body []byte) []byte { return cf(true, frame.OpClose, body) }

// rawFrame builds a masked client frame with explicit first byte (FIN,
// RSV, opcode), for frames AppendMaskedFrame will not make.
func rawFrame(b0 byte, payload []byte) []byte {
	f := cf(true, frame.OpBinary, payload)
	f[0] = b0
	return f
}

// cat joins byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// message is a data message as the client sees it.
type message struct {
	op   frame.Opcode
	data string
}

func (m message) String() string { return fmt.Sprintf("%v %q", m.op, m.data) }

// srvFrame is one frame written by the server.
type srvFrame struct {
	fin     bool
	op      frame.Opcode
	payload []byte
}

// serverOutput is what the server wrote, as a client reads it.
type serverOutput struct {
	status   string // HTTP status line, "" if none
	head     string // whole HTTP response head and body when not 101
	frames   []srvFrame
	msgs     []message // complete data messages
	partial  []byte    // data of a message left unfinished
	pongs    []string
	pings    int
	closed   bool // a close frame was sent
	code     frame.CloseCode
	reason   string
	problems []string // anything a client would reject
}

// parseOutput reads the server's output: an HTTP response, then (after a
// 101) unmasked frames. It is deliberately independent of frame.Decoder.
func parseOutput(b []byte) serverOutput {
	var o serverOutput
	if bytes.HasPrefix(b, []byte("HTTP/")) {
		i := bytes.Index(b, []byte("\r\n\r\n"))
		if i < 0 {
			o.problems = append(o.problems, "incomplete HTTP response")
			return o
		}
		o.status = string(b[:bytes.IndexByte(b, '\r')])
		if o.status != "HTTP/1.1 101 Switching Protocols" {
			o.head = string(b)
			return o
		}
		o.head, b = string(b[:i+4]), b[i+4:]
	}
	var cur []byte
	var curOp frame.Opcode
	for len(b) > 0 {
		if len(b) < 2 {
			o.problems = append(o.problems, "truncated frame header")
			break
		}
		f := srvFrame{fin: b[0]&0x80 != 0, op: frame.Opcode(b[0] & 0x0f)}
		if b[0]&0x70 != 0 || b[1]&0x80 != 0 {
			o.problems = append(o.problems, "RSV or MASK bit set")
		}
		n, hl := uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hl = uint64(b[2])<<8|uint64(b[3]), 4
			if n < 126 {
				o.problems = append(o.problems, "non-minimal length")
			}
		case 127:
			n, hl = 0, 10
			for _, c := range b[2:10] {
				n = n<<8 | uint64(c)
			}
			if n < 1<<16 {
				o.problems = append(o.problems, "non-minimal length")
			}
		}
		if uint64(len(b)-hl) < n {
			o.problems = append(o.problems, "truncated frame")
			break
		}
		f.payload, b = b[hl:hl+int(n)], b[hl+int(n):]
		o.frames = append(o.frames, f)
		if o.closed {
			o.problems = append(o.problems, fmt.Sprintf("%v frame after close", f.op))
		}
		switch f.op {
		case frame.OpText, frame.OpBinary:
			if curOp != 0 {
				o.problems = append(o.problems, "new message inside a fragmented one")
			}
			curOp, cur = f.op, append([]byte{}, f.payload...)
		case frame.OpContinuation:
			if curOp == 0 {
				o.problems = append(o.problems, "continuation without a message")
			}
			cur = append(cur, f.payload...)
		case frame.OpPong:
			o.pongs = append(o.pongs, string(f.payload))
		case frame.OpPing:
			o.pings++
		case frame.OpClose:
			o.closed = true
			if len(f.payload) >= 2 {
				o.code = frame.CloseCode(f.payload[0])<<8 | frame.CloseCode(f.payload[1])
				o.reason = string(f.payload[2:])
			} else {
				o.code = frame.CloseNoStatus
			}
		default:
			o.problems = append(o.problems, fmt.Sprintf("opcode %v", f.op))
		}
		if f.op.IsControl() {
			if !f.fin || len(f.payload) > 125 {
				o.problems = append(o.problems, "bad control frame")
			}
			continue
		}
		if f.fin && curOp != 0 {
			o.msgs = append(o.msgs, message{curOp, string(cur)})
			curOp, cur = 0, nil
		}
	}
	o.partial = cur
	return o
}
