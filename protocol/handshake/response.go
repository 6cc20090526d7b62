package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
)

// acceptGUID is the GUID of RFC 6455 §1.3 and §4.2.2 that the server appends
// to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key (RFC 6455 §4.2.2 step 5.4): base64(SHA-1(key +
// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), key taken as sent, not decoded.
// AcceptKey("dGhlIHNhbXBsZSBub25jZQ==") is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
// Safe from any goroutine.
func AcceptKey(key string) string {
	var b [28]byte
	return string(appendAccept(b[:0], key))
}

// appendAccept appends AcceptKey(key) to dst; for a key of up to 28 bytes
// (a valid one has 24) it allocates nothing beyond growing dst.
func appendAccept(dst []byte, key string) []byte {
	var in [28 + len(acceptGUID)]byte
	var sum [sha1.Size]byte
	if len(key) <= 28 {
		n := copy(in[:], key)
		n += copy(in[n:], acceptGUID)
		sum = sha1.Sum(in[:n])
	} else {
		sum = sha1.Sum([]byte(key + acceptGUID))
	}
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// AppendResponse appends the server's opening handshake (RFC 6455 §4.2.2
// step 5) accepting a request with Sec-WebSocket-Key key, and returns the
// extended slice:
//
//	HTTP/1.1 101 Switching Protocols\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Accept: <AcceptKey(key)>\r\n
//	[Sec-WebSocket-Protocol: <subprotocol>\r\n]
//	\r\n
//
// The Sec-WebSocket-Protocol line is written only when subprotocol is not ""
// (§4.2.2 /subprotocol/: "if the server does not wish to agree to one of the
// suggested subprotocols, it MUST NOT send back a |Sec-WebSocket-Protocol|
// header field"); pass SelectSubprotocol's answer. It writes no
// Sec-WebSocket-Extensions line: a server that accepts an extension writes
// the head with AppendResponseHeader and adds its own line. AppendResponse
// allocates nothing when dst has room. Safe from any goroutine.
func AppendResponse(dst []byte, key, subprotocol string) []byte {
	return append(AppendResponseHeader(dst, key, subprotocol), "\r\n"...)
}

// AppendResponseHeader is AppendResponse without the empty line that ends
// the head: the header block stays open, its last line ended with CR LF.
// The caller appends its own header lines, each ending with "\r\n" (a
// Sec-WebSocket-Extensions line for the extensions it accepted, §4.2.2
// /extensions/, §9.1), then the "\r\n" that ends the head.
// It allocates nothing when dst has room. Safe from any goroutine.
func AppendResponseHeader(dst []byte, key, subprotocol string) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAccept(dst, key)
	if subprotocol != "" {
		dst = append(dst, "\r\nSec-WebSocket-Protocol: "...)
		dst = appendHeaderText(dst, subprotocol)
	}
	return append(dst, "\r\n"...)
}

// AppendHTTPError appends the HTTP response that rejects a handshake, and
// returns the extended slice:
//
//	HTTP/1.1 <status> <reason>\r\n
//	Content-Type: text/plain; charset=utf-8\r\n
//	Content-Length: <len(msg)+1>\r\n
//	Connection: close[, <e.Header's Connection values>]\r\n
//	<e.Header's other lines>\r\n
//	\r\n
//	<e.Msg>\n
//
// The connection is to be closed once it is flushed. There is one
// Connection line: a Connection value in e.Header (the "Upgrade" option of
// a 426, RFC 9110 §7.8) joins "close" on it. CR, LF and NUL in header names
// and values are dropped, so a header cannot be split. It allocates nothing
// when dst has room. Safe from any goroutine.
func AppendHTTPError(dst []byte, e *Error) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(e.Status)...)
	dst = append(dst, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(e.Msg)+1), 10)
	dst = append(dst, "\r\nConnection: close"...)
	for _, h := range e.Header {
		if strings.EqualFold(h[0], "Connection") {
			dst = append(dst, ", "...)
			dst = appendHeaderText(dst, h[1])
		}
	}
	dst = append(dst, "\r\n"...)
	for _, h := range e.Header {
		if strings.EqualFold(h[0], "Connection") {
			continue
		}
		dst = appendHeaderText(dst, h[0])
		dst = append(dst, ": "...)
		dst = appendHeaderText(dst, h[1])
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, e.Msg...)
	return append(dst, '\n')
}

// appendHeaderText appends s without its CR, LF and NUL bytes.
func appendHeaderText(dst []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, "\r\n\x00")
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i+1:]
	}
}
