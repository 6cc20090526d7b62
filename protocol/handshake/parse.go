package handshake

import (
	"bytes"
	"net/url"
	"strings"
)

// parseRequestLine splits and checks the request line (RFC 9112 §3):
// exactly "method SP request-target SP HTTP-version", with HTTP/1.1 or a later
// HTTP/1.x (§4.1 item 2: "the HTTP version MUST be at least 1.1").
func parseRequestLine(line []byte) (method, target []byte, e *Error) {
	if e := errIfProxyHeader(line); e != nil {
		return nil, nil, e
	}
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return nil, nil, badRequest("malformed request line %s: want \"GET /path HTTP/1.1\"", quoted(line))
	}
	method = line[:sp1]
	if !isToken(method) {
		return nil, nil, badRequest("invalid method %s in request line", quoted(method))
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return nil, nil, badRequest("malformed request line %s: want \"GET /path HTTP/1.1\"", quoted(line))
	}
	target, version := rest[:sp2], rest[sp2+1:]
	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' ||
		!isDigit(version[5]) || !isDigit(version[7]) {
		return nil, nil, badRequest("malformed HTTP version %s in request line", quoted(version))
	}
	switch major, minor := version[5]-'0', version[7]-'0'; {
	case major >= 2:
		return nil, nil, errHTTPVersion(version)
	case major == 0 || minor == 0:
		return nil, nil, badRequest("%s is too old: the WebSocket upgrade needs HTTP/1.1 (RFC 6455 §4.1)", quoted(version))
	}
	if e := checkTarget(target); e != nil {
		return nil, nil, e
	}
	return method, target, nil
}

// checkTarget accepts the two request-target forms a WebSocket handshake can
// use (§4.1 item 3): origin-form "/resource?query", or an absolute http,
// https, ws or wss URI with a host and no userinfo (RFC 9112 §3.2.2: "a server
// MUST accept the absolute-form"; RFC 9110 §4.2.4: userinfo is an error).
// Only visible ASCII is allowed (RFC 3986), and a percent sign must start a
// %XX escape.
func checkTarget(t []byte) *Error {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= ' ' || c >= 0x7f {
			return badRequest("invalid character %q in request target %s", c, quoted(t))
		}
		if c == '%' && (i+2 >= len(t) || !isHex(t[i+1]) || !isHex(t[i+2])) {
			return badRequest("invalid percent-escape in request target %s", quoted(t))
		}
	}
	if t[0] == '/' {
		return nil
	}
	// The absolute-form is rare: let net/url check its authority (port,
	// IPv6 brackets).
	if u, err := url.ParseRequestURI(string(t)); err == nil && u.Host != "" && u.User == nil {
		switch u.Scheme {
		case "http", "https", "ws", "wss":
			return nil
		}
	}
	return badRequest("request target %s is neither a path nor an absolute http(s) URI with a host (RFC 6455 §4.1)", quoted(t))
}

// headFields collects what the handshake needs from the header lines. Its
// slices alias the head being parsed.
type headFields struct {
	host, key, version, origin onceValue
	upgrade, connection        tokenList
	body                       []byte    // a Content-Length other than 0, or a Transfer-Encoding line
	protocols                  valueList // Sec-WebSocket-Protocol values, one per header line
	extensions                 valueList // non-empty Sec-WebSocket-Extensions values
}

// onceValue is a header that must appear at most once: its value and how many
// times it appeared.
type onceValue struct {
	v []byte
	n int
}

func (o *onceValue) add(v []byte) { o.v, o.n = v, o.n+1 }

// tokenList is a comma-separated token list that may span several lines
// (Upgrade, Connection): whether it appeared, its first value (for messages),
// and whether one of its elements is the wanted token.
type tokenList struct {
	first     []byte
	seen, has bool
}

func (t *tokenList) add(v []byte, token string) {
	if !t.seen {
		t.first, t.seen = v, true
	}
	t.has = t.has || hasToken(v, token)
}

// valueList collects the values of a header that may repeat; the first few
// are kept without allocating.
type valueList struct {
	n     int
	first [4][]byte
	more  [][]byte
}

func (l *valueList) add(v []byte) {
	if l.n < len(l.first) {
		l.first[l.n] = v
	} else {
		l.more = append(l.more, v)
	}
	l.n++
}

// at returns the i-th value, 0 <= i < l.n.
func (l *valueList) at(i int) []byte {
	if i < len(l.first) {
		return l.first[i]
	}
	return l.more[i-len(l.first)]
}

// parseHead parses and validates a complete head h (starting at the request
// line, ending with the empty line); lf is the index of the LF ending the
// request line. The returned Request shares no memory with h.
func parseHead(h []byte, lf int) (*Request, *Error) {
	method, target, e := parseRequestLine(trimCR(h[:lf]))
	if e != nil {
		return nil, e
	}
	var f headFields
	for rest := h[lf+1:]; ; {
		i := bytes.IndexByte(rest, '\n') // found: h ends with an empty line
		line := trimCR(rest[:i])
		rest = rest[i+1:]
		if len(line) == 0 {
			break
		}
		if e := f.add(line); e != nil {
			return nil, e
		}
	}
	if e := f.check(method, target); e != nil {
		return nil, e
	}
	return f.request(target)
}

// add parses one header line (RFC 9112 §5: field-name ":" OWS field-value
// OWS) and records it when the handshake needs it.
func (f *headFields) add(line []byte) *Error {
	if line[0] == ' ' || line[0] == '\t' {
		// RFC 9112 §5.2: a server MUST reject obs-fold (or replace it); we reject.
		return badRequest("obsolete line folding (obs-fold) in header line %s", quoted(line))
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return badRequest("header line without colon: %s", quoted(line))
	}
	name := line[:colon]
	if colon == 0 {
		return badRequest("empty header name in %s", quoted(line))
	}
	if c := name[colon-1]; c == ' ' || c == '\t' {
		// RFC 9112 §5.1: "A server MUST reject, with a response status code of
		// 400 (Bad Request), any received request message that contains
		// whitespace between a header field name and colon."
		return badRequest("whitespace between header name and colon in %s", quoted(line))
	}
	if !isToken(name) {
		return badRequest("invalid header name %s", quoted(name))
	}
	value := trimOWS(line[colon+1:])
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return badRequest("control character %q in header %s value", c, quoted(name))
		}
	}
	switch len(name) {
	case 4:
		if equalFoldLower(name, "host") {
			f.host.add(value)
		}
	case 6:
		if equalFoldLower(name, "origin") {
			f.origin.add(value)
		}
	case 7:
		if equalFoldLower(name, "upgrade") {
			f.upgrade.add(value, "websocket")
		}
	case 10:
		if equalFoldLower(name, "connection") {
			f.connection.add(value, "upgrade")
		}
	case 14:
		if equalFoldLower(name, "content-length") && string(value) != "0" && f.body == nil {
			f.body = line
		}
	case 17:
		if equalFoldLower(name, "sec-websocket-key") {
			f.key.add(value)
		} else if equalFoldLower(name, "transfer-encoding") && f.body == nil {
			f.body = line
		}
	case 21:
		if equalFoldLower(name, "sec-websocket-version") {
			f.version.add(value)
		}
	case 22:
		if equalFoldLower(name, "sec-websocket-protocol") {
			f.protocols.add(value)
		}
	case 24:
		if equalFoldLower(name, "sec-websocket-extensions") && len(value) > 0 {
			f.extensions.add(value)
		}
	}
	return nil
}

// check applies the checks of §4.2.1 in the order Feed documents.
func (f *headFields) check(method, target []byte) *Error {
	if string(method) != "GET" {
		return errMethod(method)
	}
	switch {
	case f.host.n == 0:
		return badRequest("missing Host header (RFC 6455 §4.1 item 4)")
	case f.host.n > 1:
		return badRequest("repeated Host header (RFC 9112 §3.2)")
	}
	switch {
	case !f.upgrade.seen:
		return errNotUpgrade(target)
	case !f.upgrade.has:
		return badRequest("Upgrade %s does not include \"websocket\" (RFC 6455 §4.2.1 item 3)", quoted(f.upgrade.first))
	case !f.connection.seen:
		return badRequest("missing Connection header: it must include \"Upgrade\" (RFC 6455 §4.2.1 item 4)")
	case !f.connection.has:
		return badRequest("Connection %s does not include \"Upgrade\" (RFC 6455 §4.2.1 item 4)", quoted(f.connection.first))
	}
	switch {
	case f.version.n == 0:
		return errWSVersion(nil, true)
	case f.version.n > 1:
		return badRequest("repeated Sec-WebSocket-Version header (RFC 6455 §11.3.5)")
	case string(f.version.v) != "13":
		return errWSVersion(f.version.v, false)
	}
	switch {
	case f.key.n == 0:
		return badRequest("missing Sec-WebSocket-Key header (RFC 6455 §4.2.1 item 5)")
	case f.key.n > 1:
		return badRequest("repeated Sec-WebSocket-Key header (RFC 6455 §11.3.1)")
	case !validKey(f.key.v):
		return badRequest("Sec-WebSocket-Key %s is not the base64 encoding of 16 bytes (RFC 6455 §4.2.1 item 5)", quoted(f.key.v))
	}
	if f.origin.n > 1 {
		return badRequest("repeated Origin header (RFC 6454 §7.3)")
	}
	if f.body != nil {
		// The bytes after the head are WebSocket frames: a request body would
		// be taken for frames (RFC 9112 §6.3 request smuggling).
		return badRequest("a handshake has no body, but the request says %s", quoted(f.body))
	}
	return nil
}

// requestAlloc places a Request and room for its first few subprotocols in
// one allocation.
type requestAlloc struct {
	req    Request
	protos [4]string
}

// request copies the fields into a new Request: one allocation for the
// Request, one for all its strings. It rejects a Sec-WebSocket-Protocol
// element that is not a token (§4.1 item 10: "The elements that comprise this
// value MUST be non-empty strings with characters in the range U+0021 to
// U+007E not including separator characters").
func (f *headFields) request(target []byte) (*Request, *Error) {
	nProto, protoLen := 0, 0
	for el := range f.protocolElements {
		if !isToken(el) {
			return nil, badRequest("subprotocol %s in Sec-WebSocket-Protocol is not a token (RFC 6455 §4.1 item 10)", quoted(el))
		}
		nProto++
		protoLen += len(el)
	}
	extLen := 0
	for i := range f.extensions.n {
		if i > 0 {
			extLen += len(", ")
		}
		extLen += len(f.extensions.at(i))
	}

	var b strings.Builder
	b.Grow(len(target) + len(f.host.v) + len(f.key.v) + len(f.origin.v) + extLen + protoLen)
	b.Write(target)
	b.Write(f.host.v)
	b.Write(f.key.v)
	b.Write(f.origin.v)
	for i := range f.extensions.n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(f.extensions.at(i))
	}
	for el := range f.protocolElements {
		b.Write(el)
	}
	s := b.String()

	a := new(requestAlloc)
	r := &a.req
	r.Method, r.Version = "GET", 13
	s, r.Target = cut(s, len(target))
	s, r.Host = cut(s, len(f.host.v))
	s, r.Key = cut(s, len(f.key.v))
	s, r.Origin = cut(s, len(f.origin.v))
	s, r.Extensions = cut(s, extLen)
	if nProto > 0 {
		if nProto <= len(a.protos) {
			r.Protocols = a.protos[:nProto:nProto]
		} else {
			r.Protocols = make([]string, nProto)
		}
		i := 0
		for el := range f.protocolElements {
			s, r.Protocols[i] = cut(s, len(el))
			i++
		}
	}
	return r, nil
}

// protocolElements yields the non-empty elements of every
// Sec-WebSocket-Protocol line, in order (§11.3.4: several lines are "logically
// the same as a single |Sec-WebSocket-Protocol| header field that contains all
// values"; RFC 9110 §5.6.1: empty list elements are ignored).
func (f *headFields) protocolElements(yield func([]byte) bool) {
	for i := range f.protocols.n {
		for rest := f.protocols.at(i); len(rest) > 0; {
			var el []byte
			el, rest = nextElement(rest)
			if len(el) > 0 && !yield(el) {
				return
			}
		}
	}
}

// cut splits s after n bytes: it returns the rest, then the head.
func cut(s string, n int) (rest, head string) { return s[n:], s[:n] }

// nextElement returns the first element of a comma-separated list (trimmed of
// optional whitespace, maybe empty) and the rest after its comma.
func nextElement(list []byte) (el, rest []byte) {
	if i := bytes.IndexByte(list, ','); i >= 0 {
		return trimOWS(list[:i]), list[i+1:]
	}
	return trimOWS(list), nil
}

// hasToken reports whether the comma-separated list contains tok (lower-case)
// as an element, ignoring ASCII case (Upgrade and Connection, §4.2.1).
func hasToken(list []byte, tok string) bool {
	for len(list) > 0 {
		var el []byte
		el, list = nextElement(list)
		if len(el) == len(tok) && equalFoldLower(el, tok) {
			return true
		}
	}
	return false
}

// validKey reports whether key is the base64 encoding (RFC 4648 §4, with
// padding) of exactly 16 bytes: 22 base64 characters then "==". The unused
// low bits of the last character are not required to be zero: the RFC's own
// example "AQIDBAUGBwgJCgsMDQ4PEC==" sets them.
func validKey(key []byte) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	for _, c := range key[:22] {
		if !isBase64(c) {
			return false
		}
	}
	return true
}

// equalFoldLower reports whether b equals lower (an all-lower-case ASCII
// string of the same length) ignoring ASCII case.
func equalFoldLower[T string | []byte](b T, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimCR drops one trailing CR (the CR of a CR LF line ending).
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// trimOWS drops leading and trailing optional whitespace (SP, HTAB).
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isToken reports whether b is a non-empty RFC 9110 §5.6.2 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if tokenChars[c] == 0 {
			return false
		}
	}
	return true
}

// tokenChars marks the tchar bytes of RFC 9110 §5.6.2: visible ASCII except
// the delimiters "(),/:;<=>?@[\]{} and DQUOTE.
var tokenChars = func() (t [256]byte) {
	for c := '!'; c <= '~'; c++ {
		if !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			t[c] = 1
		}
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

func isBase64(c byte) bool {
	return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || isDigit(c) || c == '+' || c == '/'
}
