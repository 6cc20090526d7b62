package frame

import (
	"encoding/binary"
	"strconv"
)

// CloseCode is a close status code (RFC 6455 §7.4).
type CloseCode uint16

// The status codes of RFC 6455 §7.4.1 and the IANA registry.
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005 // never on the wire: the close frame had no body
	CloseAbnormal           CloseCode = 1006 // never on the wire: closed without a close frame
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseTooBig             CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
	CloseServiceRestart     CloseCode = 1012 // IANA; not accepted on the wire here
	CloseTryAgainLater      CloseCode = 1013 // IANA; not accepted on the wire here
	CloseBadGateway         CloseCode = 1014 // IANA; not accepted on the wire here
	CloseTLSHandshake       CloseCode = 1015 // never on the wire: TLS handshake failed
)

var closeNames = map[CloseCode]string{
	CloseNormal:             "normal closure",
	CloseGoingAway:          "going away",
	CloseProtocolError:      "protocol error",
	CloseUnsupportedData:    "unsupported data",
	CloseNoStatus:           "no status",
	CloseAbnormal:           "abnormal closure",
	CloseInvalidPayload:     "invalid payload data",
	ClosePolicyViolation:    "policy violation",
	CloseTooBig:             "message too big",
	CloseMandatoryExtension: "mandatory extension",
	CloseInternalError:      "internal error",
	CloseServiceRestart:     "service restart",
	CloseTryAgainLater:      "try again later",
	CloseBadGateway:         "bad gateway",
	CloseTLSHandshake:       "TLS handshake",
}

// String returns the code and its name, as "1002 protocol error", or only
// the number for a code without a name.
func (c CloseCode) String() string {
	s := strconv.Itoa(int(c))
	if name, ok := closeNames[c]; ok {
		return s + " " + name
	}
	return s
}

// ValidOnWire reports whether c may appear in a received close frame:
// 1000-1003 and 1007-1011 (defined, §7.4.1) and 3000-4999 (libraries and
// private use, §7.4.2). 1005, 1006 and 1015 "MUST NOT be set as a status
// code in a Close control frame by an endpoint"; 1004 and the rest of
// 1000-2999 are reserved; 0-999 are "not used".
func (c CloseCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1011, c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// ParseCloseBody validates a received close frame's payload (RFC 6455
// §5.5.1, §7.1.5, §7.4): "If there is a body, the first two bytes of the body
// MUST be a 2-byte unsigned integer (in network byte order) representing a
// status code", followed by "UTF-8-encoded data with value /reason/".
//
// An empty body gives (CloseNoStatus, nil, nil). A 1-byte body is
// ErrCloseBodyTooShort; a code that is not ValidOnWire is ErrCloseCodeInvalid
// (wrapped, quoting the code); a reason that is not UTF-8 is
// ErrCloseReasonUTF8 (1007, wrapped, quoting it). With those two errors code
// is still the code read. All errors are close 1002 but the last (1007);
// compare with errors.Is, get the code with CodeOf.
//
// reason aliases p: it is valid as long as p is. ParseCloseBody may be called
// from any goroutine and allocates only on error.
func ParseCloseBody(p []byte) (code CloseCode, reason []byte, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, nil, nil
	case 1:
		return 0, nil, &detailError{ErrCloseBodyTooShort, strconv.Quote(string(p))}
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return code, nil, &detailError{ErrCloseCodeInvalid, strconv.Itoa(int(code))}
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return code, nil, &detailError{ErrCloseReasonUTF8, strconv.Quote(string(reason))}
	}
	return code, reason, nil
}

// MaxCloseReason is the longest reason a close frame can carry: a control
// frame payload is at most 125 bytes (§5.5), 2 of which hold the code.
const MaxCloseReason = 123

// AppendClose appends an unmasked close frame (RFC 6455 §5.5.1) with code
// and reason. CloseNoStatus gives an empty body (no code, no reason). A
// reason over MaxCloseReason bytes is cut at the last code-point boundary
// that fits, so the frame stays a valid control frame.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	if code == CloseNoStatus {
		return appendHeader(dst, true, OpClose, 0, 0)
	}
	if len(reason) > MaxCloseReason {
		reason = truncateUTF8(reason, MaxCloseReason)
	}
	dst = appendHeader(dst, true, OpClose, 0, 2+len(reason))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...)
}

// truncateUTF8 cuts s to at most n bytes without splitting a code point
// (continuation bytes are 10xxxxxx).
func truncateUTF8(s string, n int) string {
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
