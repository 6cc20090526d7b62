package frame

import (
	"encoding/binary"
	"math"
)

// Header is a frame header (RFC 6455 §5.2).
type Header struct {
	Fin    bool    // final fragment of a message
	Rsv    byte    // the three RSV bits as bits 2..0 (RSV1=4, RSV2=2, RSV3=1)
	Opcode Opcode  // frame opcode
	Masked bool    // MASK bit: the payload is masked with Mask (§5.3)
	Mask   [4]byte // masking key; zero when not Masked
	Length uint64  // payload length in bytes
}

// Bits of the first two header bytes (RFC 6455 §5.2).
const (
	bitFin    = 0x80
	maskRsv   = 0x70
	maskOp    = 0x0F
	bitMask   = 0x80
	maskLen7  = 0x7F
	len16Mark = 126
	len64Mark = 127
)

// MaxHeaderLen is the longest frame header: 2 bytes, a 64-bit extended
// length and a masking key (RFC 6455 §5.2).
const MaxHeaderLen = 2 + 8 + 4

// headerLen returns the full length of the header that has
// b1 as its second byte: 2, plus 2 or 8 for an extended length, plus 4 for a
// masking key.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & maskLen7 {
	case len16Mark:
		n += 2
	case len64Mark:
		n += 8
	}
	if b1&bitMask != 0 {
		n += 4
	}
	return n
}

// parseHeader decodes the complete header b (len(b) == headerLen(b[1])):
// the payload length and the masking key as a little-endian uint32 (0 when
// not masked); the bits of b[0] and b[1] are read by the caller. It returns
// scalars so that nothing is copied through memory on the hot path.
//
// "If 127, the following 8 bytes interpreted as a 64-bit unsigned integer
// (the most significant bit MUST be 0) are the payload length" (§5.2): a set
// top bit is ErrLengthOverflow. Non-minimal length encodings are accepted:
// the RFC puts that MUST on the sender and asks no receiver to fail on it.
func parseHeader(b []byte) (length uint64, key uint32, err error) {
	rest := b[2:]
	switch l := b[1] & maskLen7; l {
	case len16Mark:
		length = uint64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case len64Mark:
		length = binary.BigEndian.Uint64(rest)
		if length > math.MaxInt64 {
			return 0, 0, ErrLengthOverflow
		}
		rest = rest[8:]
	default:
		length = uint64(l)
	}
	if b[1]&bitMask != 0 {
		key = binary.LittleEndian.Uint32(rest)
	}
	return length, key, nil
}

// keyBytes turns a key from parseHeader back into the bytes of the wire.
func keyBytes(k uint32) [4]byte {
	return [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
}
