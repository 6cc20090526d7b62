package frame

import "testing"

func TestCheckClientFrame(t *testing.T) {
	ok := Header{Fin: true, Opcode: OpText, Masked: true, Mask: key1, Length: 10}
	with := func(f func(*Header)) Header { h := ok; f(&h); return h }
	for _, tc := range []struct {
		name string
		h    Header
		rsv  byte
		want error
	}{
		{"masked text", ok, 0, nil},
		{"fragment", with(func(h *Header) { h.Fin = false }), 0, nil},
		{"continuation", with(func(h *Header) { h.Opcode = OpContinuation }), 0, nil},
		{"big binary", with(func(h *Header) { h.Opcode, h.Length = OpBinary, 1<<40 }), 0, nil},
		{"ping 125", with(func(h *Header) { h.Opcode, h.Length = OpPing, 125 }), 0, nil},
		{"close 0", with(func(h *Header) { h.Opcode, h.Length = OpClose, 0 }), 0, nil},
		{"pong", with(func(h *Header) { h.Opcode = OpPong }), 0, nil},
		{"unmasked", with(func(h *Header) { h.Masked = false }), 0, ErrUnmasked},
		{"unmasked beats rsv", with(func(h *Header) { h.Masked, h.Rsv = false, 4 }), 0, ErrUnmasked},
		{"rsv1", with(func(h *Header) { h.Rsv = 4 }), 0, ErrReservedBits},
		{"rsv2", with(func(h *Header) { h.Rsv = 2 }), 0, ErrReservedBits},
		{"rsv3", with(func(h *Header) { h.Rsv = 1 }), 0, ErrReservedBits},
		{"rsv1 allowed", with(func(h *Header) { h.Rsv = 4 }), 4, nil},
		{"rsv2 with rsv1 allowed", with(func(h *Header) { h.Rsv = 6 }), 4, ErrReservedBits},
		{"opcode 3", with(func(h *Header) { h.Opcode = 3 }), 0, ErrReservedOpcode},
		{"opcode 7", with(func(h *Header) { h.Opcode = 7 }), 0, ErrReservedOpcode},
		{"opcode B", with(func(h *Header) { h.Opcode = 0xB }), 0, ErrReservedOpcode},
		{"opcode F", with(func(h *Header) { h.Opcode = 0xF }), 0, ErrReservedOpcode},
		{"ping 126", with(func(h *Header) { h.Opcode, h.Length = OpPing, 126 }), 0, ErrControlTooLong},
		{"close 2^40", with(func(h *Header) { h.Opcode, h.Length = OpClose, 1<<40 }), 0, ErrControlTooLong},
		{"fragmented ping", with(func(h *Header) { h.Opcode, h.Fin = OpPing, false }), 0, ErrControlFragmented},
		{"fragmented close", with(func(h *Header) { h.Opcode, h.Fin = OpClose, false }), 0, ErrControlFragmented},
	} {
		if got := CheckClientFrame(tc.h, tc.rsv); got != tc.want {
			t.Errorf("%s: CheckClientFrame(%+v, %d) = %v; want %v", tc.name, tc.h, tc.rsv, got, tc.want)
		}
	}
}
