package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"testing"
)

// FuzzInflate compresses the input with compress/flate (level and a
// flush interval from the fuzzer) or, for window sizes below 32 KiB, with
// klauspost's NewWriterWindow, then decodes it in pieces of the fuzzer's
// choosing with a small out buffer: the round trip must give the input
// back. level%12 picks the level (-2..9), level/12%8 the window (15, 8..14).
func FuzzInflate(f *testing.F) {
	f.Add([]byte("Hello, Hello, Hello"), uint8(6), uint8(0), uint8(3), uint8(5))
	f.Add(jsonText(3000, 1), uint8(1), uint8(200), uint8(17), uint8(64))
	f.Add(repetitive(2000), uint8(9), uint8(7), uint8(1), uint8(1))
	f.Add(randomBytes(500, 2), uint8(0), uint8(0), uint8(100), uint8(255))
	f.Add([]byte{}, uint8(11), uint8(0), uint8(1), uint8(1))
	f.Add(jsonText(5000, 4), uint8(12), uint8(0), uint8(50), uint8(30))   // window 8 bits
	f.Add(jsonText(5000, 5), uint8(7*12), uint8(0), uint8(9), uint8(200)) // window 14 bits
	f.Fuzz(func(t *testing.T, data []byte, level, flushEvery, piece, outSize uint8) {
		lvl := int(level)%12 - 2 // -2 (HuffmanOnly) .. 9
		wb := 15
		if k := int(level) / 12 % 8; k > 0 {
			wb = 7 + k
		}
		var stream []byte
		if wb == 15 {
			stream = compress(t, data, lvl, int(flushEvery)*8)
		} else {
			stream = compressWindow(t, data, wb)
		}
		var cuts []int
		for c := int(piece) + 1; c < len(stream); c += int(piece) + 1 {
			cuts = append(cuts, c)
		}
		var inf Inflater
		got, err := push(t, &inf, wb, stream, cuts, int(outSize)+1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("level %d, window %d: got %d bytes, %v; want %d bytes", lvl, wb, len(got), err, len(data))
		}
	})
}

// FuzzInflateRaw feeds arbitrary bytes, split where the fuzzer says, with
// a window and out size of its choosing: never a panic or a hang, errors
// only wrapping ErrCorrupt, and when compress/flate decodes the same bytes
// as a complete stream, the same output.
func FuzzInflateRaw(f *testing.F) {
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, uint8(2), uint8(7), uint8(0))
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, uint8(1), uint8(1), uint8(7))
	f.Add([]byte{0x07}, uint8(0), uint8(0), uint8(7))
	f.Add(literalOnly(func(w *bitWriter) { w.code(0, 1).code(3, 2) }), uint8(3), uint8(9), uint8(7))
	f.Add(compress(f, jsonText(2000, 3), 6, 300), uint8(5), uint8(100), uint8(7))
	f.Fuzz(func(t *testing.T, stream []byte, piece, outSize, wb uint8) {
		var cuts []int
		for c := int(piece) + 1; c < len(stream); c += int(piece) + 1 {
			cuts = append(cuts, c)
		}
		windowBits := 8 + int(wb)%8
		var inf Inflater
		got, err := push(t, &inf, windowBits, stream, cuts, int(outSize)+1)
		if err != nil && !errors.Is(err, ErrCorrupt) && inf.Final() == false {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		if windowBits != 15 {
			return
		}
		ref, refErr := flate.NewReader(bytes.NewReader(stream)), error(nil)
		var b bytes.Buffer
		_, refErr = b.ReadFrom(ref)
		if refErr == nil && err == nil && inf.Final() && !bytes.Equal(got, b.Bytes()) {
			t.Fatalf("got %d bytes; compress/flate gives %d (equal prefix %v)", len(got), b.Len(), bytes.HasPrefix(b.Bytes(), got))
		}
		if refErr == nil && err == nil && !inf.Final() {
			t.Fatalf("compress/flate finds a complete stream, Final() = false")
		}
		if refErr == nil && errors.Is(err, ErrCorrupt) {
			t.Fatalf("compress/flate decodes %d bytes from what we call %v", b.Len(), err)
		}
	})
}
