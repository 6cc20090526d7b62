// Package handshake is the HTTP/1.1 side of a WebSocket server: the opening
// handshake of RFC 6455 §4, from the client's request head to the server's
// answer, apart from the connection that carries it, the way net/textproto
// stands apart from net/http. It imports only the standard library, and
// knows nothing of frames, event loops or any particular extension.
//
//   - Parser reads the client's request head (RFC 6455 §4.1, §4.2.1, read per
//     RFC 9112) from whatever pieces the connection delivers, and checks it
//     in the order Parser.Feed documents: a Request when it is good, an
//     *Error with its HTTP status (400, 405, 426, 431, 505) when it is not.
//     A PROXY protocol header where the request line should be gets a 400
//     that names it.
//   - OriginAllowed checks Request.Origin against an allow-list (§4.2.2
//     /origin/, §10.2; a refusal is ErrOriginForbidden, 403), and
//     ErrServiceUnavailable is the 503 of a server at its limit.
//   - SelectSubprotocol picks the answer to Request.Protocols (§4.2.2
//     /subprotocol/).
//   - NextExtension reads the Sec-WebSocket-Extensions list (§9.1 syntax:
//     tokens, parameters, quoted strings); deciding which extension to
//     accept, and with which parameters, is the caller's business.
//   - AppendResponse writes the 101 Switching Protocols of §4.2.2 step 5,
//     with the Sec-WebSocket-Accept value of AcceptKey (§4.2.2 step 5.4);
//     AppendResponseHeader leaves its header block open for a caller that
//     adds a Sec-WebSocket-Extensions line. AppendHTTPError writes the
//     response that rejects a handshake (§4.2.1: "the server MUST stop
//     processing the client's handshake and return an HTTP response with an
//     appropriate error code").
//
// # Buffers
//
// Parser.Feed only reads the bytes it is given, during the call: a head
// that arrives whole is parsed in place, one that arrives in pieces is
// copied into the Parser's own buffer (at most MaxHeadBytes, released when
// the head is complete or rejected). A Request shares no memory with the
// input and stays valid as long as it is kept. An Extension's strings
// alias the list they were read from. The Append functions append to the
// caller's slice and allocate nothing when it has room.
//
// # Goroutines
//
// A Parser belongs to one connection and is used from one goroutine at a
// time (the connection's event loop); its zero value is ready, and Reset
// makes it so again, so a pool of parsers serves many connections. The
// package's functions are safe from any goroutine.
package handshake
