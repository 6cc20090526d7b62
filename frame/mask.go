package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key, starting at key offset pos&3,
// and returns the offset of the byte after b ((pos+len(b))&3). Masking and
// unmasking are the same operation (RFC 6455 §5.3):
//
//	j                   = i MOD 4
//	transformed-octet-i = original-octet-i XOR masking-key-octet-j
//
// Passing the returned offset to the next call continues the transform
// across chunk boundaries. Mask works 32 and 8 bytes at a time, without
// unsafe; it never allocates. It may be called from any goroutine.
func Mask(key [4]byte, pos int, b []byte) int {
	return maskKey(binary.LittleEndian.Uint32(key[:]), pos, b)
}

// maskKey is Mask with the key as a little-endian uint32 (key[0] in the low
// byte).
func maskKey(key uint32, pos int, b []byte) int {
	next := (pos + len(b)) & 3
	// k holds the key rotated so that its low byte applies to b[0].
	k := bits.RotateLeft32(key, -8*(pos&3))
	if len(b) >= 8 {
		k8 := uint64(k) | uint64(k)<<32
		for len(b) >= 32 {
			v0 := binary.LittleEndian.Uint64(b[0:8]) ^ k8
			v1 := binary.LittleEndian.Uint64(b[8:16]) ^ k8
			v2 := binary.LittleEndian.Uint64(b[16:24]) ^ k8
			v3 := binary.LittleEndian.Uint64(b[24:32]) ^ k8
			binary.LittleEndian.PutUint64(b[0:8], v0)
			binary.LittleEndian.PutUint64(b[8:16], v1)
			binary.LittleEndian.PutUint64(b[16:24], v2)
			binary.LittleEndian.PutUint64(b[24:32], v3)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k8)
			b = b[8:]
		}
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^k)
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(k >> (8 * i))
	}
	return next
}
