package frame

import (
	"bytes"
	"testing"
)

// TestDecoderStateMoves decodes a stream of masked frames split at every
// offset: the first part in one Decoder, the rest in a second one restored
// from the first's state. The payload must come out the same as unmoved.
func TestDecoderStateMoves(t *testing.T) {
	var stream []byte
	key := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 5, 125, 126, 300, 70000} {
		stream = append(stream, maskedFrame(OpBinary, bytes.Repeat([]byte{byte(n)}, n), key)...)
	}
	want := decodeAll(t, &Decoder{}, append([]byte(nil), stream...))
	for cut := 0; cut <= len(stream); cut += 1 + cut/50 {
		buf := append([]byte(nil), stream...)
		var a Decoder
		got := decodeAll(t, &a, buf[:cut])
		var b Decoder
		if err := b.SetState(a.AppendState(nil)); err != nil {
			t.Fatalf("cut %d: SetState: %v", cut, err)
		}
		got = append(got, decodeAll(t, &b, buf[cut:])...)
		if !bytes.Equal(got, want) {
			t.Fatalf("cut %d: moved decoder gave %d payload bytes, unmoved %d (or they differ)", cut, len(got), len(want))
		}
	}
}

func TestDecoderBadState(t *testing.T) {
	var good Decoder
	st := good.AppendState(nil)
	for i, mut := range []func([]byte){
		func(p []byte) { p[8+MaxHeaderLen+1] = 7 },            // state
		func(p []byte) { p[8+MaxHeaderLen+3] = 4 },            // mask offset
		func(p []byte) { p[8+MaxHeaderLen] = 99 },             // header length
		func(p []byte) { p[0] = 1 },                           // remaining in header state
		func(p []byte) { p[8+MaxHeaderLen+1] = statePayload }, // payload state with nothing remaining
	} {
		p := append([]byte(nil), st...)
		mut(p)
		var d Decoder
		if err := d.SetState(p); err == nil {
			t.Errorf("mutation %d: SetState(%x) = nil; want an error", i, p)
		}
	}
	if err := good.SetState(st[:5]); err == nil {
		t.Error("SetState of 5 bytes = nil; want an error")
	}
	var v UTF8
	for _, s := range []uint8{1, 54, 255} {
		if err := v.SetState(s); err == nil {
			t.Errorf("UTF8.SetState(%d) = nil; want an error", s)
		}
	}
	v.Validate([]byte{0xE2, 0x82})
	var w UTF8
	if err := w.SetState(v.State()); err != nil {
		t.Fatal(err)
	}
	if c, ok := w.Validate([]byte{0xAC}); !ok || c != 1 || !w.AtBoundary() {
		t.Errorf("moved validator after E2 82 + AC = %d, %v; want 1, true at a boundary", c, ok)
	}
}

func maskedFrame(op Opcode, payload []byte, key [4]byte) []byte {
	b := AppendHeader(nil, true, op, len(payload))
	b[1] |= 0x80
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

func decodeAll(t *testing.T, d *Decoder, p []byte) []byte {
	var out []byte
	var ev Event
	for len(p) > 0 {
		n, err := d.NextInto(p, &ev)
		if err != nil {
			t.Fatal(err)
		}
		p = p[n:]
		if ev.Kind == KindPayload {
			out = append(out, ev.Data...)
		}
	}
	return out
}
