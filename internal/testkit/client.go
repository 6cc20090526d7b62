package testkit

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// WSConn is a minimal blocking WebSocket client for the end-to-end tests
// (hostile clients, shutdown, churn, PROXY). It uses this project's frame
// codec; the conformance tests use a client of their own written from the
// RFC, so that a bug in the codec cannot hide itself.
type WSConn struct {
	net.Conn
	BR  *bufio.Reader // what the server sent, past the handshake
	dec frame.Decoder

	offer      string // Sec-WebSocket-Extensions offered, "" none
	Extensions string // Sec-WebSocket-Extensions answered, "" none
}

// DialWS connects and completes the opening handshake.
func DialWS(addr string) (*WSConn, error) { return DialWSWith(addr, nil, "") }

// DialWSAfter is DialWS sending prefix first (a PROXY protocol header).
func DialWSAfter(addr string, prefix []byte) (*WSConn, error) { return DialWSWith(addr, prefix, "") }

// DialWSExt is DialWS offering the extensions ext (a
// Sec-WebSocket-Extensions value; "" for none); ws.Extensions is the
// server's answer.
func DialWSExt(addr, ext string) (*WSConn, error) { return DialWSWith(addr, nil, ext) }

// DialWSWith connects, sends prefix, and completes the opening handshake
// offering the extensions ext.
func DialWSWith(addr string, prefix []byte, ext string) (*WSConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(prefix); err != nil {
		c.Close()
		return nil, err
	}
	ws := &WSConn{Conn: c, BR: bufio.NewReaderSize(c, 64<<10), offer: ext}
	if err := ws.handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return ws, nil
}

func (ws *WSConn) handshake() error {
	var key [16]byte
	rand.Read(key[:])
	req := "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n"
	if ws.offer != "" {
		req += "Sec-WebSocket-Extensions: " + ws.offer + "\r\n"
	}
	req += "\r\n"
	ws.SetDeadline(time.Now().Add(5 * time.Second))
	defer ws.SetDeadline(time.Time{})
	if _, err := io.WriteString(ws.Conn, req); err != nil {
		return err
	}
	status, err := ws.BR.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		return fmt.Errorf("handshake answered %q", status)
	}
	for {
		line, err := ws.BR.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Sec-WebSocket-Extensions") {
			ws.Extensions = strings.TrimSpace(value)
		}
	}
}

// OpenWS dials and completes the handshake or fails the test; the
// connection is closed when the test ends. Test goroutine only (mustDial is
// for other goroutines).
func OpenWS(t testing.TB, addr string) *WSConn {
	t.Helper()
	ws, err := DialWS(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// WriteFrame sends one masked frame.
func (ws *WSConn) WriteFrame(fin bool, op frame.Opcode, payload []byte) error {
	var key [4]byte
	rand.Read(key[:])
	_, err := ws.Write(frame.AppendMaskedFrame(nil, fin, op, key, payload))
	return err
}

// ReadFrame reads one whole frame from the server.
func (ws *WSConn) ReadFrame() (frame.Header, []byte, error) {
	var (
		h       frame.Header
		payload []byte
		inFrame bool
	)
	for {
		if ws.BR.Buffered() == 0 {
			if _, err := ws.BR.Peek(1); err != nil {
				return h, nil, err
			}
		}
		chunk, _ := ws.BR.Peek(ws.BR.Buffered())
		ev, n, err := ws.dec.Next(chunk)
		if err != nil {
			return h, nil, err
		}
		ws.BR.Discard(n)
		switch ev.Kind {
		case frame.KindHeader:
			h, inFrame = ev.Header, true
			if h.Masked {
				return h, nil, errors.New("server frame is masked")
			}
		case frame.KindPayload:
			payload = append(payload, ev.Data...)
		}
		if inFrame && ev.End {
			return h, payload, nil
		}
	}
}

// ReadMessage reads frames until a whole data message has arrived,
// answering nothing; control frames other than close are skipped. A close
// frame ends it with a *CloseFrame error.
func (ws *WSConn) ReadMessage() (frame.Opcode, []byte, error) {
	var (
		op  frame.Opcode
		msg []byte
	)
	for {
		h, p, err := ws.ReadFrame()
		if err != nil {
			return 0, nil, err
		}
		switch h.Opcode {
		case frame.OpPing, frame.OpPong:
			continue
		case frame.OpClose:
			code, reason, err := frame.ParseCloseBody(p)
			if err != nil {
				return 0, nil, err
			}
			return 0, nil, &CloseFrame{code, string(reason)}
		case frame.OpContinuation:
		default:
			op = h.Opcode
		}
		msg = append(msg, p...)
		if h.Fin {
			return op, msg, nil
		}
	}
}

// CloseFrame is the error readMessage returns when the server closed.
type CloseFrame struct {
	Code   frame.CloseCode
	Reason string
}

func (c *CloseFrame) Error() string { return fmt.Sprintf("close %d %q", c.Code, c.Reason) }

// ExpectClose reads until the server's close frame and asserts its code.
func (ws *WSConn) ExpectClose(t testing.TB, want frame.CloseCode) {
	t.Helper()
	for {
		_, _, err := ws.ReadMessage()
		var cf *CloseFrame
		if errors.As(err, &cf) {
			if cf.Code != want {
				t.Errorf("close code %d (%q), want %d", cf.Code, cf.Reason, want)
			}
			return
		}
		if err != nil {
			t.Errorf("reading until close %d: %v", want, err)
			return
		}
	}
}

// Echo sends one message and asserts it comes back byte-exact.
func (ws *WSConn) Echo(t testing.TB, op frame.Opcode, payload []byte) {
	t.Helper()
	ws.SetDeadline(time.Now().Add(10 * time.Second))
	defer ws.SetDeadline(time.Time{})
	if err := ws.WriteFrame(true, op, payload); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotOp, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if gotOp != op || !bytes.Equal(got, payload) {
		t.Fatalf("echo = %v %d bytes; want %v %d bytes", gotOp, len(got), op, len(payload))
	}
}
