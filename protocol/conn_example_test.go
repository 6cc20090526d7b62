package protocol_test

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol"
)

// printTransport is a Transport that prints what the connection writes: the
// first line of an HTTP response, or each frame.
type printTransport struct{}

func (printTransport) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("HTTP/")) {
		i := bytes.Index(p, []byte("\r\n\r\n")) + 4
		fmt.Printf("%s\n", p[:bytes.IndexByte(p, '\r')])
		p = p[i:]
	}
	var d frame.Decoder
	for len(p) > 0 {
		ev, n, _ := d.Next(p)
		p = p[n:]
		switch ev.Kind {
		case frame.KindHeader:
			fmt.Printf("%v fin=%v ", ev.Header.Opcode, ev.Header.Fin)
		case frame.KindPayload:
			fmt.Printf("%q", ev.Data)
		}
		if ev.End {
			fmt.Println()
		}
	}
	return len(p), nil
}
func (printTransport) LoseConnection()       { fmt.Println("LoseConnection") }
func (printTransport) AbortConnection()      { fmt.Println("AbortConnection") }
func (printTransport) OutboundBuffered() int { return 0 }
func (printTransport) RemoteAddr() net.Addr  { return nil }
func (printTransport) CallLater(time.Duration, func()) protocol.DelayedCall {
	return nil // with the timeouts off, never called
}

// A whole-message application on a Conn driven by hand, as a reactor would:
// the handshake and two frames arrive in one read, and everything they
// cause goes out in one write.
func ExampleMessages() {
	cfg := protocol.DefaultConfig()
	cfg.HandshakeTimeout, cfg.PingInterval, cfg.CloseTimeout = 0, 0, 0 // no timers: printTransport has none
	srv := protocol.NewServer(cfg, func() protocol.Handler {
		return protocol.Messages(func(c *protocol.Conn, op frame.Opcode, msg []byte) {
			c.WriteMessage(op, bytes.ToUpper(msg))
		})
	})
	c := srv.NewConn()
	c.ConnectionMade(printTransport{})

	key := [4]byte{1, 2, 3, 4}
	in := []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	in = frame.AppendMaskedFrame(in, false, frame.OpText, key, []byte("hello, "))
	in = frame.AppendMaskedFrame(in, true, frame.OpContinuation, key, []byte("world"))
	c.DataReceived(in)

	c.DataReceived(frame.AppendMaskedFrame(nil, true, frame.OpClose, key, []byte{0x03, 0xe8}))
	c.ConnectionLost(nil)
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// text fin=true "HELLO, WORLD"
	// close fin=true "\x03\xe8"
	// LoseConnection
}
