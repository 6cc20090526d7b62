package frame

import "encoding/binary"

// UTF8 is an incremental UTF-8 validator (RFC 3629, as RFC 6455 §5.6 and
// §8.1 require of text messages: "When an endpoint is to interpret a byte
// stream as UTF-8 but finds that the byte stream is not, in fact, a valid
// UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_").
//
// It is a deterministic automaton whose one byte of state carries a code
// point split across chunks and fragments; it fails at the first invalid
// byte, so a connection can be failed before a bad message ends. It rejects
// overlong forms, surrogates (U+D800-U+DFFF), code points over U+10FFFF,
// bytes C0, C1, F5-FF and misplaced continuation bytes.
//
// The zero value is ready to use. A UTF8 is not safe for concurrent use; use
// one per connection from its event-loop goroutine. It never keeps p.
type UTF8 struct {
	state uint8
}

// Automaton states. Each state is stored as its shift (6 × number) into the
// 64-bit row of utf8DFA for the next byte, which holds the next state's
// shift in those 6 bits: one load and one shift per byte.
const (
	sAccept   = 0 * 6 // at a code-point boundary
	sReject   = 1 * 6 // invalid; sticky
	sTail1    = 2 * 6 // need 1 continuation byte 80-BF
	sTail2    = 3 * 6 // need 2 continuation bytes
	sE0       = 4 * 6 // after E0: need A0-BF (no overlong)
	sED       = 5 * 6 // after ED: need 80-9F (no surrogates)
	sF0       = 6 * 6 // after F0: need 90-BF (no overlong)
	sTail3    = 7 * 6 // need 3 continuation bytes
	sF4       = 8 * 6 // after F4: need 80-8F (nothing over U+10FFFF)
	dfaStates = 9
)

// utf8DFA[b] is the transition row for byte b.
var utf8DFA = buildUTF8DFA()

func buildUTF8DFA() (t [256]uint64) {
	set := func(from, to uint64, lo, hi int) {
		for b := lo; b <= hi; b++ {
			t[b] = t[b]&^(63<<from) | to<<from
		}
	}
	for s := uint64(0); s < dfaStates*6; s += 6 {
		set(s, sReject, 0x00, 0xFF) // default: reject
	}
	set(sAccept, sAccept, 0x00, 0x7F)
	set(sAccept, sTail1, 0xC2, 0xDF)
	set(sAccept, sE0, 0xE0, 0xE0)
	set(sAccept, sTail2, 0xE1, 0xEC)
	set(sAccept, sED, 0xED, 0xED)
	set(sAccept, sTail2, 0xEE, 0xEF)
	set(sAccept, sF0, 0xF0, 0xF0)
	set(sAccept, sTail3, 0xF1, 0xF3)
	set(sAccept, sF4, 0xF4, 0xF4)
	set(sTail1, sAccept, 0x80, 0xBF)
	set(sTail2, sTail1, 0x80, 0xBF)
	set(sE0, sTail1, 0xA0, 0xBF)
	set(sED, sTail1, 0x80, 0x9F)
	set(sF0, sTail2, 0x90, 0xBF)
	set(sTail3, sTail2, 0x80, 0xBF)
	set(sF4, sTail2, 0x80, 0x8F)
	return t
}

const asciiMask = 0x8080808080808080

// Validate feeds p to the validator.
//
// While p is valid so far, ok is true and complete is the length of the
// longest prefix of p that ends on a code-point boundary: the bytes after it
// (at most 3) are a valid but still incomplete sequence, possibly continuing
// bytes held from the previous call. A caller that forwards only validated
// text forwards p[:complete] and keeps the rest for later.
//
// At the first invalid byte, ok is false and complete is that byte's index
// in p; the validator stays failed (later calls return 0, false) until
// Reset. ASCII runs are checked 32 and 8 bytes at a time. Validate never
// allocates.
func (v *UTF8) Validate(p []byte) (complete int, ok bool) {
	s := uint64(v.state)
	if s == sReject {
		return 0, false
	}
	i := 0
	for i < len(p) {
		if s&63 == sAccept {
			i += asciiPrefix(p[i:])
		}
		end := min(i+16, len(p))
		s0 := s
		blk := p[i:end]
		for ; len(blk) >= 4; blk = blk[4:] {
			s = utf8DFA[blk[0]] >> (s & 63)
			s = utf8DFA[blk[1]] >> (s & 63)
			s = utf8DFA[blk[2]] >> (s & 63)
			s = utf8DFA[blk[3]] >> (s & 63)
		}
		for _, c := range blk {
			s = utf8DFA[c] >> (s & 63)
		}
		if s&63 == sReject {
			return i + firstReject(s0, p[i:end]), v.fail()
		}
		i = end
	}
	s &= 63
	v.state = uint8(s)
	if s == sAccept {
		return len(p), true
	}
	// A sequence is in progress: it starts at its lead byte, the last
	// non-continuation byte, within the last 3 bytes of p, or before p.
	for j := len(p) - 1; j >= 0 && j >= len(p)-3; j-- {
		if p[j]&0xC0 != 0x80 {
			return j, true
		}
	}
	return 0, true
}

// asciiPrefix returns the length of a prefix of p that is all ASCII: a
// multiple of 8, checked 32 then 8 bytes at a time; a shorter run or the tail
// is left to the automaton.
func asciiPrefix(p []byte) int {
	n := len(p)
	for len(p) >= 32 {
		w := binary.LittleEndian.Uint64(p[0:8]) | binary.LittleEndian.Uint64(p[8:16]) |
			binary.LittleEndian.Uint64(p[16:24]) | binary.LittleEndian.Uint64(p[24:32])
		if w&asciiMask != 0 {
			break
		}
		p = p[32:]
	}
	for len(p) >= 8 && binary.LittleEndian.Uint64(p)&asciiMask == 0 {
		p = p[8:]
	}
	return n - len(p)
}

// firstReject replays blk from state s and returns the index of the byte
// that leads to sReject.
func firstReject(s uint64, blk []byte) int {
	for j, c := range blk {
		if s = utf8DFA[c] >> (s & 63); s&63 == sReject {
			return j
		}
	}
	return len(blk) // not reached
}

func (v *UTF8) fail() bool {
	v.state = sReject
	return false
}

// AtBoundary reports whether no code point is in progress and nothing
// invalid was seen: a text message may end here.
func (v *UTF8) AtBoundary() bool { return v.state == sAccept }

// Reset makes v ready for a new message, as the zero value.
func (v *UTF8) Reset() { v.state = sAccept }

// ValidUTF8 reports whether p is complete, valid UTF-8, as the incremental
// validator judges it in one call.
func ValidUTF8(p []byte) bool {
	var v UTF8
	_, ok := v.Validate(p)
	return ok && v.AtBoundary()
}
