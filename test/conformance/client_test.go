package conformance

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
	"unicode/utf8"
)

// This file is the conformance tests' own WebSocket client, written from
// RFC 6455 alone. It shares no code with frame/ or protocol/, so that when
// it and the server agree, two independent readings of the RFC agree. It
// gives the tests full control over what goes on the wire (any opcode, RSV
// bits, unmasked frames, declared lengths that lie, frames cut into
// arbitrary TCP writes) and checks everything the server sends: §5.1 (server
// frames are unmasked), §5.2 (RSV bits zero, known opcodes, minimal length
// encoding), §5.4 (fragment order), §5.5 (control frames short and whole),
// §5.5.1 and §7.4 (close bodies), §8.1 (text is UTF-8).

const (
	// rfcProgressTimeout is how long a read or write may wait for the
	// server to make progress before the test fails instead of hanging.
	rfcProgressTimeout = 10 * time.Second
	// rfcCloseWait is how long the server has to close TCP after its close
	// frame. The conformance server's own close timeout is far longer, so
	// a server that waits for the client to close first fails here.
	rfcCloseWait = 5 * time.Second
	// rfcMaxFrame bounds a frame the client will accept from the server.
	rfcMaxFrame = 64 << 20
)

// rfcRecv is a frame received from the server.
type rfcRecv struct {
	fin     bool
	op      byte
	payload []byte
}

// rfcEvent is what the server said: a whole data message (reassembled from
// its fragments) or one control frame.
type rfcEvent struct {
	op      byte
	payload []byte
}

func (e rfcEvent) String() string {
	switch e.op {
	case rfcOpClose:
		code, reason := rfcParseClose(e.payload)
		return fmt.Sprintf("close %d %q", code, reason)
	case rfcOpText, rfcOpBinary:
		return fmt.Sprintf("%s message of %d bytes %s", rfcOpName(e.op), len(e.payload), rfcShort(e.payload))
	}
	return fmt.Sprintf("%s %s", rfcOpName(e.op), rfcShort(e.payload))
}

// rfcShort quotes the start of b for failure messages.
func rfcShort(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q...", b[:40])
	}
	return fmt.Sprintf("%q", b)
}

// rfcClient is a raw WebSocket client over one TCP connection. Its methods
// return errors so that goroutines other than the test's can use it; the
// tests use it through rfcConn. It is used by one reading goroutine and at
// most one writing goroutine at a time.
type rfcClient struct {
	conn net.Conn
	br   *bufio.Reader
	// The data message being reassembled (§5.4): its opcode (0 when none
	// is in progress) and the data so far.
	msgOp byte
	msg   []byte
}

// rfcDial opens a TCP connection without a handshake.
func rfcDial(addr string) (*rfcClient, error) {
	conn, err := net.DialTimeout("tcp", addr, rfcProgressTimeout)
	if err != nil {
		return nil, err
	}
	c := &rfcClient{conn: conn}
	c.br = bufio.NewReaderSize(rfcProgressReader{conn}, 64<<10)
	return c, nil
}

// rfcProgressReader sets a fresh read deadline on every read, so a long
// transfer may take as long as it needs but a stalled server fails the
// test after rfcProgressTimeout.
type rfcProgressReader struct{ conn net.Conn }

func (r rfcProgressReader) Read(p []byte) (int, error) {
	r.conn.SetReadDeadline(time.Now().Add(rfcProgressTimeout))
	return r.conn.Read(p)
}

// rfcOpen dials and completes the opening handshake (§4.1), offering no
// subprotocol.
func rfcOpen(addr string) (*rfcClient, error) {
	c, err := rfcDial(addr)
	if err != nil {
		return nil, err
	}
	key := rfcNewKey()
	resp, err := c.upgrade(rfcRequest("/", key))
	if err == nil {
		err = resp.checkUpgrade(key)
	}
	if err != nil {
		c.conn.Close()
		return nil, err
	}
	return c, nil
}

// write sends b in as few writes as the socket allows (one, for anything
// that fits), each with a progress deadline.
func (c *rfcClient) write(b []byte) error {
	const piece = 1 << 20
	for len(b) > 0 {
		n := min(len(b), piece)
		c.conn.SetWriteDeadline(time.Now().Add(rfcProgressTimeout))
		if _, err := c.conn.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// writeChopped sends b in writes of chop bytes, pausing delay after each,
// so that the server receives it in pieces (Autobahn's "chops").
func (c *rfcClient) writeChopped(b []byte, chop int, delay time.Duration) error {
	for len(b) > 0 {
		n := min(len(b), chop)
		if err := c.write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if delay > 0 && len(b) > 0 {
			time.Sleep(delay)
		}
	}
	return nil
}

// writeAsync sends b in writes of chop bytes from another goroutine, so
// that the test can read the echo of a large message while it is still
// being sent. The channel gets the result.
func (c *rfcClient) writeAsync(b []byte, chop int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.writeChopped(b, chop, 0) }()
	return done
}

// readFrame reads one frame and checks it as RFC 6455 requires of frames a
// server sends, with no extension negotiated.
func (c *rfcClient) ReadFrame() (rfcRecv, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return rfcRecv{}, fmt.Errorf("reading frame header: %w", err)
	}
	f := rfcRecv{fin: h[0]&0x80 != 0, op: h[0] & 0xF}
	rsv := h[0] >> 4 & 7
	masked := h[1]&0x80 != 0
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return f, fmt.Errorf("reading 16-bit length: %w", err)
		}
		if n = uint64(binary.BigEndian.Uint16(ext[:])); n < 126 {
			return f, fmt.Errorf("server used the 16-bit length form for %d bytes; §5.2 requires the minimal form", n)
		}
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return f, fmt.Errorf("reading 64-bit length: %w", err)
		}
		if n = binary.BigEndian.Uint64(ext[:]); n <= 0xFFFF || n>>63 != 0 {
			return f, fmt.Errorf("server used the 64-bit length form for %d bytes; §5.2 requires the minimal form and a clear top bit", n)
		}
	}
	switch {
	case masked:
		return f, errors.New("server sent a masked frame; §5.1: a server MUST NOT mask")
	case rsv != 0:
		return f, fmt.Errorf("server set RSV bits %03b with no extension negotiated (§5.2)", rsv)
	case f.op > rfcOpBinary && f.op < rfcOpClose || f.op > rfcOpPong:
		return f, fmt.Errorf("server sent reserved opcode %#x (§5.2)", f.op)
	case f.op >= rfcOpClose && (n > 125 || !f.fin):
		return f, fmt.Errorf("server sent a %s frame of %d bytes, fin %v; §5.5: at most 125 bytes, not fragmented", rfcOpName(f.op), n, f.fin)
	case n > rfcMaxFrame:
		return f, fmt.Errorf("server frame of %d bytes is larger than any this test sends", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return f, fmt.Errorf("reading %d-byte %s payload: %w", n, rfcOpName(f.op), err)
	}
	if f.op == rfcOpClose {
		if len(f.payload) == 1 {
			return f, errors.New("server sent a 1-byte close body (§5.5.1)")
		}
		code, reason := rfcParseClose(f.payload)
		if len(f.payload) >= 2 && !rfcValidCloseCode(code) {
			return f, fmt.Errorf("server sent close code %d, not one an endpoint may send (§7.4)", code)
		}
		if !utf8.ValidString(reason) {
			return f, fmt.Errorf("server sent close reason %q that is not UTF-8 (§5.5.1)", reason)
		}
	}
	return f, nil
}

// readEvent reads frames until a data message is complete or a control
// frame arrives (§5.4 allows control frames between fragments). The
// reassembly state survives across calls, so a pong between two fragments
// of an echo is returned first and the message after.
func (c *rfcClient) readEvent() (rfcEvent, error) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return rfcEvent{}, err
		}
		switch {
		case f.op >= rfcOpClose:
			return rfcEvent{op: f.op, payload: f.payload}, nil
		case f.op == rfcOpCont && c.msgOp == 0:
			return rfcEvent{}, errors.New("server sent a continuation frame with no message started (§5.4)")
		case f.op != rfcOpCont && c.msgOp != 0:
			return rfcEvent{}, fmt.Errorf("server started a %s message inside a %s message (§5.4)", rfcOpName(f.op), rfcOpName(c.msgOp))
		case f.op != rfcOpCont:
			c.msgOp = f.op
		}
		c.msg = append(c.msg, f.payload...)
		if !f.fin {
			continue
		}
		ev := rfcEvent{op: c.msgOp, payload: c.msg}
		c.msgOp, c.msg = 0, nil
		if ev.op == rfcOpText && !utf8.Valid(ev.payload) {
			return ev, fmt.Errorf("server sent a text message that is not UTF-8 (§8.1): %s", rfcShort(ev.payload))
		}
		return ev, nil
	}
}

// checkMessage reads the next event and checks that it is the data
// message op with payload want.
func (c *rfcClient) checkMessage(op byte, want []byte) error {
	ev, err := c.readEvent()
	if err != nil {
		return fmt.Errorf("waiting for the echo of a %d-byte %s message: %w", len(want), rfcOpName(op), err)
	}
	if ev.op != op || !bytes.Equal(ev.payload, want) {
		return fmt.Errorf("got %v; want %s message of %d bytes %s%s", ev, rfcOpName(op), len(want), rfcShort(want), rfcDiff(ev.payload, want))
	}
	return nil
}

// rfcDiff says where got first differs from want, for long payloads.
func rfcDiff(got, want []byte) string {
	if len(got) < 40 && len(want) < 40 {
		return ""
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(" (first difference at byte %d)", i)
		}
	}
	return fmt.Sprintf(" (lengths %d and %d)", len(got), len(want))
}

// checkClose reads until the server's close frame and checks its code,
// then checks that the server closes TCP without waiting for the client
// (§7.1.1: the server closes the TCP connection first; §7.1.7: failing a
// connection closes it). Before the close, only fragments of a message
// that never completes may arrive (the echo streams, so part of a message
// that later fails may have been echoed), and text echoed so far must not
// include an invalid byte.
func (c *rfcClient) checkClose(want uint16) error {
	if err := c.readClose(want); err != nil {
		return err
	}
	return c.checkTCPClosed("its close frame", true)
}

// readClose reads until the server's close frame and checks its code (see
// checkClose).
func (c *rfcClient) readClose(want uint16) error {
	ev, err := c.readEvent()
	if err != nil {
		return fmt.Errorf("waiting for close %d: %w", want, err)
	}
	if ev.op != rfcOpClose {
		return fmt.Errorf("got %v; want close %d", ev, want)
	}
	if code, reason := rfcParseClose(ev.payload); code != want {
		return fmt.Errorf("server closed with %d %q; want %d", code, reason, want)
	}
	if c.msgOp == rfcOpText && !rfcUTF8Prefix(c.msg) {
		return fmt.Errorf("server echoed invalid UTF-8 before closing: %s", rfcShort(c.msg))
	}
	return nil
}

// checkTCPClosed checks that the server closes the connection within
// rfcCloseWait and sends nothing more after what (its close frame, an
// HTTP error response). With resetOK, a reset counts as closed: a server
// that fails a connection may close it with bytes of ours unread (the
// kernel then resets it), and Linux still delivers what arrived before
// the reset. Without it, the server must have closed cleanly (a FIN).
func (c *rfcClient) checkTCPClosed(after string, resetOK bool) error {
	if n := c.br.Buffered(); n > 0 {
		extra, _ := c.br.Peek(n)
		return fmt.Errorf("server sent %d bytes after %s: %s", n, after, rfcShort(extra))
	}
	c.conn.SetReadDeadline(time.Now().Add(rfcCloseWait))
	var b [512]byte
	n, err := c.conn.Read(b[:])
	switch {
	case n > 0:
		return fmt.Errorf("server sent %d bytes after %s: %s", n, after, rfcShort(b[:n]))
	case errors.Is(err, io.EOF), resetOK && errors.Is(err, syscall.ECONNRESET):
		return nil
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("server reset the connection after %s instead of closing it", after)
	case rfcIsTimeout(err):
		return fmt.Errorf("server did not close TCP within %v after %s", rfcCloseWait, after)
	}
	return fmt.Errorf("after %s: %w", after, err)
}

func rfcIsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// checkCloseFIN is checkClose for when the server has read all the client
// sent (a close, sent last): it must then close TCP with a FIN, not a
// reset.
func (c *rfcClient) checkCloseFIN(want uint16) error {
	if err := c.readClose(want); err != nil {
		return err
	}
	return c.checkTCPClosed("its close frame", false)
}

// closeHandshake starts a clean close (§7.1.2) and checks the server
// answers it with 1000 and then closes TCP.
func (c *rfcClient) closeHandshake() error {
	if err := c.write(rfcCloseFrame(1000, "").encode(nil)); err != nil {
		return fmt.Errorf("sending close: %w", err)
	}
	return c.checkCloseFIN(1000)
}
