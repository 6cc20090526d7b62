package frame

// Encoding of frames (RFC 6455 §5.2). "A server MUST NOT mask any frames that
// it sends to the client" (§5.1), and "the minimal number of bytes MUST be
// used to encode the length" (§5.2): AppendHeader and AppendFrame write
// unmasked headers with the minimal length encoding. These functions hold no
// state and may be called from any goroutine; they allocate only when dst
// lacks capacity.

// HeaderLen returns the length of an unmasked header for a payload of
// payloadLen bytes: 2 (up to 125), 4 (up to 65535) or 10.
func HeaderLen(payloadLen int) int {
	switch {
	case payloadLen <= 125:
		return 2
	case payloadLen <= 0xFFFF:
		return 4
	}
	return 10
}

// AppendHeader appends an unmasked frame header with the minimal length
// encoding (RFC 6455 §5.2). payloadLen must not be negative. The payload
// itself is the caller's to append.
func AppendHeader(dst []byte, fin bool, op Opcode, payloadLen int) []byte {
	return appendHeader(dst, fin, op, 0, payloadLen)
}

// appendHeader appends a header whose second byte carries maskBit.
func appendHeader(dst []byte, fin bool, op Opcode, maskBit byte, payloadLen int) []byte {
	if payloadLen < 0 {
		panic("frame: negative payload length")
	}
	b0 := byte(op) & maskOp
	if fin {
		b0 |= bitFin
	}
	switch n := uint64(payloadLen); {
	case n <= 125:
		return append(dst, b0, maskBit|byte(n))
	case n <= 0xFFFF:
		return append(dst, b0, maskBit|len16Mark, byte(n>>8), byte(n))
	default:
		return append(dst, b0, maskBit|len64Mark,
			byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// AppendFrame appends a whole unmasked frame (a server frame, RFC 6455 §5.1)
// carrying payload. It does not check op or the control-frame limits of
// §5.5; the caller sends control payloads of at most 125 bytes.
func AppendFrame(dst []byte, fin bool, op Opcode, payload []byte) []byte {
	dst = appendHeader(dst, fin, op, 0, len(payload))
	return append(dst, payload...)
}

// AppendMaskedFrame appends a whole masked frame, as a client sends it
// (RFC 6455 §5.3), with masking key key; payload is not modified. It serves
// tests, benchmarks and load generators: a real client "MUST pick a fresh
// masking key" from "a strong source of entropy" for every frame.
func AppendMaskedFrame(dst []byte, fin bool, op Opcode, key [4]byte, payload []byte) []byte {
	dst = appendHeader(dst, fin, op, bitMask, len(payload))
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	Mask(key, 0, dst[start:])
	return dst
}
