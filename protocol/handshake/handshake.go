package handshake

import "bytes"

// MaxHeadBytes bounds the request head (request line, header lines and the
// blank line that ends them). A longer head is answered 431 Request Header
// Fields Too Large as soon as MaxHeadBytes bytes have arrived without its end.
const MaxHeadBytes = 8192

// Request is a client's opening handshake that passed every check of RFC 6455
// §4.2.1. Its strings are copies: a Request never aliases the bytes given to
// Feed, and stays valid for as long as the caller keeps it.
type Request struct {
	Method string // always "GET" in a Request that Feed returns
	Target string // request-target: origin-form "/chat?x" or absolute-form "http://host/chat"
	Host   string // Host header, trimmed (with an absolute-form Target, RFC 9112 §3.2.2 says the Target's authority wins)
	Key    string // Sec-WebSocket-Key, 24 base64 characters that decode to 16 bytes
	Origin string // Origin header as sent, "" when absent (a non-browser client, §4.2.1 item 7)

	// Version is the Sec-WebSocket-Version the client asked for: always 13.
	Version int

	// Protocols are the subprotocols the client offers (Sec-WebSocket-Protocol,
	// all header lines combined as §11.3.4 says), in the client's order of
	// preference; nil when none. Each is an RFC 7230 token.
	Protocols []string

	// Extensions is the Sec-WebSocket-Extensions value as sent (several header
	// lines joined with ", "), "" when absent. Its syntax is not checked
	// here: read it with NextExtension. Which extension to accept is the
	// server's choice (§9.1; package protocol accepts permessage-deflate,
	// RFC 7692), and its answer goes after AppendResponseHeader.
	Extensions string
}

// Parser incrementally finds and parses an HTTP/1.1 request head: the
// client's opening handshake of RFC 6455 §4.1 and §4.2.1, read per RFC 9112.
// It is fed whatever bytes have arrived (like Twisted's dataReceived, in
// pieces of any size down to one byte) and never pulls more.
//
// It finds the end of the head without rescanning earlier bytes (it keeps its
// scan state between calls: O(n) in all). When the whole head is in one Feed
// call it parses it in place, without copying it; otherwise it copies the
// pieces into its own buffer, which never grows beyond MaxHeadBytes and which
// it releases once the head is complete or rejected. It never keeps a
// reference to a slice passed to Feed.
//
// The zero value is ready to use. A Parser belongs to one connection
// and must be used from one goroutine at a time (the connection's event loop).
// It is small (under 80 bytes) while it holds no partial head.
type Parser struct {
	buf   []byte // the head so far, when it arrives in pieces
	n     int    // bytes of the head scanned so far
	lead  int    // bytes of empty lines before the request line
	line  int    // offset of the LF ending the request line; 0 until seen
	state uint8  // scan state (scanStart...)
	err   *Error // sticky rejection
}

// Scan states: where the last scanned byte left the search for the empty line
// that ends the head. A line ends with LF; a CR before the LF is dropped
// (RFC 9112 §2.2 lets a recipient take a bare LF as a line terminator).
const (
	scanStart   uint8 = iota // before the request line: empty lines are skipped (RFC 9112 §2.2)
	scanStartCR              // a CR before the request line
	scanLine                 // inside a non-empty line
	scanLF                   // at the start of a line after a non-empty one
	scanLFCR                 // a CR at the start of such a line
)

// Feed consumes the next bytes of the connection, until the request head is
// complete. p is only read, and only during the call.
//
//   - done == false, err == nil: every byte of p was taken (n == len(p)); the
//     head is not complete yet: call Feed again with the next bytes.
//   - done == true: the head ended at p[n-1]. p[n:] are bytes the client sent
//     after the head in the same read (its first frames): the caller decodes
//     them at once. req is the validated request; the parser is back to its
//     zero state.
//   - err != nil: a *Error to answer with (AppendHTTPError) before
//     closing the connection; n is then meaningless. Every later Feed returns
//     the same error.
//
// Checks, in this order (the first failure is the answer):
//
//  1. The request line, as soon as it is complete, without waiting for the
//     rest of the head: exactly "METHOD SP request-target SP HTTP/x.y" (400);
//     HTTP/1.0 or lower is 400 (§4.1: "the HTTP version MUST be at least
//     1.1"); HTTP/2.0 or higher is 505 HTTP Version Not Supported.
//  2. The head is larger than MaxHeadBytes: 431, as soon as MaxHeadBytes bytes
//     have arrived without its end.
//  3. Header line syntax (400; RFC 9112 §5): no colon, whitespace before the
//     colon, an obs-fold continuation line, a control character.
//  4. The method (§4.1: "The method of the request MUST be GET"): 405 with
//     "Allow: GET".
//  5. Host (§4.1 item 4, "The request MUST contain a |Host| header field"):
//     missing or repeated is 400 (RFC 9112 §3.2).
//  6. Upgrade-ness (§4.2.1 items 3 and 4): no Upgrade header at all (a plain
//     GET) is 426 with "Upgrade: websocket" and "Connection: Upgrade"; an
//     Upgrade list without "websocket", or a Connection list without
//     "upgrade", is 400. Both are case-insensitive comma-separated token
//     lists, possibly spread over several header lines.
//  7. Sec-WebSocket-Version (§4.2.1 item 6, §4.4): missing or not 13 is 426
//     with "Sec-WebSocket-Version: 13"; repeated is 400 (§11.3.5: it "MUST
//     NOT appear more than once in an HTTP request").
//  8. Sec-WebSocket-Key (§4.2.1 item 5: "a base64-encoded ... value that,
//     when decoded, is 16 bytes in length"): missing, repeated (§11.3.1) or
//     not base64 of 16 bytes is 400.
//  9. Origin repeated, a request body announced (Content-Length other than 0,
//     or Transfer-Encoding: the bytes after the head are frames), or a
//     Sec-WebSocket-Protocol element that is not a token (§4.1 item 10): 400.
//
// Header names are case-insensitive; optional whitespace around values is
// dropped; unknown headers are ignored (§4.2.1 item 10). Origin is not checked
// against an allow-list here: see OriginAllowed and ErrOriginForbidden.
func (hp *Parser) Feed(p []byte) (n int, done bool, req *Request, err error) {
	n, done, req, _, err = hp.FeedHead(p)
	return n, done, req, err
}

// FeedHead is Feed that also returns, with a complete request, the request
// head itself (request line and header lines, as Head), for a caller that
// wants headers the Request does not carry (Cookie, Authorization). The
// head may alias p: it is valid only until p is reused; the parser keeps no
// reference to it.
func (hp *Parser) FeedHead(p []byte) (n int, done bool, req *Request, h Head, err error) {
	if hp.err != nil {
		return 0, false, nil, nil, hp.err
	}
	start := hp.n
	w := p
	if room := MaxHeadBytes - start; len(w) > room {
		w = w[:room]
	}
	lineKnown := hp.line != 0
	end := hp.scan(w)
	k := len(w)
	if end >= 0 {
		k = end
	}
	hp.n = start + k

	head := w[:k] // from the start of the head: parse in place
	if start > 0 {
		hp.keep(head)
		head = hp.buf
	}
	if end < 0 {
		if !lineKnown && hp.line != 0 {
			// The request line just completed: reject a bad one at once.
			if _, _, e := parseRequestLine(requestLine(head, hp.lead, hp.line)); e != nil {
				return k, false, nil, nil, hp.fail(e)
			}
		}
		if hp.n >= MaxHeadBytes {
			return k, false, nil, nil, hp.fail(errTooLarge())
		}
		if start == 0 {
			hp.keep(head)
		}
		return len(p), false, nil, nil, nil
	}

	h = Head(head[hp.lead:])
	r, e := parseHead(h, hp.line-hp.lead)
	if e != nil {
		return k, false, nil, nil, hp.fail(e)
	}
	*hp = Parser{}
	return k, true, r, h, nil
}

// Reset drops any partial head and error: hp is as good as new.
func (hp *Parser) Reset() { *hp = Parser{} }

// Buffered returns how many bytes of a partial head hp holds in its own
// buffer (at most MaxHeadBytes).
func (hp *Parser) Buffered() int { return len(hp.buf) }

// Held returns the size of the buffer hp holds for a partial head (its
// capacity: at most MaxHeadBytes, 0 when it holds none): the memory a
// stalled handshake costs.
func (hp *Parser) Held() int { return cap(hp.buf) }

// fail makes e the parser's sticky result and releases the buffer.
func (hp *Parser) fail(e *Error) *Error {
	*hp = Parser{err: e}
	return e
}

// keep appends b to hp.buf, growing it by doubling and never beyond
// MaxHeadBytes (hp.n never passes MaxHeadBytes, so neither does the need).
func (hp *Parser) keep(b []byte) {
	if need := len(hp.buf) + len(b); need > cap(hp.buf) {
		c := min(max(2*cap(hp.buf), 512, need), MaxHeadBytes)
		nb := make([]byte, len(hp.buf), c)
		copy(nb, hp.buf)
		hp.buf = nb
	}
	hp.buf = append(hp.buf, b...)
}

// scan advances the search for the end of the head over w, the head's bytes
// at offsets hp.n onwards. It returns the index in w just past the LF of the
// empty line that ends the head, or -1 when w ends first. On the way it
// records where the request line ends (hp.line) and how many empty-line bytes
// precede it (hp.lead).
func (hp *Parser) scan(w []byte) int {
	st := hp.state
	for i := 0; i < len(w); i++ {
		switch st {
		case scanLine:
			j := bytes.IndexByte(w[i:], '\n')
			if j < 0 {
				hp.state = st
				return -1
			}
			i += j
			if hp.line == 0 {
				hp.line = hp.n + i
			}
			st = scanLF
		case scanLF:
			switch w[i] {
			case '\n':
				return i + 1
			case '\r':
				st = scanLFCR
			default:
				st = scanLine
			}
		case scanLFCR:
			if w[i] == '\n' {
				return i + 1
			}
			st = scanLine
		case scanStart:
			switch w[i] {
			case '\n':
				hp.lead = hp.n + i + 1
			case '\r':
				st = scanStartCR
			default:
				st = scanLine
			}
		case scanStartCR:
			if w[i] == '\n' {
				hp.lead = hp.n + i + 1
				st = scanStart
			} else {
				st = scanLine
			}
		}
	}
	hp.state = st
	return -1
}

// requestLine returns the request line of head (without its CR LF), given the
// offsets the scan recorded.
func requestLine(head []byte, lead, lf int) []byte {
	return trimCR(head[lead:lf])
}
