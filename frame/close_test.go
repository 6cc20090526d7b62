package frame

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCloseBody(t *testing.T) {
	for _, tc := range []struct {
		body   string
		code   CloseCode
		reason string
		err    error
	}{
		{"", CloseNoStatus, "", nil},
		{"\x03", 0, "", ErrCloseBodyTooShort},
		{"\x03\xe8", CloseNormal, "", nil},
		{"\x03\xe8bye", CloseNormal, "bye", nil},
		{"\x03\xe9κόσμε", CloseGoingAway, "κόσμε", nil},
		{"\x03\xea", CloseProtocolError, "", nil},
		{"\x03\xeb", CloseUnsupportedData, "", nil},
		{"\x03\xef", CloseInvalidPayload, "", nil},
		{"\x03\xf3", CloseInternalError, "", nil},
		{"\x0b\xb8", 3000, "", nil},
		{"\x0f\xa0", 4000, "", nil},
		{"\x13\x87", 4999, "", nil},
		{"\x00\x00", 0, "", ErrCloseCodeInvalid},
		{"\x03\xe7", 999, "", ErrCloseCodeInvalid},
		{"\x03\xec", 1004, "", ErrCloseCodeInvalid},
		{"\x03\xed", CloseNoStatus, "", ErrCloseCodeInvalid},
		{"\x03\xee", CloseAbnormal, "", ErrCloseCodeInvalid},
		{"\x03\xf4", CloseServiceRestart, "", ErrCloseCodeInvalid},
		{"\x03\xf7", CloseTLSHandshake, "", ErrCloseCodeInvalid},
		{"\x07\xd0", 2000, "", ErrCloseCodeInvalid},
		{"\x0b\xb7", 2999, "", ErrCloseCodeInvalid},
		{"\x13\x88", 5000, "", ErrCloseCodeInvalid},
		{"\xff\xff", 65535, "", ErrCloseCodeInvalid},
		{"\x03\xe8\xff", CloseNormal, "", ErrCloseReasonUTF8},
		{"\x03\xe8ok\xce", CloseNormal, "", ErrCloseReasonUTF8},
		{"\x03\xe8\xed\xa0\x80", CloseNormal, "", ErrCloseReasonUTF8},
	} {
		code, reason, err := ParseCloseBody([]byte(tc.body))
		if code != tc.code || string(reason) != tc.reason || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("ParseCloseBody(%q) = %v, %q, %v; want %v, %q, %v", tc.body, code, reason, err, tc.code, tc.reason, tc.err)
			continue
		}
		if err == nil {
			continue
		}
		if want := CodeOf(tc.err); CodeOf(err) != want {
			t.Errorf("CodeOf(ParseCloseBody(%q)) = %v; want %v", tc.body, CodeOf(err), want)
		}
		if !strings.HasPrefix(err.Error(), "frame: ") {
			t.Errorf("ParseCloseBody(%q) error %q lacks the package prefix", tc.body, err)
		}
	}
}

// TestParseCloseBodyQuotes: the errors name the offending input.
func TestParseCloseBodyQuotes(t *testing.T) {
	for body, want := range map[string]string{
		"\x03":          `frame: close frame body of 1 byte "\x03" (close 1002)`,
		"\x03\xe7":      "frame: invalid close code 999 (close 1002)",
		"\x03\xe8a\xff": `frame: close reason is not valid UTF-8 "a\xff" (close 1007)`,
	} {
		if _, _, err := ParseCloseBody([]byte(body)); err == nil || err.Error() != want {
			t.Errorf("ParseCloseBody(%q) = %v; want %s", body, err, want)
		}
	}
}

func TestParseCloseBodyAliases(t *testing.T) {
	body := []byte("\x03\xe8bye")
	_, reason, _ := ParseCloseBody(body)
	if &reason[0] != &body[2] {
		t.Fatal("reason does not alias the body")
	}
}

func TestValidOnWire(t *testing.T) {
	var valid []CloseCode
	for c := 0; c <= 0xFFFF; c++ {
		if CloseCode(c).ValidOnWire() {
			valid = append(valid, CloseCode(c))
		}
	}
	// 1000-1003, 1007-1011, 3000-4999.
	if n := 4 + 5 + 2000; len(valid) != n || valid[0] != 1000 || valid[3] != 1003 ||
		valid[4] != 1007 || valid[8] != 1011 || valid[9] != 3000 || valid[n-1] != 4999 {
		t.Fatalf("ValidOnWire accepts %d codes %v ... %v", len(valid), valid[:10], valid[len(valid)-1])
	}
}

func TestCloseCodeString(t *testing.T) {
	for c, want := range map[CloseCode]string{
		CloseNormal: "1000 normal closure", CloseProtocolError: "1002 protocol error",
		CloseTooBig: "1009 message too big", 4001: "4001",
	} {
		if got := c.String(); got != want {
			t.Errorf("CloseCode(%d).String() = %q; want %q", uint16(c), got, want)
		}
	}
}

func TestCloseError(t *testing.T) {
	if got, want := ErrUnmasked.Error(), "frame: client frame is not masked (close 1002)"; got != want {
		t.Errorf("ErrUnmasked.Error() = %q; want %q", got, want)
	}
	for _, tc := range []struct {
		err  error
		want CloseCode
	}{
		{nil, CloseNormal},
		{io.EOF, CloseInternalError},
		{ErrInvalidUTF8, CloseInvalidPayload},
		{ErrMessageTooBig, CloseTooBig},
		{fmt.Errorf("protocol: in message: %w", ErrExpectedContinuation), CloseProtocolError},
		{&CloseError{ClosePolicyViolation, "write buffer limit exceeded"}, ClosePolicyViolation},
	} {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
	for _, e := range []*CloseError{ErrLengthOverflow, ErrUnmasked, ErrReservedBits, ErrReservedOpcode,
		ErrControlTooLong, ErrControlFragmented, ErrCloseBodyTooShort, ErrCloseCodeInvalid, ErrCloseReasonUTF8,
		ErrInvalidUTF8, ErrUnexpectedContinuation, ErrExpectedContinuation, ErrMessageTooBig} {
		if !e.Code.ValidOnWire() || len(e.Reason) > MaxCloseReason || !strings.HasPrefix(e.Error(), "frame: ") {
			t.Errorf("%#v cannot be sent as a close frame", e)
		}
	}
}

func TestAppendClose(t *testing.T) {
	if got := AppendClose(nil, CloseNoStatus, "ignored"); string(got) != "\x88\x00" {
		t.Errorf("AppendClose(CloseNoStatus) = %x; want 8800", got)
	}
	long := strings.Repeat("é", 100) // 200 bytes
	for _, tc := range []struct {
		code   CloseCode
		reason string
		want   string // reason after truncation
	}{
		{CloseNormal, "", ""},
		{CloseGoingAway, "server shutting down", "server shutting down"},
		{CloseProtocolError, strings.Repeat("x", 200), strings.Repeat("x", 123)},
		{CloseInvalidPayload, long, long[:122]},
		{4000, "€" + strings.Repeat("y", 121) + "z", "€" + strings.Repeat("y", 120)},
	} {
		wire := AppendClose(nil, tc.code, tc.reason)
		s := decodeChunks(t, wire, 0)
		if len(s.Frames) != 1 || s.Partial || s.Err != nil || s.Frames[0].H != (Header{Fin: true, Opcode: OpClose, Length: uint64(2 + len(tc.want))}) {
			t.Errorf("AppendClose(%v, %q) decodes to %v", tc.code, tc.reason, s)
			continue
		}
		code, reason, err := ParseCloseBody(s.Frames[0].Payload)
		if code != tc.code || string(reason) != tc.want || err != nil || !utf8.Valid(reason) {
			t.Errorf("AppendClose(%v, %q) body = %v, %q, %v; want %q", tc.code, tc.reason, code, reason, err, tc.want)
		}
	}
}
