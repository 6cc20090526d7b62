package frame

import (
	"bytes"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecoder: the decoder never panics, gives the same stream in chunks of
// a fuzz-chosen size as whole, and allocates nothing, whatever length a
// header declares.
func FuzzDecoder(f *testing.F) {
	for _, tc := range decodeCases() {
		if len(tc.in) < 4096 {
			f.Add(tc.in, uint16(1))
			f.Add(tc.in, uint16(len(tc.in)/3+1))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint16) {
		whole := decodeChunks(t, in, 0)
		size := int(chunk)%(len(in)+1) + 1
		if got := decodeChunks(t, in, size); !reflect.DeepEqual(got, whole) {
			t.Fatalf("in chunks of %d:\n%v\nwhole:\n%v", size, got, whole)
		}
		for _, fr := range whole.Frames {
			CheckClientFrame(fr.H, 0)
			if fr.H.Opcode == OpClose {
				ParseCloseBody(fr.Payload)
			}
		}
		buf := bytes.Clone(in)
		allocs := testing.AllocsPerRun(1, func() {
			var d Decoder
			for p := buf; len(p) > 0; {
				_, n, err := d.Next(p[:min(size, len(p))])
				if err != nil {
					break
				}
				p = p[n:]
			}
		})
		if allocs != 0 {
			t.Fatalf("decoding %x allocated %v times", in, allocs)
		}
	})
}

// FuzzRoundTrip: decoding what the encoders wrote gives back the header and
// the payload, masked or not, whole or in chunks; Mask agrees with the plain
// loop at any offset.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), true, byte(OpText), uint32(0x3d21fa37), true, uint16(1), uint8(0))
	f.Add([]byte{}, false, byte(OpBinary), uint32(0), false, uint16(0), uint8(3))
	f.Add(seq(126), true, byte(OpContinuation), uint32(0xffffffff), true, uint16(7), uint8(1))
	f.Add(seq(300), false, byte(OpPing), uint32(0x01020304), false, uint16(100), uint8(2))
	f.Fuzz(func(t *testing.T, payload []byte, fin bool, op byte, key32 uint32, mask bool, chunk uint16, pos uint8) {
		key := [4]byte{byte(key32), byte(key32 >> 8), byte(key32 >> 16), byte(key32 >> 24)}
		want := Header{Fin: fin, Opcode: Opcode(op & 0x0F), Length: uint64(len(payload))}
		var wire []byte
		if mask {
			want.Masked, want.Mask = true, key
			wire = AppendMaskedFrame(nil, fin, want.Opcode, key, payload)
		} else {
			wire = AppendFrame(nil, fin, want.Opcode, payload)
		}
		if len(wire) != HeaderLen(len(payload))+len(payload)+4*b2i(mask) {
			t.Fatalf("frame of %d bytes for %d bytes of payload", len(wire), len(payload))
		}
		wantStream := stream{Frames: []frameRec{{want, append([]byte{}, payload...)}}}
		size := int(chunk)%(len(wire)+1) + 1
		for _, sz := range []int{0, size} {
			if got := decodeChunks(t, wire, sz); !reflect.DeepEqual(got, wantStream) {
				t.Fatalf("decode in chunks of %d:\n%v\nwant:\n%v", sz, got, wantStream)
			}
		}
		fast, plain := bytes.Clone(payload), bytes.Clone(payload)
		next := Mask(key, int(pos), fast)
		maskPlain(key, int(pos), plain)
		if !bytes.Equal(fast, plain) || next != (int(pos)+len(payload))&3 {
			t.Fatalf("Mask(%x, %d, %x) = %x, %d; want %x, %d", key, pos, payload, fast, next, plain, (int(pos)+len(payload))&3)
		}
	})
}

// FuzzUTF8: the validator agrees with unicode/utf8 on validity, on the first
// bad byte and on code-point boundaries, whole or split.
func FuzzUTF8(f *testing.F) {
	for _, tc := range autobahnUTF8 {
		f.Add(tc.in, uint16(len(tc.in)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		if got, want := ValidUTF8(in), utf8.Valid(in); got != want {
			t.Fatalf("ValidUTF8(%x) = %v; utf8.Valid says %v", in, got, want)
		}
		step := int(split)%(len(in)+1) + 1
		var cuts []int
		for c := step; c < len(in); c += step {
			cuts = append(cuts, c)
		}
		checkUTF8Split(t, in, nil)
		checkUTF8Split(t, in, cuts)
	})
}
