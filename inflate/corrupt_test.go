package inflate

import (
	"errors"
	"strings"
	"testing"
)

// bitWriter builds DEFLATE streams by hand (RFC 1951 §3.1.1): values
// least significant bit first, Huffman codes most significant bit first.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) *bitWriter {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
	return w
}

func (w *bitWriter) code(c uint64, n uint) *bitWriter {
	return w.bits(uint64(reverse(int(c), int(n))), n)
}

// fixedLit writes literal/length symbol sym with the fixed code (§3.2.6).
func (w *bitWriter) fixedLit(sym int) *bitWriter {
	switch {
	case sym < 144:
		return w.code(uint64(0x30+sym), 8)
	case sym < 256:
		return w.code(uint64(0x190+sym-144), 9)
	case sym < 280:
		return w.code(uint64(sym-256), 7)
	}
	return w.code(uint64(0xc0+sym-280), 8)
}

func (w *bitWriter) bytes() []byte {
	if w.n > 0 {
		return append(w.buf, byte(w.acc))
	}
	return w.buf
}

func stream(build func(w *bitWriter)) []byte {
	var w bitWriter
	build(&w)
	return w.bytes()
}

// dynHeader writes a dynamic block header (§3.2.7) with the given code
// length code lengths (in codeLengthOrder) and then raw code-length
// symbols written with a 5-bit fixed-length code: every one of the 19
// code length codes is given length 5 here... unless clLens says
// otherwise. Kept simple: callers pass the symbols already encoded.
func (w *bitWriter) dynHeader(hlit, hdist, hclen int, clLens []uint64) *bitWriter {
	w.bits(1, 1).bits(2, 2)
	w.bits(uint64(hlit-257), 5).bits(uint64(hdist-1), 5).bits(uint64(hclen-4), 4)
	for _, l := range clLens {
		w.bits(l, 3)
	}
	return w
}

// TestCorrupt: malformed streams give an error wrapping ErrCorrupt that
// says what was wrong, fed whole and a byte at a time, with out of one
// byte and of plenty; never a panic or a hang.
func TestCorrupt(t *testing.T) {
	// A code length code where symbols 0..18 all have length 5 would
	// over-subscribe (19 > 32? no: 19 codes of 5 bits are incomplete), so
	// the valid header below gives lengths 1 (sym 0), 2 (sym 8)... built
	// from the order 16,17,18,0,8,7,...: lengths for 18 and 0 and 8.
	tests := []struct {
		name   string
		stream []byte
		want   string
	}{
		{"reserved block type", []byte{0x07}, "reserved block type"},
		{"stored LEN/NLEN mismatch", []byte{0x01, 0x05, 0x00, 0x00, 0x00}, "LEN and NLEN"},
		{"stored NLEN off by one", []byte{0x01, 0x05, 0x00, 0xfa, 0xfe}, "LEN and NLEN"},
		{"distance before start", stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2).fixedLit(257).code(0, 5).fixedLit(256) // length 3, distance 1, nothing before
		}), "before the start"},
		{"distance past output so far", stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2).fixedLit('a').fixedLit('b').fixedLit(257).code(2, 5).fixedLit(256) // distance 3 after 2 bytes
		}), "before the start"},
		{"fixed length symbol 286", stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2).fixedLit(286).fixedLit(256)
		}), "invalid literal/length"},
		{"fixed length symbol 287", stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2).fixedLit(287).fixedLit(256)
		}), "invalid literal/length"},
		{"fixed distance symbol 30", stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2).fixedLit('a').fixedLit(257).code(30, 5).fixedLit(256)
		}), "invalid distance"},
		{"fixed distance symbol 31", stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2).fixedLit('a').fixedLit(257).code(31, 5).fixedLit(256)
		}), "invalid distance"},
		{"too many length codes", stream(func(w *bitWriter) {
			w.dynHeader(287, 1, 4, []uint64{0, 0, 0, 0})
		}), "too many"},
		{"too many distance codes", stream(func(w *bitWriter) {
			w.dynHeader(257, 31, 4, []uint64{0, 0, 0, 0})
		}), "too many"},
		{"code length code over-subscribed", stream(func(w *bitWriter) {
			w.dynHeader(257, 1, 4, []uint64{1, 1, 1, 0}) // three 1-bit codes
		}), "invalid code length code"},
		{"code length code incomplete", stream(func(w *bitWriter) {
			w.dynHeader(257, 1, 4, []uint64{2, 2, 2, 0}) // three of four 2-bit codes
		}), "invalid code length code"},
		{"code length code empty", stream(func(w *bitWriter) {
			w.dynHeader(257, 1, 4, []uint64{0, 0, 0, 0})
			w.bits(0, 8)
		}), "invalid code length code"},
		// Code length code: 18 and 0 get 1 bit each (18 = "0", 0 = "1"),
		// then 16 with the 4-code header 16,17,18,0 -> lengths 2,0,2,1:
		// 0 = "0", 16 = "10", 18 = "11".
		{"repeat with no previous length", stream(func(w *bitWriter) {
			w.dynHeader(257, 1, 4, []uint64{2, 0, 2, 1})
			w.code(2, 2).bits(0, 2) // 16: repeat previous 3 times
		}), "no previous length"},
		{"repeat past the end", stream(func(w *bitWriter) {
			w.dynHeader(257, 1, 4, []uint64{2, 0, 2, 1})
			w.code(3, 2).bits(127, 7) // 18: 138 zeros
			w.code(3, 2).bits(127, 7) // 276
			w.code(3, 2).bits(0, 7)   // 287 > 258
		}), "repeat past the end"},
		{"no end-of-block code", stream(func(w *bitWriter) {
			w.dynHeader(257, 1, 4, []uint64{2, 0, 2, 1})
			w.code(3, 2).bits(127, 7) // 138 zeros
			w.code(3, 2).bits(109, 7) // 120 zeros: 258 lengths, all zero
		}), "no code for end of block"},
		{"length with no distance codes", literalOnly(func(w *bitWriter) {
			w.code(0, 1).code(3, 2) // 'a', then length 3 (symbol 257)
		}), "no distance codes"},
		{"all-literal block decodes", literalOnly(func(w *bitWriter) {
			w.code(0, 1).code(0, 1).code(2, 2) // 'a', 'a', end of block
		}), ""},
		// One distance code of one bit (allowed, §3.2.7): "0" is distance 1,
		// "1" is no code.
		{"single distance code, its bit", dynBlock(map[int]int{'a': 1, 256: 2, 257: 2}, 258, []int{1}, func(w *bitWriter) {
			w.code(0, 1).code(3, 2).code(0, 1).code(2, 2) // 'a', length 3 at distance 1, end
		}), ""},
		{"single distance code, the other bit", dynBlock(map[int]int{'a': 1, 256: 2, 257: 2}, 258, []int{1}, func(w *bitWriter) {
			w.code(0, 1).code(3, 2).code(1, 1).code(2, 2)
		}), "code"},
		{"literal/length lengths over-subscribed", dynBlock(map[int]int{'a': 1, 'b': 1, 256: 1}, 257, []int{0}, func(w *bitWriter) {}),
			"invalid literal/length code lengths"},
		{"literal/length lengths incomplete", dynBlock(map[int]int{'a': 1, 256: 2}, 257, []int{0}, func(w *bitWriter) {}),
			"invalid literal/length code lengths"},
		{"distance lengths incomplete", dynBlock(map[int]int{'a': 1, 256: 2, 257: 2}, 258, []int{2, 2}, func(w *bitWriter) {}),
			"invalid distance code lengths"},
		{"distance lengths over-subscribed", dynBlock(map[int]int{'a': 1, 256: 2, 257: 2}, 258, []int{1, 1, 1}, func(w *bitWriter) {}),
			"invalid distance code lengths"},
	}
	for _, tt := range tests {
		// compress/flate agrees, so the table tests DEFLATE, not our reading of it.
		if ref, err := inflateWith(tt.stream); (err == nil) != (tt.want == "") {
			t.Errorf("%s: compress/flate gives %q, %v", tt.name, ref, err)
		}
		for _, outSize := range []int{1, 1 << 16} {
			every := make([]int, len(tt.stream))
			for i := range every {
				every[i] = i
			}
			padded := append(append([]byte(nil), tt.stream...), make([]byte, 16)...)
			for _, in := range []struct {
				stream []byte
				cuts   []int
			}{{tt.stream, nil}, {tt.stream, every}, {padded, nil}} {
				if tt.want == "" && len(in.stream) > len(tt.stream) {
					continue // padding after a good stream is data after the final block
				}
				cuts := in.cuts
				var f Inflater
				_, err := push(t, &f, 15, in.stream, cuts, outSize)
				if tt.want == "" {
					if err != nil {
						t.Errorf("%s: %v; want no error", tt.name, err)
					}
					continue
				}
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s (out %d, %d cuts): err = %v; want ErrCorrupt saying %q", tt.name, outSize, len(cuts), err, tt.want)
				}
				if err != nil {
					if _, _, err2 := f.Inflate(make([]byte, 10), []byte{0}); err2 == nil {
						t.Errorf("%s: Inflate after an error succeeded; want it to fail until Reset", tt.name)
					}
				}
			}
		}
	}
}

// TestTruncatedNeverFinal: every proper prefix of a closed stream is
// incomplete, not corrupt.
func TestTruncatedNeverFinal(t *testing.T) {
	// Every proper prefix of a closed stream decodes without error, is not
	// Final, and gives a prefix of the output.
	data := jsonText(2000, 21)
	s := compress(t, data, 6, 500)
	var f Inflater
	for cut := 0; cut < len(s); cut++ {
		got, err := push(t, &f, 15, s[:cut], nil, 1<<16)
		if err != nil || f.Final() || string(got) != string(data[:len(got)]) {
			t.Fatalf("prefix %d of %d: %d bytes, %v, Final %v", cut, len(s), len(got), err, f.Final())
		}
	}
}

// literalOnly writes a final dynamic block whose literal/length code has
// 'a' = "0", end of block = "10", length 3 (257) = "11", and no distance
// codes (one distance code length of zero, RFC 1951 §3.2.7), then body.
func literalOnly(body func(w *bitWriter)) []byte {
	return dynBlock(map[int]int{'a': 1, 256: 2, 257: 2}, 258, []int{0}, body)
}

// dynBlock writes a final dynamic block (RFC 1951 §3.2.7) with the given
// literal/length code lengths (symbol -> 1 or 2; others 0) over hlit
// symbols and distance code lengths (0..2), then body. The code length
// code gives 0 = "00", 1 = "01", 2 = "10", 18 = "11" (runs of zeros).
func dynBlock(lit map[int]int, hlit int, dist []int, body func(w *bitWriter)) []byte {
	var w bitWriter
	// Code length code lengths in the order 16,17,18,0,8,7,9,6,10,5,11,4,
	// 12,3,13,2,14,1: 18, 0, 2 and 1 get two bits each.
	cl := make([]uint64, 18)
	cl[2], cl[3], cl[15], cl[17] = 2, 2, 2, 2
	w.dynHeader(hlit, len(dist), 18, cl)
	lens := make([]int, hlit, hlit+len(dist))
	for sym, l := range lit {
		lens[sym] = l
	}
	lens = append(lens, dist...)
	for k := 0; k < len(lens); {
		run := 0
		for k+run < len(lens) && lens[k+run] == 0 && run < 138 {
			run++
		}
		if run >= 11 {
			w.code(3, 2).bits(uint64(run-11), 7)
			k += run
			continue
		}
		w.code(uint64(lens[k]), 2)
		k++
	}
	body(&w)
	return w.bytes()
}

// TestWindowLimit: with a window of 1<<windowBits bytes, a back-reference
// of exactly that distance decodes, one byte further is corrupt, and so
// is one 32 KiB back; the same holds whatever the out size and whether the
// earlier output came out in this call or an earlier one.
func TestWindowLimit(t *testing.T) {
	// refAt writes 300 literals (a pattern), then a match of length 3 at
	// distance dist, in a final fixed block (RFC 1951 §3.2.6).
	refAt := func(dist int) []byte {
		return stream(func(w *bitWriter) {
			w.bits(1, 1).bits(1, 2)
			for i := 0; i < 300; i++ {
				w.fixedLit(int('a' + i%26))
			}
			w.fixedLit(257) // length 3
			code := 0
			for code+1 < len(distBase) && int(distBase[code+1]) <= dist {
				code++
			}
			w.code(uint64(code), 5).bits(uint64(dist-int(distBase[code])), uint(distExtra[code]))
			w.fixedLit(256)
		})
	}
	want := func(dist int) string {
		var b []byte
		for i := 0; i < 300; i++ {
			b = append(b, byte('a'+i%26))
		}
		for k := 0; k < 3; k++ {
			b = append(b, b[len(b)-dist])
		}
		return string(b)
	}
	var f Inflater
	for _, outSize := range []int{1, 10, 299, 300, 301, 1000} {
		got, err := push(t, &f, 8, refAt(256), nil, outSize)
		if err != nil || string(got) != want(256) {
			t.Errorf("window 256, distance 256, out %d: %d bytes, %v; want %d bytes", outSize, len(got), err, len(want(256)))
		}
		for _, dist := range []int{257, 300} {
			if _, err := push(t, &f, 8, refAt(dist), nil, outSize); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "beyond the window") {
				t.Errorf("window 256, distance %d, out %d: err = %v; want beyond the window", dist, outSize, err)
			}
		}
		if _, err := push(t, &f, 8, refAt(301), nil, outSize); !errors.Is(err, ErrCorrupt) {
			t.Errorf("window 256, distance 301 (before the start), out %d: err = %v; want ErrCorrupt", outSize, err)
		}
		got, err = push(t, &f, 9, refAt(300), nil, outSize)
		if err != nil || string(got) != want(300) {
			t.Errorf("window 512, distance 300, out %d: %d bytes, %v", outSize, len(got), err)
		}
	}
}

// TestResetWindowSizes: Reset to a smaller window after a larger one keeps
// the allocation and enforces the smaller limit; a larger one after a
// smaller one grows it once.
func TestResetWindowSizes(t *testing.T) {
	var f Inflater
	data := jsonText(5000, 51)
	s := compress(t, data, 6, 0)
	for _, wb := range []int{8, 15, 8, 12, 15} {
		s := s
		if wb < 15 {
			s = compressWindow(t, data, wb)
		}
		got, err := push(t, &f, wb, s, nil, 100)
		if err != nil || string(got) != string(data) {
			t.Fatalf("window %d: %d bytes, %v", wb, len(got), err)
		}
		if wb == 8 && len(f.win) >= 1<<15 {
			// The big allocation is kept, but only 256 bytes of it are used.
			if f.winSize != 256 {
				t.Fatalf("winSize = %d; want 256", f.winSize)
			}
		}
	}
	for _, bad := range []int{-1, 0, 7, 16, 99} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Reset(%d) did not panic", bad)
				}
			}()
			f.Reset(bad)
		}()
	}
}
