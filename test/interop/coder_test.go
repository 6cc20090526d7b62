package interop

// Interoperability with coder/websocket v1.8.15 (see interop_go_test.go).

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// coderDial opens a coder connection; it is closed when the test ends.
func coderDial(t testing.TB, addr string, opts *coder.DialOptions) (*coder.Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopOpTimeout)
	defer cancel()
	c, resp, err := coder.Dial(ctx, "ws://"+addr+"/chat?room=interop", opts)
	if err != nil {
		t.Fatalf("coder: dial %s: %v", addr, err)
	}
	c.SetReadLimit(32 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

type coderConn struct{ c *coder.Conn }

func (c coderConn) write(k interopKind, p []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), interopOpTimeout)
	defer cancel()
	return c.c.Write(ctx, coder.MessageType(k), p)
}

func (c coderConn) writeFragments(k interopKind, parts [][]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), interopOpTimeout)
	defer cancel()
	w, err := c.c.Writer(ctx, coder.MessageType(k))
	if err != nil {
		return err
	}
	for _, part := range parts {
		if _, err := w.Write(part); err != nil { // one frame per Write
			return err
		}
	}
	return w.Close()
}

func (c coderConn) read() (interopKind, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), interopOpTimeout)
	defer cancel()
	k, p, err := c.c.Read(ctx)
	return interopKind(k), p, err
}

// close runs coder's close handshake, which returns nil only when the
// server's close frame carries the code sent.
func (c coderConn) close() error {
	if err := c.c.Close(coder.StatusNormalClosure, ""); err != nil {
		return fmt.Errorf("coder: close 1000: %w", err)
	}
	return nil
}

func TestInteropCoder(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, testkit.Config())

	t.Run("Handshake", func(t *testing.T) {
		for _, tc := range interopOffers {
			// coder offers permessage-deflate when asked to; the server
			// must decline it.
			c, resp := coderDial(t, addr, &coder.DialOptions{Subprotocols: tc.offer, CompressionMode: coder.CompressionContextTakeover})
			if got := c.Subprotocol(); got != tc.want {
				t.Errorf("offer %q: subprotocol %q, want %q", tc.offer, got, tc.want)
			}
			if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
				t.Errorf("offer %q: response accepts extensions %q; want none", tc.offer, ext)
			}
			// Large enough for coder to compress it, had the server
			// accepted the extension.
			if err := interopEcho(coderConn{c}, interopText, interopPayload(interopText, 4096), nil); err != nil {
				t.Errorf("offer %q: %v", tc.offer, err)
			}
			if err := (coderConn{c}).close(); err != nil {
				t.Errorf("offer %q: %v", tc.offer, err)
			}
		}
	})

	interopDataTests(t, addr, func(t testing.TB, addr string, _ bool) interopConn {
		c, _ := coderDial(t, addr, nil)
		return coderConn{c}
	})

	t.Run("PingPong", func(t *testing.T) {
		var (
			mu    sync.Mutex
			pongs int
		)
		c, _ := coderDial(t, addr, &coder.DialOptions{
			OnPongReceived: func(context.Context, []byte) { mu.Lock(); pongs++; mu.Unlock() },
		})
		// coder's Ping waits for its pong, which a concurrent Read
		// receives: read messages on another goroutine.
		msgs := make(chan []byte, 1)
		rerr := make(chan error, 1)
		go func() {
			for {
				_, p, err := coderConn{c}.read()
				if err != nil {
					rerr <- err
					return
				}
				msgs <- p
			}
		}()
		ping := func(what string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), interopOpTimeout)
			defer cancel()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping %s: %v", what, err)
			}
		}
		ping("idle")
		ping("again")

		// A ping between the fragments of a message (§5.4).
		msg := interopPayload(interopBinary, 3000)
		ctx, cancel := context.WithTimeout(context.Background(), interopOpTimeout)
		defer cancel()
		w, err := c.Writer(ctx, coder.MessageBinary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg[:1000]); err != nil {
			t.Fatal(err)
		}
		ping("between fragments")
		if _, err := w.Write(msg[1000:]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-msgs:
			if d := interopDiff(got, msg); d != "" {
				t.Errorf("echo around a ping: %s", d)
			}
		case err := <-rerr:
			t.Fatalf("read: %v", err)
		}
		mu.Lock()
		if pongs != 3 {
			t.Errorf("%d pongs received; want 3", pongs)
		}
		mu.Unlock()
		if err := (coderConn{c}).close(); err != nil {
			t.Error(err)
		}
		<-rerr
	})

	t.Run("Close", func(t *testing.T) {
		for _, tc := range []struct {
			code   coder.StatusCode
			reason string
		}{
			{4000, "bye"},
			{coder.StatusNormalClosure, ""},
			{coder.StatusGoingAway, "going away ✓"},
			{4999, strings.Repeat("r", 123)}, // the longest reason a close frame holds
		} {
			c, _ := coderDial(t, addr, nil)
			if err := interopEcho(coderConn{c}, interopText, []byte("before close"), nil); err != nil {
				t.Fatal(err)
			}
			// Close returns nil only when the server's close frame echoes
			// tc.code.
			interopQuickClose(t, func() error {
				if err := c.Close(tc.code, tc.reason); err != nil {
					return fmt.Errorf("coder: close %d %q: %w", tc.code, tc.reason, err)
				}
				return nil
			})
		}
	})

	t.Run("MessageTooBig", func(t *testing.T) {
		small := interopSmallServer(t)
		c, _ := coderDial(t, small, nil)
		if err := interopEcho(coderConn{c}, interopText, interopPayload(interopText, 1024), nil); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		go coderConn{c}.write(interopText, interopPayload(interopText, 1025))
		_, _, err := coderConn{c}.read()
		if got := coder.CloseStatus(err); got != coder.StatusMessageTooBig {
			t.Errorf("over the limit: read error %v (status %d); want close 1009", err, got)
		}
	})
}
