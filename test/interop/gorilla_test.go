package interop

// Interoperability with gorilla/websocket v1.5.3 (see interop_go_test.go).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// gorillaDial opens a gorilla connection with d, to a path with a query and
// with the Origin of RFC 6455 §1.3's example; it is closed when the test
// ends.
func gorillaDial(t testing.TB, addr string, d gorilla.Dialer) (*gorilla.Conn, *http.Response) {
	t.Helper()
	d.HandshakeTimeout = interopOpTimeout
	c, resp, err := d.Dial("ws://"+addr+"/chat?room=interop", http.Header{"Origin": {"http://example.com"}})
	if err != nil {
		t.Fatalf("gorilla: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp
}

type gorillaConn struct{ c *gorilla.Conn }

func (g gorillaConn) write(k interopKind, p []byte) error {
	g.c.SetWriteDeadline(time.Now().Add(interopOpTimeout))
	return g.c.WriteMessage(int(k), p)
}

func (g gorillaConn) writeFragments(k interopKind, parts [][]byte) error {
	g.c.SetWriteDeadline(time.Now().Add(interopOpTimeout))
	w, err := g.c.NextWriter(int(k))
	if err != nil {
		return err
	}
	for _, part := range parts {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return w.Close()
}

func (g gorillaConn) read() (interopKind, []byte, error) {
	g.c.SetReadDeadline(time.Now().Add(interopOpTimeout))
	k, p, err := g.c.ReadMessage()
	return interopKind(k), p, err
}

func (g gorillaConn) close() error {
	return gorillaCloseHandshake(g.c, gorilla.CloseNormalClosure, "", gorilla.CloseNormalClosure)
}

// gorillaCloseHandshake sends a close frame with code and reason (an empty
// body for CloseNoStatusReceived), reads until the server's close and checks
// it carries want, then checks the server closes TCP by itself soon after
// (§7.1.1: the server closes the TCP connection first).
func gorillaCloseHandshake(c *gorilla.Conn, code int, reason string, want int) error {
	deadline := time.Now().Add(interopOpTimeout)
	if err := c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason), deadline); err != nil {
		return fmt.Errorf("gorilla: write close %d: %w", code, err)
	}
	c.SetReadDeadline(deadline)
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue // echoes still in flight before the server's close
		}
		var ce *gorilla.CloseError
		if !errors.As(err, &ce) {
			return fmt.Errorf("gorilla: after close %d: %v; want the server's close frame", code, err)
		}
		if ce.Code != want {
			return fmt.Errorf("gorilla: close %d %q answered with %d %q; want %d", code, reason, ce.Code, ce.Text, want)
		}
		break
	}
	// The server closes TCP after the handshake without waiting for us.
	nc := c.NetConn()
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
		return fmt.Errorf("gorilla: after the close handshake read = %d, %v; want EOF (server closes TCP)", n, err)
	}
	return nil
}

func TestInteropGorilla(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, testkit.Config())

	t.Run("Handshake", func(t *testing.T) {
		for _, tc := range interopOffers {
			// EnableCompression offers permessage-deflate, which the
			// server declines without -deflate (§9.1; with it:
			// TestInteropGorillaDeflate).
			c, resp := gorillaDial(t, addr, gorilla.Dialer{Subprotocols: tc.offer, EnableCompression: true})
			if got := c.Subprotocol(); got != tc.want {
				t.Errorf("offer %q: subprotocol %q, want %q", tc.offer, got, tc.want)
			}
			if tc.want == "" && len(resp.Header.Values("Sec-WebSocket-Protocol")) > 0 {
				t.Errorf("offer %q: response carries Sec-WebSocket-Protocol %q; want none", tc.offer, resp.Header.Values("Sec-WebSocket-Protocol"))
			}
			if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
				t.Errorf("offer %q: response accepts extensions %q; want none", tc.offer, ext)
			}
			if err := interopEcho(gorillaConn{c}, interopText, []byte("hello "+tc.want), nil); err != nil {
				t.Errorf("offer %q: %v", tc.offer, err)
			}
			if err := (gorillaConn{c}).close(); err != nil {
				t.Errorf("offer %q: %v", tc.offer, err)
			}
		}
	})

	interopDataTests(t, addr, func(t testing.TB, addr string, fragmented bool) interopConn {
		var d gorilla.Dialer
		if fragmented {
			d.WriteBufferSize = 64 // NextWriter flushes a frame per 64 bytes
		}
		c, _ := gorillaDial(t, addr, d)
		return gorillaConn{c}
	})

	t.Run("PingPong", func(t *testing.T) {
		c, _ := gorillaDial(t, addr, gorilla.Dialer{WriteBufferSize: 64})
		var pongs []string // appended by the pong handler, on the reading goroutine
		c.SetPongHandler(func(data string) error { pongs = append(pongs, data); return nil })
		deadline := time.Now().Add(interopOpTimeout)
		longest := strings.Repeat("p", 125) // the longest control payload (§5.5)
		for _, data := range []string{"ping-1", "", longest} {
			if err := c.WriteControl(gorilla.PingMessage, []byte(data), deadline); err != nil {
				t.Fatal(err)
			}
		}
		// A ping between the fragments of a message is answered at once
		// (§5.4: control frames may be injected in the middle).
		msg := interopPayload(interopText, 1000)
		c.SetWriteDeadline(deadline)
		w, err := c.NextWriter(gorilla.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg[:500]); err != nil { // flushes 7 fragments of 64 bytes
			t.Fatal(err)
		}
		if err := c.WriteControl(gorilla.PingMessage, []byte("mid-message"), deadline); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg[500:]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		k, got, err := gorillaConn{c}.read()
		if err != nil || k != interopText || !bytes.Equal(got, msg) {
			t.Fatalf("echo around a ping = %v, %s, %v; want text %d bytes", k, interopDiff(got, msg), err, len(msg))
		}
		want := []string{"ping-1", "", longest, "mid-message"}
		if fmt.Sprint(pongs) != fmt.Sprint(want) {
			t.Errorf("pongs %q; want %q", pongs, want)
		}
		if err := (gorillaConn{c}).close(); err != nil {
			t.Error(err)
		}
	})

	t.Run("Close", func(t *testing.T) {
		for _, tc := range []struct {
			code   int
			reason string
			want   int
		}{
			{4000, "bye", 4000},
			{gorilla.CloseNormalClosure, "", gorilla.CloseNormalClosure},
			{gorilla.CloseGoingAway, "going away ✓", gorilla.CloseGoingAway},
			{3000, "", 3000},
			{gorilla.CloseNoStatusReceived, "", gorilla.CloseNormalClosure}, // empty body: 1000 (§5.5.1)
		} {
			c, _ := gorillaDial(t, addr, gorilla.Dialer{})
			if err := interopEcho(gorillaConn{c}, interopBinary, []byte{1, 2, 3}, nil); err != nil {
				t.Fatal(err)
			}
			interopQuickClose(t, func() error { return gorillaCloseHandshake(c, tc.code, tc.reason, tc.want) })
		}
	})

	t.Run("MessageTooBig", func(t *testing.T) {
		small := interopSmallServer(t)
		for _, tc := range []struct {
			name   string
			bufLen int // gorilla's frame size
			size   int
		}{
			{"one frame", 4096, 1025},
			{"64-byte fragments", 64, 3000},
		} {
			c, _ := gorillaDial(t, small, gorilla.Dialer{WriteBufferSize: tc.bufLen})
			// A message of exactly the limit is echoed.
			if err := interopEcho(gorillaConn{c}, interopBinary, make([]byte, 1024), nil); err != nil {
				t.Fatalf("%s: at the limit: %v", tc.name, err)
			}
			// The write may fail once the server has closed: only the close
			// code the reader sees matters.
			go gorillaConn{c}.write(interopBinary, make([]byte, tc.size))
			c.SetReadDeadline(time.Now().Add(interopOpTimeout))
			var ce *gorilla.CloseError
			for {
				_, _, err := c.ReadMessage()
				if err == nil {
					continue // a streamed echo of the first fragments
				}
				if !errors.As(err, &ce) || ce.Code != gorilla.CloseMessageTooBig {
					t.Errorf("%s: over the limit: read error %v; want close 1009", tc.name, err)
				}
				break
			}
		}
	})
}
