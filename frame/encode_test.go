package frame

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

func TestHeaderLen(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 2}, {1, 2}, {125, 2}, {126, 4}, {127, 4}, {65535, 4}, {65536, 10}, {1 << 40, 10},
	} {
		if got := HeaderLen(tc.n); got != tc.want {
			t.Errorf("HeaderLen(%d) = %d; want %d", tc.n, got, tc.want)
		}
		if got := len(AppendHeader(nil, true, OpBinary, tc.n)); got != tc.want {
			t.Errorf("len(AppendHeader(%d)) = %d; want %d", tc.n, got, tc.want)
		}
	}
}

// TestAppendHeaderBytes pins the exact wire bytes (RFC 6455 §5.2, §5.7).
func TestAppendHeaderBytes(t *testing.T) {
	for _, tc := range []struct {
		fin  bool
		op   Opcode
		n    int
		want []byte
	}{
		{true, OpText, 5, hdr(0x81, 0x05)},
		{false, OpText, 3, hdr(0x01, 0x03)},
		{true, OpContinuation, 2, hdr(0x80, 0x02)},
		{true, OpPing, 0, hdr(0x89, 0x00)},
		{true, OpBinary, 125, hdr(0x82, 125)},
		{true, OpBinary, 126, hdr(0x82, 0x7E, 0x00, 0x7E)},
		{true, OpBinary, 256, hdr(0x82, 0x7E, 0x01, 0x00)},
		{true, OpBinary, 65535, hdr(0x82, 0x7E, 0xFF, 0xFF)},
		{true, OpBinary, 65536, hdr(0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0)},
		{true, OpBinary, 1<<40 + 3, hdr(0x82, 0x7F, 0, 0, 1, 0, 0, 0, 0, 3)},
	} {
		if got := AppendHeader([]byte("x"), tc.fin, tc.op, tc.n); !bytes.Equal(got[1:], tc.want) || got[0] != 'x' {
			t.Errorf("AppendHeader(%v, %v, %d) = %x; want %x", tc.fin, tc.op, tc.n, got[1:], tc.want)
		}
	}
}

func TestAppendHeaderNegativePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("AppendHeader(-1) did not panic")
		}
	}()
	AppendHeader(nil, true, OpText, -1)
}

// TestRoundTrip: decoding what the encoders wrote gives back the header and
// payload, masked and unmasked, at every length boundary of §5.2.
func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		ops := []Opcode{OpText, OpBinary, OpContinuation}
		if n >= 65535 {
			ops = ops[1:2]
		}
		for _, op := range ops {
			for _, fin := range []bool{true, false} {
				for _, m := range []bool{false, true} {
					t.Run(fmt.Sprintf("%d/%v/fin=%v/masked=%v", n, op, fin, m), func(t *testing.T) {
						payload := seq(n)
						want := Header{Fin: fin, Opcode: op, Length: uint64(n)}
						var wire []byte
						if m {
							want.Masked, want.Mask = true, key2
							wire = AppendMaskedFrame(nil, fin, op, key2, payload)
						} else {
							wire = AppendFrame(nil, fin, op, payload)
						}
						if !bytes.Equal(payload, seq(n)) {
							t.Fatal("encoder modified the payload")
						}
						if len(wire) != HeaderLen(n)+n+4*b2i(m) {
							t.Fatalf("frame is %d bytes; want %d", len(wire), HeaderLen(n)+n+4*b2i(m))
						}
						wantStream := stream{Frames: []frameRec{{want, payload}}}
						sizes := []int{0, 1, 3, 7, 1000}
						if n >= 65535 {
							sizes = []int{0, 13, 1000, 4093} // 1-byte pieces of 1 MiB take too long under -race
						}
						for _, size := range sizes {
							if got := decodeChunks(t, wire, size); !reflect.DeepEqual(got, wantStream) {
								t.Fatalf("decode in chunks of %d:\n%v\nwant:\n%v", size, got, wantStream)
							}
						}
					})
				}
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAppendMaskedFrameRFC reproduces the masked example of RFC 6455 §5.7.
func TestAppendMaskedFrameRFC(t *testing.T) {
	got := AppendMaskedFrame(nil, true, OpText, key1, []byte("Hello"))
	want := hdr(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendMaskedFrame(Hello) = %x; want %x", got, want)
	}
}
