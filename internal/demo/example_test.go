package demo_test

import (
	"bytes"
	"fmt"

	"github.com/wsreactor/wsreactor/internal/demo"
	"github.com/wsreactor/wsreactor/protocol"
)

// The response is built once and handed to the WebSocket server, which
// writes it, as is, to a plain GET of "/".
func ExampleResponse() {
	cfg := protocol.DefaultConfig()
	cfg.RootPage = demo.Response()
	_ = protocol.NewServer(cfg, protocol.Echo)

	head, _, _ := bytes.Cut(demo.Response(), []byte("\r\n\r\n"))
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		if name, _, _ := bytes.Cut(line, []byte(":")); !bytes.Equal(name, []byte("Content-Length")) && !bytes.Equal(name, []byte("Content-Security-Policy")) {
			fmt.Printf("%s\n", line)
		}
	}
	// Output:
	// HTTP/1.1 200 OK
	// Content-Type: text/html; charset=utf-8
	// Cache-Control: no-store
	// X-Content-Type-Options: nosniff
	// Referrer-Policy: no-referrer
	// Connection: close
}
