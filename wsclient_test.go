package main

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

// wsConn is a minimal blocking WebSocket client for the process-level tests
// (hostile clients, shutdown, churn). It uses this project's frame codec;
// the conformance tests use a client of their own written from the RFC.
type wsConn struct {
	net.Conn
	br  *bufio.Reader
	dec frame.Decoder

	offer      string // Sec-WebSocket-Extensions offered, "" none
	extensions string // Sec-WebSocket-Extensions answered, "" none
}

// dialWS connects and completes the opening handshake.
func dialWS(addr string) (*wsConn, error) { return dialWSWith(addr, nil, "") }

// dialWSAfter is dialWS sending prefix first (a PROXY protocol header).
func dialWSAfter(addr string, prefix []byte) (*wsConn, error) { return dialWSWith(addr, prefix, "") }

// dialWSExt is dialWS offering the extensions ext (a
// Sec-WebSocket-Extensions value; "" for none); ws.extensions is the
// server's answer.
func dialWSExt(addr, ext string) (*wsConn, error) { return dialWSWith(addr, nil, ext) }

// dialWSWith connects, sends prefix, and completes the opening handshake
// offering the extensions ext.
func dialWSWith(addr string, prefix []byte, ext string) (*wsConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(prefix); err != nil {
		c.Close()
		return nil, err
	}
	ws := &wsConn{Conn: c, br: bufio.NewReaderSize(c, 64<<10), offer: ext}
	if err := ws.handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return ws, nil
}

func (ws *wsConn) handshake() error {
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
	status, err := ws.br.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		return fmt.Errorf("handshake answered %q", status)
	}
	for {
		line, err := ws.br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Sec-WebSocket-Extensions") {
			ws.extensions = strings.TrimSpace(value)
		}
	}
}

// openWS dials and completes the handshake or fails the test; the
// connection is closed when the test ends. Test goroutine only (mustDial is
// for other goroutines).
func openWS(t testing.TB, addr string) *wsConn {
	t.Helper()
	ws, err := dialWS(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// writeFrame sends one masked frame.
func (ws *wsConn) writeFrame(fin bool, op frame.Opcode, payload []byte) error {
	var key [4]byte
	rand.Read(key[:])
	_, err := ws.Write(frame.AppendMaskedFrame(nil, fin, op, key, payload))
	return err
}

// readFrame reads one whole frame from the server.
func (ws *wsConn) readFrame() (frame.Header, []byte, error) {
	var (
		h       frame.Header
		payload []byte
		inFrame bool
	)
	for {
		if ws.br.Buffered() == 0 {
			if _, err := ws.br.Peek(1); err != nil {
				return h, nil, err
			}
		}
		chunk, _ := ws.br.Peek(ws.br.Buffered())
		ev, n, err := ws.dec.Next(chunk)
		if err != nil {
			return h, nil, err
		}
		ws.br.Discard(n)
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

// readMessage reads frames until a whole data message has arrived,
// answering nothing; control frames other than close are skipped. A close
// frame ends it with a *closeFrame error.
func (ws *wsConn) readMessage() (frame.Opcode, []byte, error) {
	var (
		op  frame.Opcode
		msg []byte
	)
	for {
		h, p, err := ws.readFrame()
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
			return 0, nil, &closeFrame{code, string(reason)}
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

// closeFrame is the error readMessage returns when the server closed.
type closeFrame struct {
	code   frame.CloseCode
	reason string
}

func (c *closeFrame) Error() string { return fmt.Sprintf("close %d %q", c.code, c.reason) }

// expectClose reads until the server's close frame and asserts its code.
func (ws *wsConn) expectClose(t testing.TB, want frame.CloseCode) {
	t.Helper()
	for {
		_, _, err := ws.readMessage()
		var cf *closeFrame
		if errors.As(err, &cf) {
			if cf.code != want {
				t.Errorf("close code %d (%q), want %d", cf.code, cf.reason, want)
			}
			return
		}
		if err != nil {
			t.Errorf("reading until close %d: %v", want, err)
			return
		}
	}
}

// echo sends one message and asserts it comes back byte-exact.
func (ws *wsConn) echo(t testing.TB, op frame.Opcode, payload []byte) {
	t.Helper()
	ws.SetDeadline(time.Now().Add(10 * time.Second))
	defer ws.SetDeadline(time.Time{})
	if err := ws.writeFrame(true, op, payload); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotOp, got, err := ws.readMessage()
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if gotOp != op || !bytes.Equal(got, payload) {
		t.Fatalf("echo = %v %d bytes; want %v %d bytes", gotOp, len(got), op, len(payload))
	}
}
