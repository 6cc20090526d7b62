package conformance

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The opening handshake as the conformance client sees it (RFC 6455 §4.1):
// the request, and the checks on the server's HTTP response.

// rfcGUID is the globally unique identifier of RFC 6455 §1.3.
const rfcGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// rfcNewKey is a fresh Sec-WebSocket-Key: 16 random bytes, base64 (§4.1).
func rfcNewKey() string {
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:], rand.Uint64())
	binary.LittleEndian.PutUint64(k[8:], rand.Uint64())
	return base64.StdEncoding.EncodeToString(k[:])
}

// rfcAccept is the Sec-WebSocket-Accept value for key (§4.2.2 step 5.4).
func rfcAccept(key string) string {
	sum := sha1.Sum([]byte(key + rfcGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// rfcRequest is a valid opening handshake (§4.1) for path with key, plus
// extra header lines ("Name: value").
func rfcRequest(path, key string, extra ...string) []byte {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// rfcResponse is the server's HTTP answer to a handshake.
type rfcResponse struct {
	raw    []byte // status line, headers and body as received
	status int
	header map[string][]string // keys in lower case
	body   []byte
}

// get is the value of header name, several values joined with ", ".
func (r *rfcResponse) get(name string) string {
	return strings.Join(r.header[strings.ToLower(name)], ", ")
}

// checkUpgrade checks a 101 answer to a request with key (§4.1, the
// client's checks on the server's handshake).
func (r *rfcResponse) checkUpgrade(key string) error {
	switch {
	case r.status != 101:
		return fmt.Errorf("handshake answered %d, want 101: %q", r.status, r.raw)
	case !rfcHasToken(r.get("Upgrade"), "websocket"):
		return fmt.Errorf("101 without Upgrade: websocket: %q", r.raw)
	case !rfcHasToken(r.get("Connection"), "upgrade"):
		return fmt.Errorf("101 without Connection: Upgrade: %q", r.raw)
	case r.get("Sec-WebSocket-Accept") != rfcAccept(key):
		return fmt.Errorf("Sec-WebSocket-Accept %q, want %q", r.get("Sec-WebSocket-Accept"), rfcAccept(key))
	case r.get("Sec-WebSocket-Extensions") != "":
		return fmt.Errorf("server chose extensions %q that were not offered", r.get("Sec-WebSocket-Extensions"))
	}
	return nil
}

// rfcHasToken reports whether a comma-separated header value holds token,
// compared case-insensitively.
func rfcHasToken(value, token string) bool {
	for _, t := range strings.Split(value, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// upgrade writes req and reads the HTTP response that answers it.
func (c *rfcClient) upgrade(req []byte) (*rfcResponse, error) {
	if err := c.write(req); err != nil {
		return nil, err
	}
	return c.readResponse()
}

// readResponse reads an HTTP/1.1 response head, and a body as long as its
// Content-Length. Bytes after it stay buffered: they are frames.
func (c *rfcClient) readResponse() (*rfcResponse, error) {
	r := &rfcResponse{header: map[string][]string{}}
	for first := true; ; first = false {
		line, err := c.br.ReadString('\n')
		r.raw = append(r.raw, line...)
		if err != nil {
			return r, fmt.Errorf("reading handshake response after %q: %w", r.raw, err)
		}
		if len(r.raw) > 16<<10 {
			return r, fmt.Errorf("handshake response head over 16 KiB: %q", r.raw[:200])
		}
		if !strings.HasSuffix(line, "\r\n") {
			return r, fmt.Errorf("response line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if first {
			f := strings.SplitN(line, " ", 3)
			if len(f) < 2 || f[0] != "HTTP/1.1" || len(f[1]) != 3 {
				return r, fmt.Errorf("malformed status line %q", line)
			}
			if r.status, err = strconv.Atoi(f[1]); err != nil {
				return r, fmt.Errorf("malformed status line %q", line)
			}
			continue
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.TrimSpace(name) != name {
			return r, fmt.Errorf("malformed header line %q", line)
		}
		name = strings.ToLower(name)
		r.header[name] = append(r.header[name], strings.TrimSpace(value))
	}
	if cl := r.get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > 1<<20 {
			return r, fmt.Errorf("bad Content-Length %q", cl)
		}
		r.body = make([]byte, n)
		if _, err := io.ReadFull(c.br, r.body); err != nil {
			return r, fmt.Errorf("reading %d-byte response body: %w", n, err)
		}
		r.raw = append(r.raw, r.body...)
	}
	return r, nil
}
