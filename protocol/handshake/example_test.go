package handshake_test

import (
	"fmt"
	"strings"

	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// A connection's bytes arrive in pieces; the parser takes each piece as it
// comes. The second piece ends the head and carries the client's first frame
// too: Feed says where the head ended, and the caller decodes the rest as
// frames at once.
func ExampleParser() {
	var hp handshake.Parser
	pieces := []string{
		"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n",
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n" +
			"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", // a masked text frame "Hello"
	}
	for _, piece := range pieces {
		n, done, req, err := hp.Feed([]byte(piece))
		if err != nil {
			// Answer handshake.AppendHTTPError(nil, err.(*handshake.Error)), then close.
			fmt.Println(err)
			return
		}
		if !done {
			fmt.Println("need more bytes")
			continue
		}
		fmt.Printf("%s %s, offers %q; %d bytes of frames follow\n", req.Method, req.Target, req.Protocols, len(piece)-n)
		sub := handshake.SelectSubprotocol(req.Protocols, []string{"chat", "superchat"})
		resp := handshake.AppendResponse(nil, req.Key, sub)
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
	var hp handshake.Parser
	_, _, _, err := hp.Feed([]byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))
	resp := handshake.AppendHTTPError(nil, err.(*handshake.Error))
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

// The accept value of RFC 6455 §1.3: SHA-1 of the key and the GUID, base64.
func ExampleAcceptKey() {
	fmt.Println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// The client's order of preference wins; nothing in common selects none,
// and then no Sec-WebSocket-Protocol header is sent (§4.2.2).
func ExampleSelectSubprotocol() {
	supported := []string{"chat", "superchat"}
	fmt.Printf("%q\n", handshake.SelectSubprotocol([]string{"superchat", "chat"}, supported))
	fmt.Printf("%q\n", handshake.SelectSubprotocol([]string{"v2.chat"}, supported))
	// Output:
	// "superchat"
	// ""
}
