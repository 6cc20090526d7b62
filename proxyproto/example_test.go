package proxyproto_test

import (
	"fmt"

	"github.com/wsreactor/wsreactor/proxyproto"
)

// A server reading a PROXY header fed in two pieces, with the relayed
// HTTP request after it in the same read.
func ExampleParser() {
	var p proxyproto.Parser
	in := []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\nGET /chat HTTP/1.1\r\n")

	n, done, _, err := p.Feed(in[:20])
	fmt.Println(n, done, err)
	n, done, h, err := p.Feed(in[20:])
	fmt.Println(done, err)
	client, ok := h.Client()
	fmt.Println(client, ok)
	fmt.Printf("%q\n", in[20+n:])
	// Output:
	// 20 false <nil>
	// true <nil>
	// 192.0.2.1:56324 true
	// "GET /chat HTTP/1.1\r\n"
}

// A connection that does not start with a PROXY header is refused.
func ExampleParser_refused() {
	var p proxyproto.Parser
	_, _, _, err := p.Feed([]byte("GET / HTTP/1.1\r\n"))
	fmt.Println(err)
	// Output:
	// proxyproto: not a PROXY protocol header: the connection starts with "G", neither "PROXY " (version 1) nor "\r\n\r\n\x00\r\nQUIT\n" (version 2)
}
