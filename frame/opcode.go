package frame

import "strconv"

// Opcode is the 4-bit frame opcode of RFC 6455 §5.2. "If an unknown opcode
// is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
type Opcode byte

// The opcodes RFC 6455 §5.2 defines. %x3-7 and %xB-F are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode: "Control frames are
// identified by opcodes where the most significant bit of the opcode is 1"
// (RFC 6455 §5.5).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsReserved reports whether o is one of the opcodes RFC 6455 §5.2 reserves
// for further frames (%x3-7, %xB-F), or does not fit in 4 bits.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name ("text", "ping", ...), or "reserved(0x3)".
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved(0x" + strconv.FormatUint(uint64(o), 16) + ")"
}
