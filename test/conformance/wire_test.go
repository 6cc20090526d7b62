package conformance

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"unicode/utf8"
)

// What goes on the wire, for the conformance client
// (conformance_client_test.go): frames as RFC 6455 §5.2 lays them out,
// masking (§5.3), close bodies (§5.5.1, §7.4) and UTF-8 (§8.1), written
// from the RFC without this project's frame package.

// Opcodes, RFC 6455 §5.2.
const (
	rfcOpCont   byte = 0x0
	rfcOpText   byte = 0x1
	rfcOpBinary byte = 0x2
	rfcOpClose  byte = 0x8
	rfcOpPing   byte = 0x9
	rfcOpPong   byte = 0xA
)

// rfcOpName names an opcode for messages.
func rfcOpName(op byte) string {
	switch op {
	case rfcOpCont:
		return "continuation"
	case rfcOpText:
		return "text"
	case rfcOpBinary:
		return "binary"
	case rfcOpClose:
		return "close"
	case rfcOpPing:
		return "ping"
	case rfcOpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode %#x", op)
}

// rfcFrame is a frame the client sends, with every field of RFC 6455 §5.2
// under the test's control. Its zero value is an empty continuation frame
// without FIN; use rfcMsg, rfcFrag, rfcPing and rfcCloseFrame.
type rfcFrame struct {
	fin      bool
	rsv      byte // RSV1..RSV3 as bits 2..0
	op       byte // any 4-bit value, reserved ones too
	payload  []byte
	unmasked bool // send without the MASK bit (forbidden to clients, §5.1)
	// declared, when set, is the payload length written in the header
	// instead of len(payload): a frame that lies about its length, or one
	// whose payload is sent only in part.
	declared *uint64
	// wide forces the 16-bit (2) or 64-bit (8) length form even where a
	// shorter one fits.
	wide int
}

// rfcMsg is a whole (FIN) frame.
func rfcMsg(op byte, payload []byte) rfcFrame {
	return rfcFrame{fin: true, op: op, payload: payload}
}

// rfcFrag is one fragment of a message (§5.4): op is the data opcode for
// the first fragment and rfcOpCont for the others.
func rfcFrag(op byte, payload []byte, fin bool) rfcFrame {
	return rfcFrame{fin: fin, op: op, payload: payload}
}

func rfcPing(payload string) rfcFrame { return rfcMsg(rfcOpPing, []byte(payload)) }
func rfcPong(payload string) rfcFrame { return rfcMsg(rfcOpPong, []byte(payload)) }
func rfcText(s string) rfcFrame       { return rfcMsg(rfcOpText, []byte(s)) }

// rfcCloseFrame is a close frame with a status code and reason (§5.5.1).
func rfcCloseFrame(code uint16, reason string) rfcFrame {
	return rfcMsg(rfcOpClose, rfcCloseBody(code, reason))
}

func rfcCloseBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func (f rfcFrame) withRsv(rsv byte) rfcFrame { f.rsv = rsv; return f }

// encode appends the frame's wire form, masked with a fresh random key
// unless the frame is marked unmasked (§5.2, §5.3).
func (f rfcFrame) encode(dst []byte) []byte {
	n := uint64(len(f.payload))
	if f.declared != nil {
		n = *f.declared
	}
	b0 := f.rsv&7<<4 | f.op&0xF
	if f.fin {
		b0 |= 0x80
	}
	var b1 byte
	if !f.unmasked {
		b1 = 0x80
	}
	dst = append(dst, b0)
	switch {
	case f.wide == 8 || n > 0xFFFF:
		dst = binary.BigEndian.AppendUint64(append(dst, b1|127), n)
	case f.wide == 2 || n > 125:
		dst = binary.BigEndian.AppendUint16(append(dst, b1|126), uint16(n))
	default:
		dst = append(dst, b1|byte(n))
	}
	if f.unmasked {
		return append(dst, f.payload...)
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, f.payload...)
	rfcMask(key, dst[start:])
	return dst
}

// rfcMask XORs b with the masking key as §5.3 says: octet i with key[i%4].
// It does eight octets at a time only to keep 16 MiB cases fast.
func rfcMask(key [4]byte, b []byte) {
	k32 := uint64(binary.LittleEndian.Uint32(key[:]))
	k64 := k32 | k32<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k64)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}

// rfcWire is the wire form of frames, one after another.
func rfcWire(frames ...rfcFrame) []byte {
	var b []byte
	for _, f := range frames {
		b = f.encode(b)
	}
	return b
}

// rfcParseClose reads a close body; an empty body is 1005, "no status
// code present" (§7.1.5).
func rfcParseClose(p []byte) (uint16, string) {
	if len(p) < 2 {
		return 1005, ""
	}
	return binary.BigEndian.Uint16(p), string(p[2:])
}

// rfcValidCloseCode reports whether an endpoint may put code on the wire:
// the codes of §7.4.1 that are not reserved for local use (1005, 1006,
// 1015), 1011 (registered after the RFC), and the 3000-4999 ranges of
// §7.4.2. This project's contract keeps to exactly those; 1004 is
// reserved, and 1012-1014 are left out on purpose.
func rfcValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// rfcUTF8Prefix reports whether b could start a UTF-8 text: valid, except
// that it may end inside a code point that some bytes could still complete.
func rfcUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for k := 1; k <= 3 && k <= len(b); k++ {
		if utf8.RuneStart(b[len(b)-k]) {
			return utf8.Valid(b[:len(b)-k]) && rfcCompletable(b[len(b)-k:])
		}
	}
	return false
}

// rfcCompletable reports whether the 1 to 3 bytes of tail begin some
// well-formed multi-byte code point.
func rfcCompletable(tail []byte) bool {
	for second := byte(0x80); second <= 0xBF; second++ {
		cand := []byte{tail[0], second, 0x80, 0x80}
		copy(cand[1:], tail[1:])
		if r, size := utf8.DecodeRune(cand); size > len(tail) && !(r == utf8.RuneError && size == 1) {
			return true
		}
	}
	return false
}
