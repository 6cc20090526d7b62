package handshake

import "bytes"

// A PROXY protocol header (HAProxy's "The PROXY protocol, Versions 1 & 2")
// where the request line should be: a load balancer configured to send one
// in front of a server that does not read it. The header is a bad request
// like any other malformed request line, but with a reason that names it,
// so that whoever reads the response or the log can fix the configuration.
// The command reads real PROXY headers with package proxyproto before the
// handshake parser sees a byte (-proxy-protocol).

// errIfProxyHeader returns the 400 answer when line, a request line without
// its CRLF, is the start of a PROXY header: "PROXY " (version 1, spec §2.1),
// or a lone NUL, which is what the version 2 signature
// "\r\n\r\n\x00\r\nQUIT\n" looks like to this parser once the empty lines
// before it are skipped (RFC 9112 §2.2). Otherwise nil.
func errIfProxyHeader(line []byte) *Error {
	switch {
	case bytes.HasPrefix(line, []byte("PROXY ")):
		return badRequest("the connection starts with a PROXY protocol version 1 header %s, but this server is not configured to read one: a load balancer may send it only to a server that expects it", quoted(line))
	case len(line) == 1 && line[0] == 0:
		return badRequest("the connection starts like a PROXY protocol version 2 header (\"\\r\\n\\r\\n\\x00\\r\\nQUIT\\n\"), but this server is not configured to read one: a load balancer may send it only to a server that expects it")
	}
	return nil
}
