package protocol

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// TestConnWriteBufferLimit: a client that does not read: once the output
// queued passes WriteBufferLimit the server stops echoing, closes with 1008,
// discards further input and aborts after CloseTimeout.
func TestConnWriteBufferLimit(t *testing.T) {
	cfg := timerConfig()
	cfg.WriteBufferLimit = 1000
	h := newHarness(t, cfg, nil).open()
	h.feed(text("one"))
	h.tr.buffered = 1000 // at the limit: fine
	h.feed(text("two"))
	h.tr.buffered = 1006 // past the limit plus the 5-byte message's own echo
	h.feed(cat(text("three"), text("four")))
	o := h.output()
	want := []message{{frame.OpText, "one"}, {frame.OpText, "two"}, {frame.OpText, "three"}, {frame.OpText, "four"}}
	if !slices.Equal(o.msgs, want) {
		t.Errorf("echoed %v; want %v (the read that passed the limit is echoed)", o.msgs, want)
	}
	if !o.closed || o.code != frame.ClosePolicyViolation || o.reason != "write buffer limit exceeded" || !h.tr.lost {
		t.Fatalf("closed %v %v %q, LoseConnection %v; want 1008 \"write buffer limit exceeded\"", o.closed, o.code, o.reason, h.tr.lost)
	}
	n := len(h.tr.out)
	for i := 0; i < 100; i++ {
		h.feed(bin(make([]byte, 1000)))
	}
	if len(h.tr.out) != n || h.tr.late != 0 {
		t.Fatal("input after the 1008 close was echoed")
	}
	h.abortsAfter(5 * time.Second)
	h.endClean()
}

// TestConnWriteBufferLimitMidRead: the limit is checked at every write,
// also when a big read is written in several pieces.
func TestConnWriteBufferLimitMidRead(t *testing.T) {
	cfg := timerConfig()
	cfg.WriteBufferLimit = 1000
	cfg.MaxMessageSize = 0
	h := newHarness(t, cfg, nil).open()
	h.tr.buffered = 1000 + 64<<10 + 1 // past the limit plus one message's slack
	var in []byte
	for i := 0; i < 10; i++ {
		in = append(in, bin(bytes.Repeat([]byte{byte(i)}, 64<<10))...)
	}
	h.feed(in)
	o := h.output()
	if o.code != frame.ClosePolicyViolation || len(o.msgs) >= 10 || len(o.problems) != 0 {
		t.Fatalf("code %v, %d echoes, problems %v; want 1008 before all 10 echoes", o.code, len(o.msgs), o.problems)
	}
	h.endClean()
}

// TestConnReadOutputCheckedEveryFlushAt: one read of many small messages
// (as a 512 KiB read buffer can bring) is written, and the write-buffer
// limit checked, every flushAt bytes at most: no Write of the echoes
// passes flushAt, and a client past the limit gets at most flushAt of
// echoes more before its 1008, however large the read (at the edge: a
// batch that ends exactly at flushAt is one write, one byte more is two).
func TestConnReadOutputCheckedEveryFlushAt(t *testing.T) {
	const size = 4096 // echo frame: 4 bytes of header + 4096
	var in []byte
	for i := 0; i < 100; i++ { // 400 KiB in one read
		in = append(in, bin(bytes.Repeat([]byte{byte(i)}, size))...)
	}
	cfg := timerConfig()
	h := newHarness(t, cfg, nil).open()
	var writes []int
	h.tr.sink = func(p []byte) { writes = append(writes, len(p)); h.tr.out = append(h.tr.out, p...) }
	h.feed(in)
	if o := h.output(); len(o.msgs) != 100 || o.closed {
		t.Fatalf("%d echoes, closed %v; want 100, open", len(o.msgs), o.closed)
	}
	perWrite := flushAt / (size + 4)
	for _, n := range writes {
		if n > flushAt {
			t.Fatalf("writes %v: one of %d bytes, past flushAt (%d)", writes, n, flushAt)
		}
	}
	if want := (100 + perWrite - 1) / perWrite; len(writes) != want {
		t.Errorf("%d writes %v; want %d (%d echoes of %d B each, at most flushAt %d per write)", len(writes), writes, want, perWrite, size+4, flushAt)
	}

	// Past the limit: the echoes before the 1008 fit in one flushAt.
	cfg.WriteBufferLimit = 1000
	h = newHarness(t, cfg, nil).open()
	h.tr.buffered = 1000 + size + 1 // past the limit plus one message's slack
	h.feed(in)
	o := h.output()
	if o.code != frame.ClosePolicyViolation || len(o.msgs) > perWrite || len(o.problems) != 0 {
		t.Fatalf("code %v, %d echoes, problems %v; want 1008 after at most %d echoes (one flushAt)", o.code, len(o.msgs), o.problems, perWrite)
	}
	h.endClean()

	// The edge: messages that fill flushAt exactly go in one write; one
	// byte more and the last message waits for the next.
	for _, extra := range []int{0, 1} {
		h = newHarness(t, timerConfig(), nil).open()
		writes = writes[:0]
		h.tr.sink = func(p []byte) { writes = append(writes, len(p)) }
		// Two messages whose echo frames (a 4-byte header each, payloads
		// of 126 to 65,535 bytes) add up to flushAt + extra.
		a := flushAt/2 - 4
		b := flushAt - (a + 4) - 4 + extra
		h.feed(cat(bin(make([]byte, a)), bin(make([]byte, b))))
		if want := 1 + extra; len(writes) != want {
			t.Errorf("echoes of %d+%d B (frames %d B in all, flushAt %d): writes %v; want %d", a, b, len(writes), flushAt, writes, want)
		}
	}
}

// TestConnWriteBufferSlack: the echo of a message the client is still
// sending, or has just sent, may back up past the limit (clients write a
// whole message before reading); once the client has read it, the plain
// limit applies again.
func TestConnWriteBufferSlack(t *testing.T) {
	cfg := timerConfig()
	cfg.WriteBufferLimit = 1000
	h := newHarness(t, cfg, nil).open()
	big := bytes.Repeat([]byte{7}, 50000)
	f := bin(big)
	h.feed(f[:30000])
	h.tr.buffered = 29000 // the echo so far, unread: allowed
	h.feed(f[30000:])
	h.tr.buffered = 50000
	h.feed(text("next")) // pipelined before reading the big echo: still allowed
	if o := h.output(); o.closed {
		t.Fatalf("closed with %v while the client's own message echo was unread", o.code)
	}
	h.tr.buffered = 100 // the client read it
	h.feed(text("a"))
	h.tr.buffered = 2000 // now past the plain limit
	h.feed(text("b"))
	o := h.output()
	if !o.closed || o.code != frame.ClosePolicyViolation {
		t.Fatalf("closed %v code %v; want 1008 once the slack was read and the limit passed", o.closed, o.code)
	}
	if len(o.msgs) != 4 || !bytes.Equal([]byte(o.msgs[0].data), big) {
		t.Errorf("echoed %d messages; want the big one, next, a, b", len(o.msgs))
	}
	h.abortsAfter(5 * time.Second)
	h.endClean()
}

// TestConnMaxConns: past MaxConns an upgrade gets 503 with Retry-After;
// open connections are untouched and a freed slot is reused.
func TestConnMaxConns(t *testing.T) {
	cfg := timerConfig()
	cfg.MaxConns = 2
	h := newHarness(t, cfg, nil).open()
	a := h.c
	h.add().open()
	b, btr := h.c, h.tr
	h.add()
	h.feed([]byte(seedRequest))
	o := h.output()
	if !strings.HasPrefix(o.status, "HTTP/1.1 503 ") || !strings.Contains(o.head, "\r\nRetry-After: 1\r\n") || !h.tr.lost {
		t.Fatalf("third connection: %q, LoseConnection %v; want 503 with Retry-After", o.head, h.tr.lost)
	}
	if h.srv.Open() != 2 {
		t.Fatalf("Open() = %d; want 2", h.srv.Open())
	}
	h.endClean2(2)
	a.DataReceived(text("still"))
	b.ConnectionLost(nil)
	b.ConnectionLost(nil) // counted once
	if btr.lost || h.srv.Open() != 1 {
		t.Fatalf("Open() = %d after one of two lost; want 1", h.srv.Open())
	}
	h.add().open()
	if h.srv.Open() != 2 {
		t.Fatalf("Open() = %d; want 2 after reuse", h.srv.Open())
	}
	h.lost()
	a.ConnectionLost(nil)
	if h.srv.Open() != 0 {
		t.Fatalf("Open() = %d; want 0", h.srv.Open())
	}
}

// endClean2 loses h's (rejected) connection and checks Open is still open.
func (h *harness) endClean2(open int64) {
	h.t.Helper()
	h.lost()
	if n := h.srv.Open(); n != open {
		h.t.Errorf("Server.Open() = %d; want %d", n, open)
	}
}

// TestConnShutdown503: after Server.Shutdown, upgrades get 503.
func TestConnShutdown503(t *testing.T) {
	h := newHarness(t, timerConfig(), nil)
	h.srv.Shutdown()
	h.feed([]byte(seedRequest))
	if o := h.output(); !strings.HasPrefix(o.status, "HTTP/1.1 503 ") || !h.tr.lost {
		t.Fatalf("status %q; want 503", o.status)
	}
	h.endClean()
}

// TestConnOrigin: an Origin outside the allow-list gets 403.
func TestConnOrigin(t *testing.T) {
	cfg := timerConfig()
	cfg.Origins = []string{"https://other.example", "HTTP://EXAMPLE.COM"}
	h := newHarness(t, cfg, nil).open() // http://example.com: allowed
	h.endClean()
	cfg.Origins = []string{"https://other.example"}
	h = newHarness(t, cfg, nil)
	h.feed([]byte(seedRequest))
	if o := h.output(); !strings.HasPrefix(o.status, "HTTP/1.1 403 ") || !h.tr.lost {
		t.Fatalf("status %q; want 403", o.status)
	}
	h.endClean()
}

// TestConnHandshakeErrors: a bad request gets its HTTP error, then the
// connection closes and whatever follows is ignored.
func TestConnHandshakeErrors(t *testing.T) {
	for _, tc := range []struct{ req, status string }{
		{"POST /chat HTTP/1.1\r\nHost: x\r\n\r\n", "405"},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "426"},
		{strings.Replace(seedRequest, "Version: 13", "Version: 8", 1), "426"},
		{strings.Replace(seedRequest, "dGhlIHNhbXBsZSBub25jZQ==", "abc", 1), "400"},
		{"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", handshake.MaxHeadBytes) + "\r\n\r\n", "431"},
		{"garbage\r\n\r\n", "400"},
	} {
		for _, k := range []int{1, 7, len(tc.req)} {
			h := newHarness(t, timerConfig(), nil)
			h.feedChunks(cat([]byte(tc.req), text("x")), k)
			o := h.output()
			if !strings.HasPrefix(o.status, "HTTP/1.1 "+tc.status+" ") || !h.tr.lost || h.tr.late != 0 || h.tr.writes != 1 {
				t.Errorf("%.30q in chunks of %d: %q, LoseConnection %v, %d writes; want %s once then close", tc.req, k, o.status, h.tr.lost, h.tr.writes, tc.status)
			}
			if h.rec != nil {
				t.Errorf("%.30q: a handler was built for a rejected handshake", tc.req)
			}
			h.endClean()
		}
	}
}

// TestConnGoingAway: graceful shutdown sends close 1001 after every echo
// owed, then runs the close handshake.
func TestConnGoingAway(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	var in []byte
	for i := 0; i < 20; i++ {
		in = append(in, bin(bytes.Repeat([]byte{byte(i)}, 100+i))...)
	}
	in = append(in, cf(false, frame.OpText, []byte("partial "))...)
	h.feedChunks(in, 777)
	h.tr.buffered = 1 << 30 // the client is not reading: nothing changes
	h.c.GoingAway()
	o := h.output()
	if len(o.msgs) != 20 || !o.closed || o.code != frame.CloseGoingAway || o.reason != "server shutting down" || len(o.problems) != 0 {
		t.Fatalf("%d echoes, close %v %v %q, problems %v; want 20 echoes then 1001", len(o.msgs), o.closed, o.code, o.reason, o.problems)
	}
	if string(o.partial) != "partial " {
		t.Errorf("partial message echoed %q", o.partial)
	}
	if h.tr.lost {
		t.Fatal("LoseConnection before the client's close")
	}
	h.c.GoingAway() // twice: nothing more
	h.feed(closeFrame(closeBody(1001, "")))
	if !h.tr.lost || len(h.output().frames) != len(o.frames) {
		t.Fatal("no LoseConnection, or more output, after the client's close")
	}
	h.endClean()
	if !slices.Equal(h.rec.closes, []string{"1001 "}) {
		t.Errorf("OnClose %q", h.rec.closes)
	}
}

// TestConnGoingAwayHandshake: a connection in its handshake is closed at
// once if it sent nothing, else answered 503 when its head is complete.
func TestConnGoingAwayHandshake(t *testing.T) {
	h := newHarness(t, timerConfig(), nil)
	h.c.GoingAway()
	if !h.tr.lost || len(h.tr.out) != 0 {
		t.Fatalf("silent handshake: LoseConnection %v, output %q", h.tr.lost, h.tr.out)
	}
	h.endClean()

	h = newHarness(t, timerConfig(), nil)
	h.feed([]byte(seedRequest[:50]))
	h.c.GoingAway()
	h.feed([]byte(seedRequest[50:]))
	if o := h.output(); !strings.HasPrefix(o.status, "HTTP/1.1 503 ") || !h.tr.lost {
		t.Fatalf("status %q; want 503", o.status)
	}
	h.endClean()

	h = newHarness(t, timerConfig(), nil)
	h.feed([]byte(seedRequest[:50]))
	h.c.GoingAway()
	h.clk.Advance(5 * time.Second) // CloseTimeout < HandshakeTimeout
	if !h.tr.aborted {
		t.Fatal("stalled handshake not dropped after CloseTimeout during shutdown")
	}
	h.endClean()
}

// TestConnOneWritePerRead: everything a read causes (101, echoes, pongs,
// close) goes out in one Write, and each whole frame is echoed as one
// unfragmented frame.
func TestConnOneWritePerRead(t *testing.T) {
	h := newHarness(t, timerConfig(), nil)
	h.feed(cat([]byte(seedRequest), text("a"), bin([]byte("bb")), ping("p"), text(kosme), closeFrame(closeBody(1000, ""))))
	if h.tr.writes != 1 {
		t.Fatalf("%d writes; want 1", h.tr.writes)
	}
	o := h.output()
	want := []srvFrame{
		{true, frame.OpText, []byte("a")}, {true, frame.OpBinary, []byte("bb")}, {true, frame.OpPong, []byte("p")},
		{true, frame.OpText, []byte(kosme)}, {true, frame.OpClose, []byte{3, 0xe8}},
	}
	if !slices.EqualFunc(o.frames, want, func(a, b srvFrame) bool {
		return a.fin == b.fin && a.op == b.op && bytes.Equal(a.payload, b.payload)
	}) {
		t.Errorf("frames %v; want %v", o.frames, want)
	}
	h.endClean()
}

// TestConnEchoCoalesces: the fragments of a message that arrive in one read
// go back as one fragment; a control frame in between splits it.
func TestConnEchoCoalesces(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	var in []byte
	in = append(in, cf(false, frame.OpBinary, []byte("a"))...)
	for i := 0; i < 200; i++ {
		in = append(in, cf(false, frame.OpContinuation, []byte("b"))...)
	}
	in = append(in, cf(true, frame.OpPing, []byte("p"))...)
	in = append(in, cf(false, frame.OpContinuation, bytes.Repeat([]byte("c"), 70000))...)
	in = append(in, cf(true, frame.OpContinuation, []byte("d"))...)
	h.feed(in)
	o := h.output()
	var got []string
	for _, fr := range o.frames {
		got = append(got, fmt.Sprintf("%v %d %v", fr.op, len(fr.payload), fr.fin))
	}
	want := []string{"binary 201 false", "pong 1 true", "continuation 70001 true"}
	if !slices.Equal(got, want) {
		t.Errorf("frames %q; want %q", got, want)
	}
	if len(o.msgs) != 1 || o.msgs[0].data != "a"+strings.Repeat("b", 200)+strings.Repeat("c", 70000)+"d" {
		t.Errorf("message not echoed byte-exact")
	}
	h.endClean()
}

// TestConnEchoStreams: each piece of a message goes back as it arrives, as
// a fragment: first with the message opcode, then continuations, FIN last;
// text only up to a code-point boundary.
func TestConnEchoStreams(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	f := cf(true, frame.OpText, []byte("ab"+kosme))
	h.feed(f[:8])   // header (6) + "ab"
	h.feed(f[8:11]) // "κ" and the first byte of "ό"
	h.feed(f[11:])
	o := h.output()
	var got []string
	for _, fr := range o.frames {
		got = append(got, fr.op.String()+" "+string(fr.payload)+map[bool]string{true: " FIN"}[fr.fin])
	}
	// The code point split across reads is completed by the next read and
	// goes back in that read's fragment, with the rest of it.
	want := []string{"text ab", "continuation κ", "continuation " + kosme[2:] + " FIN"}
	if !slices.Equal(got, want) {
		t.Errorf("frames %q; want %q", got, want)
	}
	h.endClean()
}

// TestConnWriteAPI: the output methods check the fragment order and the
// state; output outside DataReceived is written at once.
func TestConnWriteAPI(t *testing.T) {
	h := newHarness(t, timerConfig(), func() Handler { return BaseHandler{} }).open()
	c := h.c
	if err := c.WriteFragment(frame.OpText, []byte("a"), false, false); err != ErrFragmentOrder {
		t.Errorf("continuation first: %v", err)
	}
	if err := c.WriteMessage(frame.OpPing, nil); err != ErrNotDataOpcode {
		t.Errorf("ping as message: %v", err)
	}
	if err := c.WriteFragment(frame.OpText, []byte("a"), true, false); err != nil {
		t.Fatal(err)
	}
	if h.tr.writes != 1 {
		t.Errorf("%d writes; want 1 (written at once outside DataReceived)", h.tr.writes)
	}
	if err := c.WriteMessage(frame.OpBinary, []byte("x")); err != ErrFragmentOrder {
		t.Errorf("message inside a fragmented one: %v", err)
	}
	if err := c.WriteFragment(0, []byte("b"), false, true); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(frame.OpBinary, []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.Close(frame.CloseNormal, "")
	if err := c.WriteMessage(frame.OpBinary, []byte("x")); err != ErrClosed {
		t.Errorf("after Close: %v", err)
	}
	o := h.output()
	if want := []message{{frame.OpText, "ab"}, {frame.OpBinary, "x"}}; !slices.Equal(o.msgs, want) || o.code != 1000 {
		t.Errorf("messages %v, close %v; want %v, 1000", o.msgs, o.code, want)
	}
	if c.Subprotocol() != "chat" || c.RemoteAddr() == nil || c.Server() != h.srv {
		t.Errorf("Subprotocol %q, RemoteAddr %v", c.Subprotocol(), c.RemoteAddr())
	}
	h.endClean()
}
