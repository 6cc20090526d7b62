package frame

import "testing"

func TestOpcode(t *testing.T) {
	for _, tc := range []struct {
		op                Opcode
		name              string
		control, reserved bool
	}{
		{OpContinuation, "continuation", false, false},
		{OpText, "text", false, false},
		{OpBinary, "binary", false, false},
		{3, "reserved(0x3)", false, true},
		{7, "reserved(0x7)", false, true},
		{OpClose, "close", true, false},
		{OpPing, "ping", true, false},
		{OpPong, "pong", true, false},
		{0xB, "reserved(0xb)", true, true},
		{0xF, "reserved(0xf)", true, true},
		{0x10, "reserved(0x10)", false, true},
	} {
		if got := tc.op.String(); got != tc.name {
			t.Errorf("Opcode(%d).String() = %q; want %q", byte(tc.op), got, tc.name)
		}
		if got := tc.op.IsControl(); got != tc.control {
			t.Errorf("Opcode(%d).IsControl() = %v; want %v", byte(tc.op), got, tc.control)
		}
		if got := tc.op.IsReserved(); got != tc.reserved {
			t.Errorf("Opcode(%d).IsReserved() = %v; want %v", byte(tc.op), got, tc.reserved)
		}
	}
}
