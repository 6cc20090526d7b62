package conformance

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// The seed's example exchange (RFC 6455 §1.2, §1.3), byte for byte.
const (
	rfcSeedRequest = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
	rfcSeedResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
)

// The opening handshake (§4.2) over a real socket: the seed exchange, a
// request delivered in any pieces with frames right behind it,
// subprotocol choice, and the accepted variations of a valid request.
func TestConformanceHandshake(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	hello := rfcText("Hello")
	// upgraded checks a 101 for key, then the echo of frames sent with or
	// after the request: "Hello" twice and a pong, then a clean close.
	upgraded := func(c *rfcConn, key string) {
		c.t.Helper()
		resp, err := c.readResponse()
		if err == nil {
			err = resp.checkUpgrade(key)
		}
		if err != nil {
			c.t.Fatal(err)
		}
		c.expectText("Hello")
		c.expectPong("ping")
		c.expectText("Hello")
		c.closeNormally()
	}
	frames := rfcWire(hello, rfcPing("ping"), rfcFrag(rfcOpText, []byte("Hel"), false), rfcFrag(rfcOpCont, []byte("lo"), true))

	t.Run("seed request gets the seed response byte for byte", func(t *testing.T) {
		t.Parallel()
		if got := rfcAccept("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
			t.Fatalf("test client: rfcAccept = %q", got) // the RFC's own example
		}
		c := dialConn(t, addr)
		c.sendBytes([]byte(rfcSeedRequest))
		got := make([]byte, len(rfcSeedResponse))
		if _, err := io.ReadFull(c.br, got); err != nil {
			t.Fatalf("reading the response: %v (got %q)", err, got)
		}
		if string(got) != rfcSeedResponse {
			t.Fatalf("response\n%q\nwant\n%q", got, rfcSeedResponse)
		}
		c.send(hello)
		c.expectText("Hello")
		c.closeNormally()
	})
	t.Run("request and frames in one write", func(t *testing.T) {
		t.Parallel()
		c, key := dialConn(t, addr), rfcNewKey()
		c.sendBytes(append(rfcRequest("/", key), frames...))
		upgraded(c, key)
	})
	t.Run("request one byte per write, frames in the last write", func(t *testing.T) {
		t.Parallel()
		c, key := dialConn(t, addr), rfcNewKey()
		req := rfcRequest("/", key)
		c.writeErr(c.writeChopped(req[:len(req)-1], 1, 300*time.Microsecond))
		c.sendBytes(append(req[len(req)-1:], frames...))
		upgraded(c, key)
	})
	t.Run("request split at every byte, frames with the second part", func(t *testing.T) {
		t.Parallel()
		key := rfcNewKey()
		req := rfcRequest("/", key)
		for i := 1; i < len(req); i++ {
			c := dialConn(t, addr)
			c.sendBytes(req[:i])
			time.Sleep(time.Millisecond)
			c.sendBytes(append(req[i:len(req):len(req)], frames...))
			upgraded(c, key)
			c.conn.Close()
		}
	})
	t.Run("frames one byte per write after the handshake", func(t *testing.T) {
		t.Parallel()
		c := openConn(t, addr)
		c.writeErr(c.writeChopped(frames, 1, 100*time.Microsecond))
		c.expectText("Hello")
		c.expectPong("ping")
		c.expectText("Hello")
		c.closeNormally()
	})
	t.Run("accepts a head of exactly 8 KiB", func(t *testing.T) {
		t.Parallel()
		c, key := dialConn(t, addr), rfcNewKey()
		req := rfcRequest("/", key)
		c.sendBytes(append([]byte(rfcPadHead(string(req[:len(req)-2]), 8192)), frames...))
		upgraded(c, key)
	})

	// Subprotocols (§4.2.2 step 5.4, §11.3.4): the first of the client's
	// offers, in the client's order, that the server supports; no header
	// when none is in common.
	for _, tc := range []struct {
		name  string
		offer []string
		want  string
	}{
		{"no offer: no subprotocol", nil, ""},
		{"chat, superchat: chat", []string{"Sec-WebSocket-Protocol: chat, superchat"}, "chat"},
		{"superchat, chat: superchat", []string{"Sec-WebSocket-Protocol: superchat, chat"}, "superchat"},
		{"unknown, superchat: superchat", []string{"Sec-WebSocket-Protocol: v2.example, superchat"}, "superchat"},
		{"only unknown: no subprotocol", []string{"Sec-WebSocket-Protocol: v2.example, v3.example"}, ""},
		{"offer in two header lines: chat", []string{"Sec-WebSocket-Protocol: v2.example", "Sec-WebSocket-Protocol: chat"}, "chat"},
	} {
		t.Run("subprotocol "+tc.name, func(t *testing.T) {
			t.Parallel()
			c, key := dialConn(t, addr), rfcNewKey()
			resp, err := c.upgrade(rfcRequest("/", key, tc.offer...))
			if err == nil {
				err = resp.checkUpgrade(key)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.header["sec-websocket-protocol"]; tc.want == "" && got != nil || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
				t.Fatalf("Sec-WebSocket-Protocol %q; want %q", got, tc.want)
			}
			c.send(hello)
			c.expectText("Hello")
			c.closeNormally()
		})
	}

	// Variations a server must accept (§4.2.1, RFC 9110 §5.1 and §7.8:
	// header names and the Upgrade and Connection tokens are
	// case-insensitive, Connection is a token list).
	for _, tc := range []struct{ name, req string }{
		{"lower-case header names and token case", "GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: WebSocket\r\nconnection: UPGRADE\r\nsec-websocket-key: KEY\r\nsec-websocket-version: 13\r\n\r\n"},
		{"Connection token list", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\n\r\n"},
		{"other headers and a query", "GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: conformance\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nAccept: */*\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\nCookie: a=b\r\n\r\n"},
		{"spaces around header values", "GET / HTTP/1.1\r\nHost:   127.0.0.1  \r\nUpgrade:websocket\r\nConnection:   Upgrade\r\nSec-WebSocket-Key:   KEY   \r\nSec-WebSocket-Version:  13 \r\n\r\n"},
		{"Upgrade token list", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: h2c, websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\n\r\n"},
		{"extension offered: none chosen", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"},
	} {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			t.Parallel()
			c, key := dialConn(t, addr), rfcNewKey()
			c.sendBytes(append([]byte(strings.ReplaceAll(tc.req, "KEY", key)), frames...))
			upgraded(c, key)
		})
	}
}

// Handshake rejections over the wire (§4.2.1, §4.2.2, §4.4): the right
// status and headers, a well-formed response, then the connection closed.
func TestConformanceHandshakeRejections(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.Origins = []string{"http://good.example", "https://other.example"}
	addr := testkit.StartAddr(t, cfg)
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	valid := "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	// without returns valid with the header line that starts with name
	// replaced by repl (which may be empty).
	without := func(name, repl string) string {
		var out []string
		for _, line := range strings.SplitAfter(valid, "\r\n") {
			if strings.HasPrefix(line, name+":") {
				line = repl
			}
			out = append(out, line)
		}
		return strings.Join(out, "")
	}
	for _, tc := range []struct {
		name   string
		req    string
		status int
		header string // "Name: value" the response must carry, if any
	}{
		{"POST: 405", strings.Replace(valid, "GET", "POST", 1) + "Content-Length: 0\r\n\r\n", 405, "Allow: GET"},
		{"HTTP/1.0: 400", strings.Replace(valid, "HTTP/1.1", "HTTP/1.0", 1) + "\r\n", 400, ""},
		{"no Host: 400", without("Host", "") + "\r\n", 400, ""},
		{"Upgrade not websocket: 400", without("Upgrade", "Upgrade: h2c\r\n") + "\r\n", 400, ""},
		{"Connection without upgrade: 400", without("Connection", "Connection: keep-alive\r\n") + "\r\n", 400, ""},
		{"no key: 400", without("Sec-WebSocket-Key", "") + "\r\n", 400, ""},
		{"key of 15 bytes: 400", without("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n") + "\r\n", 400, ""},
		{"key not base64: 400", without("Sec-WebSocket-Key", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n") + "\r\n", 400, ""},
		{"version 8: 426", without("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8\r\n") + "\r\n", 426, "Sec-WebSocket-Version: 13"},
		{"no version: 426", without("Sec-WebSocket-Version", "") + "\r\n", 426, "Sec-WebSocket-Version: 13"},
		{"plain GET without Upgrade and Connection: 426 (GET / is the demo page: demo_page_test.go)", "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 426, "Upgrade: websocket"},
		{"garbage request line: 400", "\x00\x01\x02 not http at all\r\n\r\n", 400, ""},
		{"request line without a version: 400", "GET /\r\nHost: 127.0.0.1\r\n\r\n", 400, ""},
		{"two Sec-WebSocket-Key lines: 400 (§11.3.1)", valid + "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n\r\n", 400, ""},
		{"two Host lines: 400 (RFC 9112 §3.2)", valid + "Host: other.example\r\n\r\n", 400, ""},
		{"whitespace before a header's colon: 400 (RFC 9112 §5.1)", strings.Replace(valid, "Host:", "Host :", 1) + "\r\n", 400, ""},
		{"header line without a colon: 400", valid + "this is not a header\r\n\r\n", 400, ""},
		{"head over 8 KiB: 431", valid + "X-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n", 431, ""},
		{"head over 8 KiB, never ending: 431", valid + "X-Big: " + strings.Repeat("a", 12000), 431, ""},
		{"head of 8 KiB + 1 byte: 431", rfcPadHead(valid, 8193), 431, ""},
		{"many small headers over 8 KiB: 431", valid + strings.Repeat("X-A: b\r\n", 1500) + "\r\n", 431, ""},
		{"Origin not allowed: 403", valid + "Origin: http://evil.example\r\n\r\n", 403, ""},
		{"Origin that only starts like an allowed one: 403", valid + "Origin: http://good.example.evil\r\n\r\n", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dialConn(t, addr)
			resp, err := c.upgrade([]byte(tc.req))
			if err != nil {
				t.Fatal(err)
			}
			if resp.status != tc.status {
				t.Fatalf("status %d; want %d; response %q", resp.status, tc.status, resp.raw)
			}
			if tc.header != "" {
				name, value, _ := strings.Cut(tc.header, ": ")
				if !rfcHasToken(resp.get(name), value) {
					t.Fatalf("response has %s: %q; want %q; response %q", name, resp.get(name), value, resp.raw)
				}
			}
			if resp.get("Content-Length") == "" {
				t.Errorf("error response without Content-Length: %q", resp.raw)
			}
			if err := c.checkTCPClosed("the error response", true); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, origin := range []string{"http://good.example", "HTTP://GOOD.EXAMPLE", "https://other.example"} {
		t.Run("Origin "+origin+": 101", func(t *testing.T) {
			t.Parallel()
			c := dialConn(t, addr)
			resp, err := c.upgrade([]byte(valid + "Origin: " + origin + "\r\n\r\n"))
			if err == nil {
				err = resp.checkUpgrade(key)
			}
			if err != nil {
				t.Fatal(err)
			}
			c.send(rfcText("Hello"))
			c.expectText("Hello")
			c.closeNormally()
		})
	}
	t.Run("a rejected request does not upgrade the frames behind it", func(t *testing.T) {
		t.Parallel()
		c := dialConn(t, addr)
		resp, err := c.upgrade(append([]byte(without("Sec-WebSocket-Version", "")+"\r\n"), rfcWire(rfcText("Hello"))...))
		if err != nil {
			t.Fatal(err)
		}
		if resp.status != 426 {
			t.Fatalf("status %d; want 426", resp.status)
		}
		if err := c.checkTCPClosed("the error response", true); err != nil {
			t.Fatal(err)
		}
	})
}

// rfcPadHead ends the request head start (header lines, no blank line)
// with a padding header that makes the whole head, blank line included,
// exactly size bytes.
func rfcPadHead(start string, size int) string {
	const name, end = "X-Pad: ", "\r\n\r\n"
	return start + name + strings.Repeat("p", size-len(start)-len(name)-len(end)) + end
}
