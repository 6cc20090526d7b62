package protocol

import (
	"slices"
	"strings"
)

// hsHead builds a request head from a request line and header lines.
func hsHead(requestLine string, headers ...string) string {
	return requestLine + "\r\n" + strings.Join(slices.Concat(headers, []string{""}), "\r\n") + "\r\n"
}

// hsStd is a minimal valid opening handshake, "GET /chat HTTP/1.1" with
// the headers RFC 6455 §4.1 requires, plus the header lines extra.
func hsStd(extra ...string) string {
	return hsHead("GET /chat HTTP/1.1", slices.Concat([]string{
		"Host: server.example.com",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version: 13",
	}, extra)...)
}
