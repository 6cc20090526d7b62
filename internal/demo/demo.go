// Package demo is the page a browser gets from a plain GET of "/" on the
// WebSocket port: a small self-contained HTML page (no external scripts,
// styles or fonts) that connects back with new WebSocket(...), echoes typed
// text, shows the negotiated subprotocol and extensions, and times a 1 MiB
// message and checks that it came back byte-exact.
//
// The page is embedded in the binary and its HTTP response is built once,
// at package initialisation; the command hands Response to
// protocol.Config.RootPage, which writes it as is. Package protocol knows
// nothing of what the page says, and this package knows nothing of
// WebSocket.
package demo

import (
	_ "embed"
	"strconv"
)

//go:embed index.html
var page []byte

// contentSecurityPolicy lets the page run its own inline script and style
// and open WebSocket connections, and nothing else: no other origin is ever
// contacted.
const contentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"connect-src ws: wss:; img-src data:; base-uri 'none'; form-action 'none'"

var response = build(page)

// Response returns the complete HTTP/1.1 response to a plain GET of "/":
// status line, headers (Content-Length, "Connection: close", no caching)
// and the page. It is built once; every call returns the same slice, which
// must not be modified. Safe from any goroutine.
func Response() []byte { return response }

// Page returns the HTML page alone (for tests and tools); it must not be
// modified.
func Page() []byte { return page }

// build returns the HTTP response that serves body as HTML.
func build(body []byte) []byte {
	b := make([]byte, 0, len(body)+512)
	b = append(b, "HTTP/1.1 200 OK\r\n"+
		"Content-Type: text/html; charset=utf-8\r\n"+
		"Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"+
		"Cache-Control: no-store\r\n"+
		"X-Content-Type-Options: nosniff\r\n"+
		"Referrer-Policy: no-referrer\r\n"+
		"Content-Security-Policy: "+contentSecurityPolicy+"\r\n"+
		"Connection: close\r\n"+
		"\r\n"...)
	return append(b, body...)
}
