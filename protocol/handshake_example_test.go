package protocol_test

import (
	"fmt"
	"strings"

	"github.com/wsreactor/wsreactor/protocol"
)

// A connection's bytes arrive in pieces; the parser takes each piece as it
// comes. The second piece ends the head and carries the client's first frame
// too: Feed says where the head ended, and the caller decodes the rest as
// frames at once.
func ExampleHandshakeParser() {
	var hp protocol.HandshakeParser
	pieces := []string{
		"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n",
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n" +
			"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", // a masked text frame "Hello"
	}
	for _, piece := range pieces {
		n, done, req, err := hp.Feed([]byte(piece))
		if err != nil {
			// Answer protocol.AppendHTTPError(nil, err.(*protocol.HandshakeError)), then close.
			fmt.Println(err)
			return
		}
		if !done {
			fmt.Println("need more bytes")
			continue
		}
		fmt.Printf("%s %s, offers %q; %d bytes of frames follow\n", req.Method, req.Target, req.Protocols, len(piece)-n)
		sub := protocol.SelectSubprotocol(req.Protocols, []string{"chat", "superchat"})
		resp := protocol.AppendResponse(nil, req.Key, sub)
		fmt.Print(strings.ReplaceAll(string(resp), "\r\n", "\n"))
	}
	// Output:
	// need more bytes
	// GET /chat, offers ["chat" "superchat"]; 11 bytes of frames follow
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
}

// A plain GET is not a WebSocket handshake: it gets 426 Upgrade Required.
func ExampleAppendHTTPError() {
	var hp protocol.HandshakeParser
	_, _, _, err := hp.Feed([]byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))
	resp := protocol.AppendHTTPError(nil, err.(*protocol.HandshakeError))
	fmt.Print(strings.ReplaceAll(string(resp), "\r\n", "\n"))
	// Output:
	// HTTP/1.1 426 Upgrade Required
	// Content-Type: text/plain; charset=utf-8
	// Content-Length: 118
	// Connection: close, Upgrade
	// Upgrade: websocket
	//
	// protocol: this resource speaks only WebSocket: send "Upgrade: websocket" and "Connection: Upgrade" (RFC 6455 §4.2.1)
}
