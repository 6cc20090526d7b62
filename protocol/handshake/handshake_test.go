package handshake

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The seed's example request and the exact response it must get with the
// default subprotocols (RFC 6455 §1.2, §4.2.2).
const (
	hsSeedRequest = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
	hsSeedResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
	hsKey = "dGhlIHNhbXBsZSBub25jZQ=="
)

// hsSupported is the server's default subprotocol list.
var hsSupported = []string{"chat", "superchat"}

// hsBase are the header lines of a minimal valid handshake.
var hsBase = []string{
	"Host: server.example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + hsKey,
	"Sec-WebSocket-Version: 13",
}

// hsHead builds a request head from a request line and header lines.
func hsHead(requestLine string, headers ...string) string {
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// hsStd is "GET /chat HTTP/1.1" with the base headers, minus those whose
// names are in drop (lower case), plus extra.
func hsStd(drop string, extra ...string) string {
	var hs []string
	for _, h := range hsBase {
		name := strings.ToLower(h[:strings.IndexByte(h, ':')])
		if !strings.Contains(","+drop+",", ","+name+",") {
			hs = append(hs, h)
		}
	}
	return hsHead("GET /chat HTTP/1.1", append(hs, extra...)...)
}

// hsWant is the Request of hsStd, changed by fn.
func hsWant(fn func(r *Request)) *Request {
	r := &Request{Method: "GET", Target: "/chat", Host: "server.example.com", Key: hsKey, Version: 13}
	if fn != nil {
		fn(r)
	}
	return r
}

// hsResult is everything Feed said about one input, fed in some chunking.
type hsResult struct {
	head   int // stream offset just past the head, when done
	done   bool
	req    *Request
	status int // 0 unless rejected
	msg    string
	header [][2]string
	bad    string // a broken Feed contract, "" if none
}

// hsFeed feeds in to a fresh parser in chunks of size chunk (the last may be
// shorter), stopping at done or at an error. It checks Feed's contract on the
// way: the buffer never exceeds MaxHeadBytes, n == len(p) while not done, and
// the Request shares no memory with the input (it scribbles over the input
// afterwards and compares a copy).
func hsFeed(in []byte, chunk int) hsResult {
	work := bytes.Clone(in)
	var hp Parser
	var res hsResult
	for off := 0; off < len(work) && res.bad == ""; {
		p := work[off:min(off+chunk, len(work))]
		n, done, req, err := hp.Feed(p)
		if cap(hp.buf) > MaxHeadBytes || hp.Buffered() > MaxHeadBytes {
			res.bad = "buffer larger than MaxHeadBytes"
		}
		if err != nil {
			var he *Error
			if !errors.As(err, &he) || done || req != nil {
				res.bad = "error is not a lone *Error"
				break
			}
			if again, _, _, err2 := hp.Feed([]byte("x")); err2 != err || again != 0 {
				res.bad = "error is not sticky"
			}
			res.status, res.msg, res.header = he.Status, he.Msg, he.Header
			break
		}
		if done {
			if req == nil || n < 0 || n > len(p) || hp.Buffered() != 0 || hp.buf != nil {
				res.bad = "done without request, with bad n, or with a buffer kept"
				break
			}
			snapshot := *req
			snapshot.Protocols = append([]string(nil), req.Protocols...)
			for i := 0; i < len(work); i += copy(work[i:], hsScribble) {
			}
			if !reflect.DeepEqual(&snapshot, req) {
				res.bad = "request aliases the input"
			}
			res.done, res.req, res.head = true, req, off+n
			break
		}
		if n != len(p) {
			res.bad = "not done but n != len(p)"
		}
		off += len(p)
	}
	return res
}

// hsScribble overwrites inputs after the parse.
var hsScribble = bytes.Repeat([]byte{0xff}, 1024)

// hsCase is one request of the table.
type hsCase struct {
	name     string
	in       string
	status   int         // 0 accepted, -1 incomplete (needs more bytes), else the rejection
	header   [][2]string // extra headers of the rejection
	msg      string      // a substring of the rejection's message
	want     *Request    // accepted request
	trailing string      // bytes after the head (frames), not part of it
}

// hsFrame is the masked "Hello" text frame of RFC 6455 §5.7.
const hsFrame = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"

func hsCases() []hsCase {
	seed := hsWant(func(r *Request) { r.Origin = "http://example.com"; r.Protocols = []string{"chat", "superchat"} })
	pad := MaxHeadBytes - len(hsStd("", "X-Pad: "))
	exact := hsStd("", "X-Pad: "+strings.Repeat("p", pad))
	over := hsStd("", "X-Pad: "+strings.Repeat("p", pad+1))
	v13 := [][2]string{{"Sec-WebSocket-Version", "13"}}
	allow := [][2]string{{"Allow", "GET"}}
	upg := [][2]string{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}
	return []hsCase{
		// Accepted.
		{name: "seed", in: hsSeedRequest, want: seed},
		{name: "seed+frame", in: hsSeedRequest, trailing: hsFrame, want: seed},
		{name: "seed+two frames", in: hsSeedRequest, trailing: hsFrame + hsFrame, want: seed},
		{name: "minimal", in: hsStd(""), want: hsWant(nil)},
		{name: "bare LF", in: strings.ReplaceAll(hsSeedRequest, "\r\n", "\n"), want: seed},
		{name: "bare LF+frame", in: strings.ReplaceAll(hsSeedRequest, "\r\n", "\n"), trailing: hsFrame, want: seed},
		{name: "mixed line ends", in: "GET /chat HTTP/1.1\nHost: server.example.com\r\nUpgrade: websocket\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + hsKey + "\nSec-WebSocket-Version: 13\r\n\n", want: hsWant(nil)},
		{name: "empty line CRLF after LF", in: strings.TrimSuffix(hsStd(""), "\r\n\r\n") + "\n\r\n", want: hsWant(nil)},
		{name: "header case", in: hsHead("GET /chat HTTP/1.1", "HOST: server.example.com", "upgrade: WebSocket",
			"CONNECTION: keep-alive, UPGRADE", "sec-websocket-key: "+hsKey, "SEC-WEBSOCKET-VERSION: 13"), want: hsWant(nil)},
		{name: "whitespace around values", in: hsHead("GET /chat HTTP/1.1", "Host: \t server.example.com \t", "Upgrade:websocket",
			"Connection:   Upgrade  ", "Sec-WebSocket-Key:\t"+hsKey+" ", "Sec-WebSocket-Version: 13 "), want: hsWant(nil)},
		{name: "protocols combined", in: hsStd("", "Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Protocol: v2.chat"),
			want: hsWant(func(r *Request) { r.Protocols = []string{"chat", "superchat", "v2.chat"} })},
		{name: "protocols empty elements", in: hsStd("", "Sec-WebSocket-Protocol: , chat ,, superchat ,"),
			want: hsWant(func(r *Request) { r.Protocols = []string{"chat", "superchat"} })},
		{name: "protocols empty", in: hsStd("", "Sec-WebSocket-Protocol:", "Sec-WebSocket-Protocol: ,"), want: hsWant(nil)},
		{name: "protocols many", in: hsStd("", "Sec-WebSocket-Protocol: a,b,c,d", "Sec-WebSocket-Protocol: e, f"),
			want: hsWant(func(r *Request) { r.Protocols = []string{"a", "b", "c", "d", "e", "f"} })},
		{name: "extensions combined", in: hsStd("", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
			"Sec-WebSocket-Extensions:", "Sec-WebSocket-Extensions: x-webkit-deflate-frame"),
			want: hsWant(func(r *Request) { r.Extensions = "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame" })},
		{name: "upgrade list", in: hsStd("upgrade", "Upgrade: h2c, WEBSOCKET"), want: hsWant(nil)},
		{name: "upgrade lines", in: hsStd("upgrade", "Upgrade: h2c", "Upgrade: websocket"), want: hsWant(nil)},
		{name: "connection lines", in: hsStd("connection", "Connection: keep-alive", "Connection: upgrade"), want: hsWant(nil)},
		{name: "leading empty lines", in: "\r\n\n" + hsSeedRequest, want: seed},
		{name: "HTTP/1.2", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/1.2", 1), want: hsWant(nil)},
		{name: "absolute target", in: strings.Replace(hsStd(""), "/chat", "ws://server.example.com/chat?x=1", 1),
			want: hsWant(func(r *Request) { r.Target = "ws://server.example.com/chat?x=1" })},
		{name: "absolute target IPv6 port", in: strings.Replace(hsStd(""), "/chat", "HTTPS://[::1]:8443", 1),
			want: hsWant(func(r *Request) { r.Target = "HTTPS://[::1]:8443" })},
		{name: "query and escapes", in: strings.Replace(hsStd(""), "/chat", "/chat?room=a%20b&x=%7E", 1),
			want: hsWant(func(r *Request) { r.Target = "/chat?room=a%20b&x=%7E" })},
		{name: "key with trailing bits", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEC=="),
			want: hsWant(func(r *Request) { r.Key = "AQIDBAUGBwgJCgsMDQ4PEC==" })},
		{name: "unknown headers", in: hsStd("", "X-Custom: caf\xc3\xa9 \x80\xff", "Cookie: a=b; c=d", "X-Empty:", "Content-Length: 0"),
			want: hsWant(nil)},
		{name: "origin", in: hsStd("", "Origin: https://App.Example.com"),
			want: hsWant(func(r *Request) { r.Origin = "https://App.Example.com" })},
		{name: "empty host", in: hsStd("host", "Host:"), want: hsWant(func(r *Request) { r.Host = "" })},
		{name: "head of exactly MaxHeadBytes", in: exact, want: hsWant(nil)},
		{name: "exact+frame", in: exact, trailing: hsFrame, want: hsWant(nil)},

		// Incomplete.
		{name: "incomplete", in: "GET /chat HTTP/1.1\r\nHost: x\r\n", status: -1},
		{name: "incomplete CR", in: "GET /chat HTTP/1.1\r\nHost: x\r\n\r", status: -1},
		{name: "only empty lines", in: "\r\n\r\n\n", status: -1},
		{name: "empty", in: "", status: -1},

		// The request line.
		{name: "no version", in: "GET /chat\r\n\r\n", status: 400, msg: `"GET /chat"`},
		{name: "no version early", in: "GET /chat\r\nHost: x\r\n", status: 400, msg: `"GET /chat"`},
		{name: "two spaces", in: strings.Replace(hsStd(""), "GET /chat", "GET  /chat", 1), status: 400},
		{name: "two spaces before version", in: strings.Replace(hsStd(""), "/chat ", "/chat  ", 1), status: 400},
		{name: "trailing space", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/1.1 ", 1), status: 400},
		{name: "leading space", in: " " + hsStd(""), status: 400},
		{name: "tab separator", in: strings.Replace(hsStd(""), "GET /chat", "GET\t/chat", 1), status: 400},
		{name: "HTTP/1.0", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/1.0", 1), status: 400, msg: `"HTTP/1.0"`},
		{name: "HTTP/0.9", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/0.9", 1), status: 400},
		{name: "HTTP/2.0", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/2.0", 1), status: 505, msg: `"HTTP/2.0"`},
		{name: "HTTP/3.0 early", in: "GET / HTTP/3.0\r\n", status: 505},
		{name: "h2 preface", in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 505},
		{name: "lower-case http", in: strings.Replace(hsStd(""), "HTTP/1.1", "http/1.1", 1), status: 400},
		{name: "HTTP/1.10", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/1.10", 1), status: 400},
		{name: "HTTP/1", in: strings.Replace(hsStd(""), "HTTP/1.1", "HTTP/1", 1), status: 400},
		{name: "CR CR LF", in: strings.Replace(hsStd(""), "HTTP/1.1\r\n", "HTTP/1.1\r\r\n", 1), status: 400},
		{name: "relative target", in: strings.Replace(hsStd(""), "/chat", "chat", 1), status: 400, msg: `"chat"`},
		{name: "asterisk target", in: strings.Replace(hsStd(""), "/chat", "*", 1), status: 400},
		{name: "ftp target", in: strings.Replace(hsStd(""), "/chat", "ftp://x/chat", 1), status: 400},
		{name: "absolute target bad port", in: strings.Replace(hsStd(""), "/chat", "http://x:abc/chat", 1), status: 400},
		{name: "absolute target bad IPv6", in: strings.Replace(hsStd(""), "/chat", "http://[::1/chat", 1), status: 400},
		{name: "absolute target userinfo", in: strings.Replace(hsStd(""), "/chat", "http://user@x/chat", 1), status: 400},
		{name: "absolute target no host", in: strings.Replace(hsStd(""), "/chat", "http:///chat", 1), status: 400},
		{name: "DEL in target", in: strings.Replace(hsStd(""), "/chat", "/ch\x7fat", 1), status: 400},
		{name: "NUL in target", in: strings.Replace(hsStd(""), "/chat", "/ch\x00at", 1), status: 400},
		{name: "UTF-8 in target", in: strings.Replace(hsStd(""), "/chat", "/caf\xc3\xa9", 1), status: 400},
		{name: "bad escape", in: strings.Replace(hsStd(""), "/chat", "/a%zz", 1), status: 400},
		{name: "short escape", in: strings.Replace(hsStd(""), "/chat", "/a%2", 1), status: 400},
		{name: "bad method token", in: strings.Replace(hsStd(""), "GET", "G(T", 1), status: 400},
		{name: "garbage line early", in: "\x16\x03\x01\x02\x00\x01\n" + strings.Repeat("x", MaxHeadBytes), status: 400},
		{name: "bad line before 431", in: "BAD\r\n" + strings.Repeat("x", MaxHeadBytes), status: 400},

		// Method.
		{name: "POST", in: strings.Replace(hsStd(""), "GET", "POST", 1), status: 405, header: allow, msg: `"POST"`},
		{name: "lower-case get", in: strings.Replace(hsStd(""), "GET", "get", 1), status: 405, header: allow},
		{name: "POST without Host", in: strings.Replace(hsStd("host"), "GET", "POST", 1), status: 405, header: allow},
		{name: "POST HTTP/1.0", in: "POST / HTTP/1.0\r\n\r\n", status: 400},

		// Host.
		{name: "missing Host", in: hsStd("host"), status: 400, msg: "Host"},
		{name: "repeated Host", in: hsStd("", "Host: other.example.com"), status: 400, msg: "Host"},
		{name: "missing Host, no upgrade", in: hsHead("GET / HTTP/1.1"), status: 400, msg: "Host"},

		// Upgrade-ness.
		{name: "plain GET", in: hsHead("GET / HTTP/1.1", "Host: x"), status: 426, header: upg},
		{name: "plain GET keep-alive", in: hsHead("GET /index.html HTTP/1.1", "Host: x", "Connection: keep-alive"), status: 426, header: upg},
		{name: "Connection upgrade, no Upgrade", in: hsStd("upgrade"), status: 426, header: upg},
		{name: "Upgrade h2c", in: hsStd("upgrade", "Upgrade: h2c"), status: 400, msg: `"h2c"`},
		{name: "Upgrade websocket2", in: hsStd("upgrade", "Upgrade: websocket2"), status: 400},
		{name: "Upgrade empty", in: hsStd("upgrade", "Upgrade:"), status: 400},
		{name: "missing Connection", in: hsStd("connection"), status: 400, msg: "Connection"},
		{name: "Connection keep-alive", in: hsStd("connection", "Connection: keep-alive"), status: 400, msg: `"keep-alive"`},
		{name: "Connection upgraded", in: hsStd("connection", "Connection: upgraded"), status: 400},

		// Sec-WebSocket-Version.
		{name: "missing version", in: hsStd("sec-websocket-version"), status: 426, header: v13},
		{name: "version 8", in: hsStd("sec-websocket-version", "Sec-WebSocket-Version: 8"), status: 426, header: v13, msg: `"8"`},
		{name: "version 013", in: hsStd("sec-websocket-version", "Sec-WebSocket-Version: 013"), status: 426, header: v13},
		{name: "version list", in: hsStd("sec-websocket-version", "Sec-WebSocket-Version: 13, 8"), status: 426, header: v13},
		{name: "repeated version", in: hsStd("", "Sec-WebSocket-Version: 13"), status: 400, msg: "Sec-WebSocket-Version"},

		// Sec-WebSocket-Key.
		{name: "missing key", in: hsStd("sec-websocket-key"), status: 400, msg: "Sec-WebSocket-Key"},
		{name: "key unpadded", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"), status: 400, msg: `"dGhlIHNhbXBsZSBub25jZQ"`},
		{name: "key 20 bytes", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEBESExQ="), status: 400},
		{name: "key 15 bytes", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4P"), status: 400},
		{name: "key bad char", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: dGhlIHNhbXBs*SBub25jZQ=="), status: 400},
		{name: "key inner space", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: dGhlIHNhbXB sZSBub25jZQ=="), status: 400},
		{name: "key url alphabet", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ_=="), status: 400},
		{name: "repeated key", in: hsStd("", "Sec-WebSocket-Key: "+hsKey), status: 400, msg: "repeated Sec-WebSocket-Key"},

		// Header line syntax.
		{name: "obs-fold", in: hsStd("", "X-A: b", " c"), status: 400, msg: "obs-fold"},
		{name: "obs-fold tab", in: hsStd("", "X-A: b", "\tc"), status: 400, msg: "obs-fold"},
		{name: "no colon", in: hsStd("", "Foo bar"), status: 400, msg: `"Foo bar"`},
		{name: "space before colon", in: hsStd("host", "Host : server.example.com"), status: 400, msg: "whitespace"},
		{name: "tab before colon", in: hsStd("", "X-A\t: b"), status: 400, msg: "whitespace"},
		{name: "empty name", in: hsStd("", ": b"), status: 400},
		{name: "NUL in value", in: hsStd("", "X-A: a\x00b"), status: 400, msg: `'\x00'`},
		{name: "control in value", in: hsStd("", "X-A: a\x01b"), status: 400},
		{name: "CR in value", in: hsStd("", "X-A: a\rb"), status: 400},
		{name: "DEL in value", in: hsStd("", "X-A: a\x7f"), status: 400},
		{name: "bad name", in: hsStd("", "X(A): b"), status: 400, msg: `"X(A)"`},
		{name: "NUL in name", in: hsStd("", "X\x00: b"), status: 400},
		{name: "UTF-8 in name", in: hsStd("", "Caf\xc3\xa9: b"), status: 400},
		{name: "CR starting a line", in: hsStd("", "\rX: y"), status: 400},
		{name: "bad header beats method", in: strings.Replace(hsStd("", "Foo bar"), "GET", "POST", 1), status: 400},

		// The rest.
		{name: "repeated origin", in: hsStd("", "Origin: http://a.example", "Origin: http://b.example"), status: 400, msg: "Origin"},
		{name: "protocol with space", in: hsStd("", "Sec-WebSocket-Protocol: chat, super chat"), status: 400, msg: `"super chat"`},
		{name: "protocol with slash", in: hsStd("", "Sec-WebSocket-Protocol: chat/1"), status: 400},
		{name: "content-length", in: hsStd("", "Content-Length: 5"), trailing: "hello", status: 400, msg: "Content-Length"},
		{name: "transfer-encoding", in: hsStd("", "Transfer-Encoding: chunked"), status: 400, msg: "Transfer-Encoding"},

		// The order of the checks.
		{name: "order: upgrade before version", in: hsHead("GET / HTTP/1.1", "Host: x", "Sec-WebSocket-Version: 8"), status: 426, header: upg},
		{name: "order: version before key", in: hsStd("sec-websocket-version,sec-websocket-key", "Sec-WebSocket-Version: 8", "Sec-WebSocket-Key: x"), status: 426, header: v13},
		{name: "order: key before origin", in: hsStd("sec-websocket-key", "Sec-WebSocket-Key: x", "Origin: a", "Origin: b"), status: 400, msg: "Sec-WebSocket-Key"},
		{name: "order: host before upgrade", in: hsStd("host,upgrade"), status: 400, msg: "Host"},

		// Size.
		{name: "head over MaxHeadBytes", in: over, status: 431},
		{name: "endless request line", in: "GET /" + strings.Repeat("a", MaxHeadBytes+10), status: 431},
		{name: "endless headers", in: "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", MaxHeadBytes/8+1), status: 431},
		{name: "endless empty lines", in: strings.Repeat("\r\n", MaxHeadBytes/2+1), status: 431},
	}
}

// hsShort cuts s for a failure message.
func hsShort(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// hsCheck compares a result with the case's expectation.
func hsCheck(t *testing.T, c hsCase, got hsResult) {
	t.Helper()
	if got.bad != "" {
		t.Fatalf("Feed broke its contract: %s", got.bad)
	}
	switch c.status {
	case 0:
		if !got.done || got.status != 0 {
			t.Fatalf("Feed(%q) = done %v, status %d (%s); want accepted", hsShort(c.in), got.done, got.status, got.msg)
		}
		if !reflect.DeepEqual(got.req, c.want) {
			t.Fatalf("Feed(%q) request\n got %#v\nwant %#v", hsShort(c.in), got.req, c.want)
		}
		if got.head != len(c.in) {
			t.Fatalf("Feed(%q): head ends at %d, want %d", hsShort(c.in), got.head, len(c.in))
		}
	case -1:
		if got.done || got.status != 0 {
			t.Fatalf("Feed(%q) = done %v, status %d (%s); want incomplete", hsShort(c.in), got.done, got.status, got.msg)
		}
	default:
		if got.status != c.status {
			t.Fatalf("Feed(%q) = status %d (%q), done %v; want %d", hsShort(c.in), got.status, got.msg, got.done, c.status)
		}
		if !strings.HasPrefix(got.msg, "protocol: ") || !strings.Contains(got.msg, c.msg) {
			t.Fatalf("Feed(%q) message %q; want it to start with \"protocol: \" and contain %q", hsShort(c.in), got.msg, c.msg)
		}
		if !reflect.DeepEqual(got.header, c.header) {
			t.Fatalf("Feed(%q) extra headers %q; want %q", hsShort(c.in), got.header, c.header)
		}
	}
}

// TestHandshakeTable runs every case whole, then split at every chunk size
// from 1 byte to its length: each split must give the same status, message,
// Request and head length as the whole.
func TestHandshakeTable(t *testing.T) {
	for _, c := range hsCases() {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in + c.trailing)
			whole := hsFeed(in, max(len(in), 1))
			hsCheck(t, c, whole)
			for size := 1; size < len(in); size++ {
				got := hsFeed(in, size)
				if !reflect.DeepEqual(got, whole) {
					t.Fatalf("split every %d bytes:\n got %+v\nwant %+v (whole)", size, got, whole)
				}
			}
		})
	}
}

// TestHandshakeFramesAfterHead: bytes after the head in the same read are
// returned to the caller (p[n:]) exactly, at every split.
func TestHandshakeFramesAfterHead(t *testing.T) {
	frames := hsFrame + "\x89\x80\x01\x02\x03\x04" // text "Hello", then an empty ping
	in := []byte(hsSeedRequest + frames)
	for size := 1; size <= len(in); size++ {
		var hp Parser
		var rest []byte
		done := false
		for off := 0; off < len(in); off += size {
			p := in[off:min(off+size, len(in))]
			if done {
				rest = append(rest, p...)
				continue
			}
			n, ok, _, err := hp.Feed(p)
			if err != nil {
				t.Fatalf("size %d: Feed: %v", size, err)
			}
			if ok {
				done = true
				rest = append(rest, p[n:]...)
			}
		}
		if !done || string(rest) != frames {
			t.Fatalf("size %d: done %v, bytes after the head %q; want %q", size, done, rest, frames)
		}
	}
}

// TestHandshakeSeedResponse: the seed request gets exactly the seed response.
func TestHandshakeSeedResponse(t *testing.T) {
	var hp Parser
	n, done, req, err := hp.Feed([]byte(hsSeedRequest))
	if err != nil || !done || n != len(hsSeedRequest) {
		t.Fatalf("Feed(seed) = %d, %v, %v; want %d, true, nil", n, done, err, len(hsSeedRequest))
	}
	got := AppendResponse(nil, req.Key, SelectSubprotocol(req.Protocols, hsSupported))
	if string(got) != hsSeedResponse {
		t.Fatalf("AppendResponse(seed) =\n%q\nwant\n%q", got, hsSeedResponse)
	}
}

// TestHandshakeParserReuse: after done the parser starts over; after an error
// it keeps the error until Reset.
func TestHandshakeParserReuse(t *testing.T) {
	var hp Parser
	half := len(hsSeedRequest) / 2
	if _, done, _, err := hp.Feed([]byte(hsSeedRequest[:half])); done || err != nil {
		t.Fatalf("first half: done %v, err %v", done, err)
	}
	if hp.Buffered() != half {
		t.Fatalf("Buffered() = %d after %d bytes; want %d", hp.Buffered(), half, half)
	}
	if _, done, _, err := hp.Feed([]byte(hsSeedRequest[half:])); !done || err != nil {
		t.Fatalf("second half: done %v, err %v", done, err)
	}
	if hp.Buffered() != 0 || hp.buf != nil {
		t.Fatalf("buffer kept after done: %d bytes", hp.Buffered())
	}
	if _, done, req, err := hp.Feed([]byte(hsStd(""))); !done || err != nil || req.Target != "/chat" {
		t.Fatalf("second request: done %v, err %v", done, err)
	}
	_, _, _, err := hp.Feed([]byte("POST / HTTP/1.1\r\n\r\n"))
	if _, _, _, err2 := hp.Feed([]byte(hsSeedRequest)); err == nil || err2 != err {
		t.Fatalf("after an error Feed = %v, then %v; want the same error twice", err, err2)
	}
	hp.Reset()
	if _, done, _, err := hp.Feed([]byte(hsSeedRequest)); !done || err != nil {
		t.Fatalf("after Reset: done %v, err %v", done, err)
	}
}

// TestHandshakeWholeInPlace: a head that arrives whole is parsed without a
// copy (no buffer) and with at most two allocations (the Request and its
// strings).
func TestHandshakeWholeInPlace(t *testing.T) {
	in := []byte(hsSeedRequest)
	allocs := testing.AllocsPerRun(100, func() {
		var hp Parser
		if _, done, _, err := hp.Feed(in); !done || err != nil || hp.buf != nil {
			t.Fatalf("Feed(seed) = %v, %v, buffer %d bytes", done, err, cap(hp.buf))
		}
	})
	if allocs > 2 {
		t.Fatalf("Feed(seed) allocates %v times; want at most 2", allocs)
	}
}

// TestHandshakeErrorText: Error() carries the message and the status.
func TestHandshakeErrorText(t *testing.T) {
	var hp Parser
	_, _, _, err := hp.Feed([]byte(hsStd("host")))
	want := "protocol: missing Host header (RFC 6455 §4.1 item 4) (400 Bad Request)"
	if err == nil || err.Error() != want {
		t.Fatalf("Feed(no Host) error %v; want %q", err, want)
	}
}

// TestHandshakeRejectsAtOnce: a head that passes MaxHeadBytes is rejected by
// the Feed that brings the MaxHeadBytes-th byte, and a bad request line by
// the Feed that completes it, without waiting for more.
func TestHandshakeRejectsAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		at     int // the 1-based byte whose Feed must fail
		status int
	}{
		{"endless request line", "GET /" + strings.Repeat("a", 2*MaxHeadBytes), MaxHeadBytes, 431},
		{"endless header", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 2*MaxHeadBytes), MaxHeadBytes, 431},
		{"bad request line", "GET / HTTP/1.0\r\nHost: x\r\n", len("GET / HTTP/1.0\r\n"), 400},
		{"HTTP/2 request line", "PRI * HTTP/2.0\n\n", len("PRI * HTTP/2.0\n"), 505},
	}
	for _, tt := range tests {
		var hp Parser
		for i := 0; i < len(tt.in); i++ {
			_, _, _, err := hp.Feed([]byte{tt.in[i]})
			if err == nil {
				continue
			}
			if he := err.(*Error); he.Status != tt.status || i+1 != tt.at {
				t.Errorf("%s: byte %d: Feed = %v; want status %d at byte %d", tt.name, i+1, err, tt.status, tt.at)
			}
			break
		}
	}
	// One large Feed: rejected without buffering it.
	var hp Parser
	huge := bytes.Repeat([]byte("a"), 1<<20)
	if _, _, _, err := hp.Feed(huge); err == nil || err.(*Error).Status != 431 || hp.buf != nil {
		t.Fatalf("Feed(1 MiB without LF) = %v, buffer %d bytes; want 431 and no buffer", err, cap(hp.buf))
	}
}

func TestIsRootTarget(t *testing.T) {
	tests := []struct {
		target string
		want   bool
	}{
		{"/", true},
		{"/?", true},
		{"/?name=x", true},
		{"//", false},
		{"/index.html", false},
		{"/chat", false},
		{"http://x/", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isRootTarget([]byte(tt.target)); got != tt.want {
			t.Errorf("isRootTarget(%q) = %v; want %v", tt.target, got, tt.want)
		}
	}
}
