//go:build linux

package load

import (
	"encoding/binary"
	"math/rand/v2"
)

// The load generator builds its client frames itself instead of importing the
// wsreactor frame package: a verifier that shares the code under test would
// agree with that code's bugs.

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	rsv1 = 0x40 // first header byte: a compressed message (RFC 7692 §6)
)

// payloadHeaderLen is the header length of an unmasked frame carrying n
// payload bytes with the minimal length encoding (RFC 6455 §5.2): 2, 4 or 10.
func payloadHeaderLen(n int) int {
	switch {
	case n <= 125:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// clientFrameLen is the wire length of a masked client frame with n payload bytes.
func clientFrameLen(n int) int { return payloadHeaderLen(n) + 4 + n }

// appendMaskedFrame appends one final, masked client frame (RFC 6455 §5.2,
// §5.3: a client MUST mask every frame it sends). op may carry rsv1.
func appendMaskedFrame(dst []byte, op byte, key [4]byte, payload []byte) []byte {
	n := len(payload)
	b0 := 0x80 | op
	switch {
	case n <= 125:
		dst = append(dst, b0, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(key, dst[start:])
	return dst
}

// maskBytes XORs b with the masking key starting at key offset 0 (RFC 6455 §5.3).
func maskBytes(key [4]byte, b []byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// batch is one connection's precomputed traffic: K masked request frames in
// one buffer (written with one write) and the K payloads an echo must return.
// Batches are immutable once built and shared read-only by the loops.
type batch struct {
	req     []byte  // K masked frames, back to back
	ends    []int32 // ends[j]: where frame j ends in req (compressed frames differ in length)
	payload []byte  // K payloads, size bytes each
}

// span is where frame j lies in req.
func (b *batch) span(j int) (start, end int) {
	if j > 0 {
		start = int(b.ends[j-1])
	}
	return start, int(b.ends[j])
}

// frameSet holds every batch of a run and the shape they share.
type frameSet struct {
	op       byte // opText or opBinary
	size     int  // payload bytes per message
	k        int  // frames per batch
	frameLen int  // wire bytes per masked frame when uniform (raw mode relies on it)
	uniform  bool // every frame is frameLen bytes (not compressed)
	batches  []*batch
	close    []byte // masked close frame, status 1000 (RFC 6455 §5.5.1)
}

// Payload kinds.
const (
	payloadBinary = iota // random bytes
	payloadText          // random printable ASCII
	payloadJSON          // JSON-like text (jsontext.go), the same for the same batch and message
)

// newFrameSet precomputes up to conns distinct batches within memory bytes
// (at least one), uncompressed. Connection i uses batches[i%len(batches)],
// so neighbours carry different bytes and a server that mixes up
// connections is caught.
func newFrameSet(size, k, conns int, text bool, memory int64, rng *rand.Rand) *frameSet {
	kind := payloadBinary
	if text {
		kind = payloadText
	}
	return buildFrameSet(size, k, conns, kind, false, memory, rng)
}

// buildFrameSet is newFrameSet for any payload kind; with deflate each
// frame carries its payload compressed on its own, RSV1 set (RFC 7692 §6).
func buildFrameSet(size, k, conns, kind int, deflate bool, memory int64, rng *rand.Rand) *frameSet {
	fs := &frameSet{op: opBinary, size: size, k: k, frameLen: clientFrameLen(size), uniform: !deflate}
	if kind != payloadBinary {
		fs.op = opText
	}
	per := int64(k) * int64(fs.frameLen+size)
	n := int64(conns)
	if per > 0 && n*per > memory {
		n = max(1, memory/per)
	}
	var z *compressor
	if deflate {
		z = newCompressor()
	}
	fs.batches = make([]*batch, n)
	for i := range fs.batches {
		b := &batch{
			req:     make([]byte, 0, k*fs.frameLen),
			ends:    make([]int32, k),
			payload: make([]byte, k*size),
		}
		for j := 0; j < k; j++ {
			p := b.payload[j*size : (j+1)*size]
			switch kind {
			case payloadJSON:
				fillJSON(p, rand.New(rand.NewPCG(uint64(i), uint64(j))))
			default:
				fillPayload(p, kind == payloadText, rng)
			}
			var key [4]byte
			binary.LittleEndian.PutUint32(key[:], rng.Uint32())
			if deflate {
				b.req = appendMaskedFrame(b.req, fs.op|rsv1, key, z.compress(p))
			} else {
				b.req = appendMaskedFrame(b.req, fs.op, key, p)
			}
			b.ends[j] = int32(len(b.req))
		}
		fs.batches[i] = b
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rng.Uint32())
	fs.close = appendMaskedFrame(nil, opClose, key, []byte{0x03, 0xE8})
	return fs
}

// fillPayload fills p with random bytes, or printable ASCII for text frames
// (valid UTF-8, RFC 6455 §5.6).
func fillPayload(p []byte, text bool, rng *rand.Rand) {
	for i := 0; i < len(p); i += 8 {
		v := rng.Uint64()
		for j := i; j < len(p) && j < i+8; j++ {
			b := byte(v)
			if text {
				b = ' ' + b%95
			}
			p[j] = b
			v >>= 8
		}
	}
}
