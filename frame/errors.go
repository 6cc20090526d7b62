package frame

import (
	"errors"
	"strconv"
)

// CloseError is a protocol error carrying the close code to answer with when
// failing the connection (RFC 6455 §7.1.7, §7.4.1). Reason is short enough to
// be sent as the close frame's reason.
type CloseError struct {
	Code   CloseCode
	Reason string
}

// Error returns "frame: " + Reason + " (close 1002)".
func (e *CloseError) Error() string {
	return "frame: " + e.Reason + " (close " + strconv.Itoa(int(e.Code)) + ")"
}

// CodeOf returns the close code to send for err: the Code of the first
// *CloseError in err's chain (errors.As), CloseNormal for nil, and
// CloseInternalError for any other error.
func CodeOf(err error) CloseCode {
	switch e := err.(type) {
	case nil:
		return CloseNormal
	case *CloseError: // the common case, without errors.As's allocation
		return e.Code
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return CloseInternalError
}

// The protocol errors. Each is a *CloseError carrying its close code;
// compare with errors.Is (ParseCloseBody wraps some to quote the input).
var (
	// ErrLengthOverflow: "the most significant bit MUST be 0" of a 64-bit
	// payload length (§5.2).
	ErrLengthOverflow = &CloseError{CloseProtocolError, "64-bit payload length with the most significant bit set"}
	// ErrUnmasked: "The server MUST close the connection upon receiving a
	// frame that is not masked" (§5.1).
	ErrUnmasked = &CloseError{CloseProtocolError, "client frame is not masked"}
	// ErrReservedBits: RSV bits "MUST be 0 unless an extension is
	// negotiated that defines meanings for non-zero values" (§5.2).
	ErrReservedBits = &CloseError{CloseProtocolError, "reserved bits set without a negotiated extension"}
	// ErrReservedOpcode: "If an unknown opcode is received, the receiving
	// endpoint MUST _Fail the WebSocket Connection_" (§5.2).
	ErrReservedOpcode = &CloseError{CloseProtocolError, "reserved opcode"}
	// ErrControlTooLong: "All control frames MUST have a payload length of
	// 125 bytes or less" (§5.5).
	ErrControlTooLong = &CloseError{CloseProtocolError, "control frame payload over 125 bytes"}
	// ErrControlFragmented: control frames "MUST NOT be fragmented" (§5.5).
	ErrControlFragmented = &CloseError{CloseProtocolError, "fragmented control frame"}
	// ErrCloseBodyTooShort: "If there is a body, the first two bytes of the
	// body MUST be a 2-byte unsigned integer" (§5.5.1).
	ErrCloseBodyTooShort = &CloseError{CloseProtocolError, "close frame body of 1 byte"}
	// ErrCloseCodeInvalid: a close code outside 1000-1003, 1007-1011 and
	// 3000-4999 (§7.4.1, §7.4.2).
	ErrCloseCodeInvalid = &CloseError{CloseProtocolError, "invalid close code"}
	// ErrCloseReasonUTF8: the close reason is "UTF-8-encoded data" (§5.5.1);
	// invalid UTF-8 fails the connection (§8.1) with 1007.
	ErrCloseReasonUTF8 = &CloseError{CloseInvalidPayload, "close reason is not valid UTF-8"}
	// ErrInvalidUTF8: "the whole message MUST contain valid UTF-8" (§5.6);
	// otherwise the endpoint "MUST _Fail the WebSocket Connection_" (§8.1).
	ErrInvalidUTF8 = &CloseError{CloseInvalidPayload, "invalid UTF-8 in text message"}
	// ErrUnexpectedContinuation: a continuation frame with no fragmented
	// message in progress (§5.4).
	ErrUnexpectedContinuation = &CloseError{CloseProtocolError, "continuation frame without a message in progress"}
	// ErrExpectedContinuation: "The fragments of one message MUST NOT be
	// interleaved between the fragments of another message" (§5.4).
	ErrExpectedContinuation = &CloseError{CloseProtocolError, "new data frame inside a fragmented message"}
	// ErrMessageTooBig: a message over the configured size limit (§7.4.1,
	// 1009).
	ErrMessageTooBig = &CloseError{CloseTooBig, "message too big"}
)

// detailError is a sentinel *CloseError with the offending input quoted. It
// unwraps to the sentinel, so errors.Is, errors.As and CodeOf see through it.
type detailError struct {
	err    *CloseError
	detail string
}

func (e *detailError) Error() string {
	return "frame: " + e.err.Reason + " " + e.detail + " (close " + strconv.Itoa(int(e.err.Code)) + ")"
}

func (e *detailError) Unwrap() error { return e.err }
