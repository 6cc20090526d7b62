//go:build linux

package load

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
)

const (
	websocketGUID   = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
	maxResponseHead = 8192
)

// appendUpgradeRequest appends the client's opening handshake (RFC 6455
// §4.1): a GET with Upgrade, Connection, a base64 16-byte Sec-WebSocket-Key
// and Sec-WebSocket-Version 13. It offers no subprotocol, and the extension
// ext when not empty (RFC 6455 §9.1).
func appendUpgradeRequest(dst []byte, path, host, origin, key, ext string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key...)
	dst = append(dst, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if origin != "" {
		dst = append(dst, "Origin: "...)
		dst = append(dst, origin...)
		dst = append(dst, "\r\n"...)
	}
	if ext != "" {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, ext...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// acceptKey is the Sec-WebSocket-Accept value the server must return for key
// (RFC 6455 §4.2.2 step 5.4).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// checkUpgradeResponse validates a complete response head (status line and
// headers, without the blank line) as RFC 6455 §4.1 asks of a client: status
// 101, Upgrade: websocket, Connection: Upgrade, the expected
// Sec-WebSocket-Accept, and no extension or subprotocol we did not offer.
// With deflate we offered permessage-deflate (offerTakeover when takeover,
// else offerNoTakeover) and need the server to agree to it: a benchmark of
// compression must not quietly run without.
func checkUpgradeResponse(head []byte, key string, deflate, takeover bool) (deflateAnswer, error) {
	var ans deflateAnswer
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 101")) || (len(line) > 12 && line[12] != ' ') {
		return ans, fmt.Errorf("load: handshake: status %q, want 101", line)
	}
	var upgrade, connection, accept bool
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return ans, fmt.Errorf("load: handshake: malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = upgrade || hasToken(value, "websocket")
		case bytes.EqualFold(name, []byte("Connection")):
			connection = connection || hasToken(value, "upgrade")
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			if want := acceptKey(key); string(value) != want {
				return ans, fmt.Errorf("load: handshake: Sec-WebSocket-Accept %q, want %q", value, want)
			}
			accept = true
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Extensions")) && deflate && len(value) > 0:
			if ans.on {
				return ans, fmt.Errorf("load: handshake: a second Sec-WebSocket-Extensions %q", value)
			}
			var err error
			if ans, err = checkDeflateAnswer(value, takeover); err != nil {
				return ans, err
			}
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Extensions")),
			bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			if len(value) > 0 {
				return ans, fmt.Errorf("load: handshake: %s %q was not offered", name, value)
			}
		}
	}
	switch {
	case !upgrade:
		return ans, fmt.Errorf("load: handshake: no \"Upgrade: websocket\" in %q", head)
	case !connection:
		return ans, fmt.Errorf("load: handshake: no \"Connection: Upgrade\" in %q", head)
	case !accept:
		return ans, fmt.Errorf("load: handshake: no Sec-WebSocket-Accept in %q", head)
	case deflate && !ans.on:
		return ans, fmt.Errorf("load: handshake: the server declined permessage-deflate (no Sec-WebSocket-Extensions in the answer); is compression on?")
	}
	return ans, nil
}

// hasToken reports whether the comma-separated list v holds token, ignoring case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}
