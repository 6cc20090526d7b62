package handshake

import (
	"fmt"
	"strconv"
)

// Error is a rejected opening handshake: the HTTP status to answer
// with, a message for the response body and the log, and any extra response
// headers the status calls for (RFC 6455 §4.2.1: "the server MUST stop
// processing the client's handshake and return an HTTP response with an
// appropriate error code"). Write it with AppendHTTPError, then close the
// connection once the response is flushed.
//
// Msg starts with "protocol: " (the prefix of every error the server writes,
// kept when this package left package protocol so that response bodies and
// logs did not change) and quotes the offending value with %q. Header is
// shared by every error of the same kind: treat it as read-only.
type Error struct {
	Status int
	Msg    string
	Header [][2]string // extra response headers, e.g. {"Allow", "GET"}

	// root marks the 426 of a plain GET of "/" (no Upgrade header); see Root.
	root bool
}

// Root reports whether e is the 426 answer to a plain GET of "/" (with or
// without a query, and without an Upgrade header): a browser pointed at the
// server. A server with a page of its own for "/" may answer with it
// instead of e.
func (e *Error) Root() bool { return e.root }

// Error returns Msg followed by the status, e.g.
// `protocol: missing Host header (400 Bad Request)`.
func (e *Error) Error() string {
	return e.Msg + " (" + strconv.Itoa(e.Status) + " " + statusText(e.Status) + ")"
}

// Extra headers of the rejections. The full slice expressions keep an append
// by a caller from writing into the shared backing array.
var (
	hdrAllowGET    = [][2]string{{"Allow", "GET"}}[:1:1]
	hdrVersion13   = [][2]string{{"Sec-WebSocket-Version", "13"}}[:1:1]
	hdrUpgradeWS   = [][2]string{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}[:2:2]
	hdrRetryAfter1 = [][2]string{{"Retry-After", "1"}}[:1:1]
)

// maxQuoted bounds how much of a bad value an error message quotes, so that a
// hostile 8 KiB header does not come back as an 8 KiB response body.
const maxQuoted = 64

// quoted returns b as a Go-quoted string, cut to maxQuoted bytes ("..." marks
// the cut).
func quoted(b []byte) string {
	if len(b) > maxQuoted {
		return strconv.Quote(string(b[:maxQuoted])) + "..."
	}
	return strconv.Quote(string(b))
}

// badRequest is a 400 Bad Request: a malformed request (RFC 6455 §4.2.1,
// RFC 9112 §3 and §5).
func badRequest(format string, args ...any) *Error {
	return &Error{Status: 400, Msg: "protocol: " + fmt.Sprintf(format, args...)}
}

// errMethod is 405 Method Not Allowed with "Allow: GET": §4.1 item 2, "The
// method of the request MUST be GET".
func errMethod(method []byte) *Error {
	return &Error{Status: 405, Header: hdrAllowGET,
		Msg: "protocol: method " + quoted(method) + " not allowed: a WebSocket handshake is a GET (RFC 6455 §4.1)"}
}

// errHTTPVersion is 505 HTTP Version Not Supported for an HTTP/2 or later
// request line: that client speaks a protocol this server does not.
func errHTTPVersion(version []byte) *Error {
	return &Error{Status: 505,
		Msg: "protocol: HTTP version " + quoted(version) + " not supported: the WebSocket upgrade is an HTTP/1.1 request (RFC 6455 §4.1)"}
}

// errNotUpgrade is 426 Upgrade Required with "Upgrade: websocket" for a
// request that asks for no upgrade at all (a plain GET of target). RFC 9110
// §15.5.22: "The server MUST send an Upgrade header field in a 426
// response"; §7.8: "A sender of Upgrade MUST also send an "Upgrade"
// connection option in the Connection header field".
func errNotUpgrade(target []byte) *Error {
	return &Error{Status: 426, Header: hdrUpgradeWS, root: isRootTarget(target),
		Msg: `protocol: this resource speaks only WebSocket: send "Upgrade: websocket" and "Connection: Upgrade" (RFC 6455 §4.2.1)`}
}

// isRootTarget reports whether an origin-form request-target is "/", with
// or without a query.
func isRootTarget(target []byte) bool {
	return len(target) > 0 && target[0] == '/' && (len(target) == 1 || target[1] == '?')
}

// errWSVersion is 426 Upgrade Required with "Sec-WebSocket-Version: 13":
// §4.2.2 /version/, "If this version does not match a version understood by
// the server, the server MUST abort the WebSocket handshake ... and instead
// send an appropriate HTTP error code (such as 426 Upgrade Required) and a
// |Sec-WebSocket-Version| header field indicating the version(s) the server is
// capable of understanding". missing is true when the header was absent.
func errWSVersion(version []byte, missing bool) *Error {
	msg := "protocol: missing Sec-WebSocket-Version header: this server speaks version 13 (RFC 6455 §4.2.2)"
	if !missing {
		msg = "protocol: unsupported Sec-WebSocket-Version " + quoted(version) + ": this server speaks version 13 (RFC 6455 §4.4)"
	}
	return &Error{Status: 426, Header: hdrVersion13, Msg: msg}
}

// errTooLarge is 431 Request Header Fields Too Large: the head passed
// MaxHeadBytes before its end was found.
func errTooLarge() *Error {
	return &Error{Status: 431,
		Msg: "protocol: request head larger than " + strconv.Itoa(MaxHeadBytes) + " bytes"}
}

// ErrOriginForbidden returns the 403 Forbidden rejection of a handshake whose
// Origin the server's allow-list refuses (RFC 6455 §4.2.2 /origin/: "If the
// server does not wish to accept this connection, it MUST return an
// appropriate HTTP error code (e.g., 403 Forbidden) and abort the WebSocket
// handshake"). See OriginAllowed. Safe from any goroutine.
func ErrOriginForbidden(origin string) *Error {
	return &Error{Status: 403,
		Msg: "protocol: origin " + quoted([]byte(origin)) + " not allowed (RFC 6455 §4.2.2, §10.2)"}
}

// ErrServiceUnavailable returns the 503 Service Unavailable rejection, with
// "Retry-After: <retryAfter>" (seconds; values below 1 become 1), for an
// upgrade refused because the server is at its connection limit or shutting
// down. Existing connections are not affected. Safe from any goroutine.
func ErrServiceUnavailable(retryAfter int) *Error {
	hdr := hdrRetryAfter1
	if retryAfter > 1 {
		hdr = [][2]string{{"Retry-After", strconv.Itoa(retryAfter)}}
	} else {
		retryAfter = 1
	}
	return &Error{Status: 503, Header: hdr,
		Msg: "protocol: server busy (connection limit or shutdown): retry in " + strconv.Itoa(retryAfter) + "s"}
}

// statusText is the reason phrase of the statuses this package sends.
func statusText(status int) string {
	switch status {
	case 101:
		return "Switching Protocols"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 426:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Error"
}
