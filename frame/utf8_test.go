package frame

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// refUTF8 is the reference the validator is checked against, built on
// unicode/utf8: ok and the index of the first invalid byte, or, when p is
// valid so far, the end of its last whole code point.
func refUTF8(p []byte) (complete int, ok bool) {
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		if !utf8.FullRune(p[i:]) {
			return i, true // a valid but incomplete sequence ends p
		}
		// Invalid at i: the bad byte follows the longest prefix of the
		// sequence that could still be completed.
		k := 1
		for i+k < len(p) && !utf8.FullRune(p[i:i+k]) {
			k++
		}
		if utf8.FullRune(p[i : i+k]) {
			k--
		}
		return i + k, false
	}
	return len(p), true
}

// checkUTF8Split feeds p to a UTF8 in the pieces cuts gives and checks every
// result against refUTF8 of the whole: the same first bad byte, and after
// each piece the last code-point boundary so far.
func checkUTF8Split(t *testing.T, p []byte, cuts []int) {
	t.Helper()
	wantBad, wantOK := refUTF8(p)
	var v UTF8
	start := 0
	for _, end := range append(cuts, len(p)) {
		piece := p[start:end]
		got, ok := v.Validate(piece)
		if !wantOK && wantBad < end {
			if ok || start+got != wantBad {
				t.Fatalf("%x cut at %v: piece %x gave %d, %v; want the bad byte at %d", p, cuts, piece, got, ok, wantBad-start)
			}
			if c, ok := v.Validate([]byte("a")); ok || c != 0 || v.AtBoundary() {
				t.Fatalf("%x: validator did not stay failed", p)
			}
			return
		}
		boundary, _ := refUTF8(p[:end])
		if !ok || got != max(boundary-start, 0) {
			t.Fatalf("%x cut at %v: piece %x gave %d, %v; want %d, true", p, cuts, piece, got, ok, max(boundary-start, 0))
		}
		if v.AtBoundary() != (boundary == end) {
			t.Fatalf("%x cut at %v: AtBoundary() = %v after %d bytes", p, cuts, v.AtBoundary(), end)
		}
		start = end
	}
	if wantOK != true {
		t.Fatalf("%x: validator accepted invalid input", p)
	}
}

// checkUTF8 checks p whole, split in two at every byte, and byte by byte.
func checkUTF8(t *testing.T, p []byte) {
	t.Helper()
	checkUTF8Split(t, p, nil)
	for i := 0; i <= len(p); i++ {
		checkUTF8Split(t, p, []int{i})
	}
	cuts := make([]int, 0, len(p))
	for i := 1; i < len(p); i++ {
		cuts = append(cuts, i)
	}
	checkUTF8Split(t, p, cuts)
}

func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// autobahnUTF8 are the payloads of the Autobahn test suite's case group 6
// (UTF-8 handling) and whether each is valid UTF-8.
var autobahnUTF8 = []struct {
	name  string
	in    []byte
	valid bool
}{
	{"6.1 empty", nil, true},
	{"6.2 valid text", []byte("Hello-µ@ßöäüàá-UTF-8!!"), true},
	{"6.3 kosme with surrogate", h("cebae1bdb9cf83cebcceb5eda080656469746564"), false},
	{"6.4.1 fail fast over U+10FFFF", h("cebae1bdb9cf83cebcceb5 f4908080 656469746564"), false},
	{"6.5 kosme", h("cebae1bdb9cf83cebcceb5"), true},
	{"6.7.1 first 1-byte", h("00"), true},
	{"6.7.2 first 2-byte", h("c280"), true},
	{"6.7.3 first 3-byte", h("e0a080"), true},
	{"6.7.4 first 4-byte", h("f0908080"), true},
	{"6.8.1 first 5-byte", h("f888808080"), false},
	{"6.8.2 first 6-byte", h("fc8480808080"), false},
	{"6.9.1 last 1-byte", h("7f"), true},
	{"6.9.2 last 2-byte", h("dfbf"), true},
	{"6.9.3 last 3-byte", h("efbfbf"), true},
	{"6.9.4 last 4-byte", h("f48fbfbf"), true},
	{"6.10.1 last 4-byte form", h("f7bfbfbf"), false},
	{"6.10.2 last 5-byte", h("fbbfbfbfbf"), false},
	{"6.10.3 last 6-byte", h("fdbfbfbfbfbf"), false},
	{"6.11.1 U+D7FF", h("ed9fbf"), true},
	{"6.11.2 U+E000", h("ee8080"), true},
	{"6.11.3 U+FFFD", h("efbfbd"), true},
	{"6.11.4 U+10FFFF", h("f48fbfbf"), true},
	{"6.11.5 U+110000", h("f4908080"), false},
	{"6.12.1 first continuation", h("80"), false},
	{"6.12.2 last continuation", h("bf"), false},
	{"6.12.3 2 continuations", h("80bf"), false},
	{"6.12.4 3 continuations", h("80bf80"), false},
	{"6.12.5 4 continuations", h("80bf80bf"), false},
	{"6.12.6 5 continuations", h("80bf80bf80"), false},
	{"6.12.7 6 continuations", h("80bf80bf80bf"), false},
	{"6.12.8 all continuations", seqRange(0x80, 0xbf), false},
	{"6.13.1 lonely 2-byte starts", spaced(0xc0, 0xdf), false},
	{"6.13.2 lonely 3-byte starts", spaced(0xe0, 0xef), false},
	{"6.13.3 lonely 4-byte starts", spaced(0xf0, 0xf7), false},
	{"6.13.4 lonely 5-byte starts", spaced(0xf8, 0xfb), false},
	{"6.13.5 lonely 6-byte starts", spaced(0xfc, 0xfd), false},
	{"6.14.1 c0 cut", h("c0"), false},
	{"6.14.2 e080 cut", h("e080"), false},
	{"6.14.3 f08080 cut", h("f08080"), false},
	{"6.14.4 f8808080 cut", h("f8808080"), false},
	{"6.14.5 fc80808080 cut", h("fc80808080"), false},
	{"6.14.6 df cut", h("df"), false},
	{"6.14.7 efbf cut", h("efbf"), false},
	{"6.14.8 f7bfbf cut", h("f7bfbf"), false},
	{"6.14.9 fbbfbfbf cut", h("fbbfbfbf"), false},
	{"6.14.10 fdbfbfbfbf cut", h("fdbfbfbfbf"), false},
	{"6.15.1 incomplete sequences concatenated", h("c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf"), false},
	{"6.16.1 fe", h("fe"), false},
	{"6.16.2 ff", h("ff"), false},
	{"6.16.3 fefeffff", h("fefeffff"), false},
	{"6.17.1 overlong slash 2", h("c0af"), false},
	{"6.17.2 overlong slash 3", h("e080af"), false},
	{"6.17.3 overlong slash 4", h("f08080af"), false},
	{"6.17.4 overlong slash 5", h("f8808080af"), false},
	{"6.17.5 overlong slash 6", h("fc80808080af"), false},
	{"6.18.1 max overlong 2", h("c1bf"), false},
	{"6.18.2 max overlong 3", h("e09fbf"), false},
	{"6.18.3 max overlong 4", h("f08fbfbf"), false},
	{"6.18.4 max overlong 5", h("f887bfbfbf"), false},
	{"6.18.5 max overlong 6", h("fc83bfbfbfbf"), false},
	{"6.19.1 overlong NUL 2", h("c080"), false},
	{"6.19.2 overlong NUL 3", h("e08080"), false},
	{"6.19.3 overlong NUL 4", h("f0808080"), false},
	{"6.19.4 overlong NUL 5", h("f880808080"), false},
	{"6.19.5 overlong NUL 6", h("fc8080808080"), false},
	{"6.20.1 U+D800", h("eda080"), false},
	{"6.20.2 U+DB7F", h("edadbf"), false},
	{"6.20.3 U+DB80", h("edae80"), false},
	{"6.20.4 U+DBFF", h("edafbf"), false},
	{"6.20.5 U+DC00", h("edb080"), false},
	{"6.20.6 U+DF80", h("edbe80"), false},
	{"6.20.7 U+DFFF", h("edbfbf"), false},
	{"6.21.1 D800 DC00", h("eda080edb080"), false},
	{"6.21.2 D800 DFFF", h("eda080edbfbf"), false},
	{"6.21.3 DB7F DC00", h("edadbfedb080"), false},
	{"6.21.4 DB7F DFFF", h("edadbfedbfbf"), false},
	{"6.21.5 DB80 DC00", h("edae80edb080"), false},
	{"6.21.6 DB80 DFFF", h("edae80edbfbf"), false},
	{"6.21.7 DBFF DC00", h("edafbfedb080"), false},
	{"6.21.8 DBFF DFFF", h("edafbfedbfbf"), false},
	{"6.22.1 U+FFFE", h("efbfbe"), true},
	{"6.22.2 U+FFFF", h("efbfbf"), true},
	{"6.22.3 U+1FFFE", h("f09fbfbe"), true},
	{"6.22.34 U+10FFFF", h("f48fbfbf"), true},
	{"6.23.1 U+FFFD", h("efbfbd"), true},
	{"6.23.2 U+FFFD in text", []byte("a\uFFFDb"), true},
	{"6.23.7 text then surrogate", append([]byte(strings.Repeat("ascii", 9)), h("eda080")...), false},
	{"long ASCII then bad continuation", append([]byte(strings.Repeat("x", 37)), 0xc3, 0x28), false},
	{"long mixed valid", []byte(strings.Repeat("Grüße, 世界 🌍! ", 5)), true},
}

func seqRange(lo, hi byte) []byte {
	var b []byte
	for c := int(lo); c <= int(hi); c++ {
		b = append(b, byte(c))
	}
	return b
}

func spaced(lo, hi byte) []byte {
	var b []byte
	for c := int(lo); c <= int(hi); c++ {
		b = append(b, byte(c), ' ')
	}
	return b
}

func TestUTF8Autobahn(t *testing.T) {
	for _, tc := range autobahnUTF8 {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidUTF8(tc.in); got != tc.valid {
				t.Fatalf("ValidUTF8(%x) = %v; want %v", tc.in, got, tc.valid)
			}
			if got := utf8.Valid(tc.in); got != tc.valid {
				t.Fatalf("test case is wrong: utf8.Valid(%x) = %v", tc.in, got)
			}
			checkUTF8(t, tc.in)
		})
	}
}

// TestUTF8FirstBadByte pins the index reported for invalid input.
func TestUTF8FirstBadByte(t *testing.T) {
	for _, tc := range []struct {
		in  []byte
		bad int
	}{
		{h("80"), 0},
		{h("41 c0 80"), 1},
		{h("e0 80 80"), 1},
		{h("ed a0 80"), 1},
		{h("f4 90 80 80"), 1},
		{h("f0 90 80 41"), 3},
		{h("c3 28"), 1},
		{h("e2 82 ac f5"), 3},
		{append([]byte(strings.Repeat("x", 40)), 0xff), 40},
	} {
		var v UTF8
		if got, ok := v.Validate(tc.in); ok || got != tc.bad {
			t.Errorf("Validate(%x) = %d, %v; want %d, false", tc.in, got, ok, tc.bad)
		}
	}
}

// TestUTF8Complete pins complete for inputs that end inside a code point,
// including ones whose sequence began in an earlier call.
func TestUTF8Complete(t *testing.T) {
	for _, tc := range []struct {
		pieces   []string
		complete []int
		boundary bool
	}{
		{[]string{"abc\xe2\x82", "\xac"}, []int{3, 1}, true},
		{[]string{"\xf0", "\x9f", "\x8c", "\x8dz"}, []int{0, 0, 0, 2}, true},
		{[]string{"\xf0\x9f", "\x8c\x8d\xf0\x9f\x8c"}, []int{0, 2}, false},
		{[]string{"\xc3", "\xa9\xc3\xa9\xc3"}, []int{0, 3}, false},
		{[]string{"", "a", ""}, []int{0, 1, 0}, true},
	} {
		var v UTF8
		for i, p := range tc.pieces {
			if got, ok := v.Validate([]byte(p)); !ok || got != tc.complete[i] {
				t.Errorf("%q: Validate(%q) = %d, %v; want %d, true", tc.pieces, p, got, ok, tc.complete[i])
			}
		}
		if v.AtBoundary() != tc.boundary {
			t.Errorf("%q: AtBoundary() = %v at the end; want %v", tc.pieces, v.AtBoundary(), tc.boundary)
		}
		v.Reset()
	}
	var v UTF8
	v.Validate([]byte{0xff})
	v.Reset()
	if got, ok := v.Validate([]byte("ok")); !ok || got != 2 {
		t.Errorf("Validate after Reset = %d, %v", got, ok)
	}
}

// randomText returns n bytes of mostly valid UTF-8 from every encoding
// length, with a few random bytes put in.
func randomText(r *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		switch r.IntN(8) {
		case 0, 1, 2:
			b = append(b, byte(r.IntN(0x80)))
		case 3:
			b = utf8.AppendRune(b, rune(0x80+r.IntN(0x800-0x80)))
		case 4:
			b = utf8.AppendRune(b, rune(0x800+r.IntN(0x10000-0x800)))
		case 5:
			b = utf8.AppendRune(b, rune(0x10000+r.IntN(0x110000-0x10000)))
		case 6:
			b = append(b, strings.Repeat("plain ascii ", r.IntN(3))...)
		case 7:
			if r.IntN(20) == 0 {
				b = append(b, byte(r.IntN(256)))
			}
		}
	}
	return b[:n]
}

// TestUTF8Random cross-checks the validator against unicode/utf8 on random,
// mostly valid text, whole and split at random places.
func TestUTF8Random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		p := randomText(r, r.IntN(200))
		if got, want := ValidUTF8(p), utf8.Valid(p); got != want {
			t.Fatalf("ValidUTF8(%x) = %v; utf8.Valid says %v", p, got, want)
		}
		var cuts []int
		for c := 0; c < len(p); c += 1 + r.IntN(20) {
			cuts = append(cuts, c)
		}
		checkUTF8Split(t, p, cuts)
	}
}

// TestUTF8AllShortSequences checks every 1- and 2-byte input, and every
// 3- and 4-byte input built from an interesting byte set, against
// unicode/utf8.
func TestUTF8AllShortSequences(t *testing.T) {
	for a := 0; a < 256; a++ {
		checkUTF8Split(t, []byte{byte(a)}, nil)
		for b := 0; b < 256; b++ {
			checkUTF8Split(t, []byte{byte(a), byte(b)}, []int{1})
		}
	}
	edges := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff}
	for _, a := range edges {
		for _, b := range edges {
			for _, c := range edges {
				checkUTF8Split(t, []byte{a, b, c}, nil)
				for _, d := range edges {
					checkUTF8Split(t, []byte{a, b, c, d}, []int{2})
				}
			}
		}
	}
}
