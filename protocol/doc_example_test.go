package protocol_test

import (
	"fmt"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol"
)

// counter is an application: one per connection, built by the Server when
// the handshake succeeds. It embeds BaseHandler and overrides all three
// callbacks.
type counter struct {
	protocol.BaseHandler
	n int
}

func (h *counter) OnOpen(c *protocol.Conn) {
	c.WriteMessage(frame.OpText, []byte("welcome; subprotocol "+c.Subprotocol()))
}

// OnData gets each piece of a message as it arrives; data is lent.
func (h *counter) OnData(c *protocol.Conn, op frame.Opcode, data []byte, first, fin bool) {
	if fin {
		h.n++
		c.WriteMessage(frame.OpText, fmt.Appendf(nil, "message %d ended with %q", h.n, data))
	}
}

func (h *counter) OnClose(c *protocol.Conn, code frame.CloseCode, reason string) {
	fmt.Println("OnClose:", code, reason)
}

// A Server, a Conn and an application, driven by hand as a reactor would:
// the bytes come in pieces that split a frame header and the head, the
// answers go out one write per read.
func Example() {
	cfg := protocol.DefaultConfig()
	cfg.HandshakeTimeout, cfg.PingInterval, cfg.CloseTimeout = 0, 0, 0 // no timers: printTransport has none
	srv := protocol.NewServer(cfg, func() protocol.Handler { return new(counter) })
	c := srv.NewConn()
	c.ConnectionMade(printTransport{})

	key := [4]byte{9, 8, 7, 6}
	wire := []byte("GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
	wire = frame.AppendMaskedFrame(wire, true, frame.OpText, key, []byte("one"))
	wire = frame.AppendMaskedFrame(wire, true, frame.OpText, key, []byte("two"))
	for _, read := range [][]byte{wire[:40], wire[40 : len(wire)-5], wire[len(wire)-5:]} {
		fmt.Println("-- read of", len(read), "bytes")
		c.DataReceived(read)
	}
	fmt.Println("-- client closes")
	c.DataReceived(frame.AppendMaskedFrame(nil, true, frame.OpClose, key, []byte("\x03\xe8bye"))) // 1000, "bye"
	c.ConnectionLost(nil)
	// Output:
	// -- read of 40 bytes
	// -- read of 153 bytes
	// HTTP/1.1 101 Switching Protocols
	// text fin=true "welcome; subprotocol chat"
	// text fin=true "message 1 ended with \"one\""
	// -- read of 5 bytes
	// text fin=true "message 2 ended with \"two\""
	// -- client closes
	// OnClose: 1000 normal closure bye
	// close fin=true "\x03\xe8"
	// LoseConnection
}
