package frame

import "testing"

// The hot path allocates nothing: decoding, encoding into a buffer with
// room, masking, validating, checking.

func TestDecoderNextAllocs(t *testing.T) {
	buf, _ := manyFrames()
	huge := cat(hdr(0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0), masked(key1, seq(10))) // declares 2^40
	allocs := testing.AllocsPerRun(100, func() {
		var d Decoder
		for p := buf; len(p) > 0; {
			_, n, err := d.Next(p)
			if err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		d.Reset()
		var ev Event
		for p := huge; len(p) > 0; {
			n, _ := d.NextInto(p[:1], &ev) // byte by byte: the split-header path
			p = p[n:]
		}
	})
	if allocs != 0 {
		t.Fatalf("Decoder.Next/NextInto allocate %v times per run; want 0", allocs)
	}
}

func TestEncodeAllocs(t *testing.T) {
	payload := seq(70000)
	dst := make([]byte, 0, 2*len(payload)+64)
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendFrame(dst[:0], true, OpBinary, payload[:64])
		b = AppendFrame(b, true, OpBinary, payload)
		b = AppendHeader(b, false, OpText, 300)
		b = AppendMaskedFrame(b, true, OpText, key1, payload[:1000])
		AppendClose(b, CloseGoingAway, "bye")
	})
	if allocs != 0 {
		t.Fatalf("encoding into a preallocated dst allocates %v times per run; want 0", allocs)
	}
}

func TestMaskAllocs(t *testing.T) {
	b := seq(4096)
	if allocs := testing.AllocsPerRun(100, func() { Mask(key2, 1, b) }); allocs != 0 {
		t.Fatalf("Mask allocates %v times per run; want 0", allocs)
	}
}

func TestUTF8ValidateAllocs(t *testing.T) {
	text := []byte("Grüße, 世界 🌍! plain ascii text that goes on for a while")
	allocs := testing.AllocsPerRun(100, func() {
		var v UTF8
		v.Validate(text[:9])
		v.Validate(text[9:])
		v.Validate([]byte{0xff})
	})
	if allocs != 0 {
		t.Fatalf("UTF8.Validate allocates %v times per run; want 0", allocs)
	}
}

func TestCheckAndCloseAllocs(t *testing.T) {
	h := Header{Fin: false, Opcode: OpPing, Masked: true}
	body := []byte("\x03\xe8going away")
	allocs := testing.AllocsPerRun(100, func() {
		CheckClientFrame(h, 0)
		ParseCloseBody(body)
		CodeOf(ErrInvalidUTF8)
	})
	if allocs != 0 {
		t.Fatalf("CheckClientFrame/ParseCloseBody allocate %v times per run; want 0", allocs)
	}
}
