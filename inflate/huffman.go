package inflate

import "math/bits"

// Huffman decoding tables (RFC 1951 §3.2.2, §3.2.6, §3.2.7).
//
// DEFLATE packs Huffman codes starting with their most significant bit into
// a stream read from the least significant bit of each byte, so a table is
// indexed by the next rootBits stream bits with each code bit-reversed. A
// code no longer than rootBits fills every root entry whose low bits are
// the code; a longer code goes through a link in the root entry to a
// subtable indexed by the bits after the first rootBits.
//
// An entry is a uint32:
//
//	leaf:  value<<valShift | length           (length 1..15: total code bits)
//	link:  offset<<valShift | linkFlag | sub  (subtable at offset, indexed by sub bits)
//	0:     no code has these bits (an incomplete code); corrupt input
//
// For both alphabets, value is the decoded meaning rather than the symbol: a literal byte, endOfBlock, or a length code's base length and
// extra-bit count (see litValue), so the hot loop needs no second lookup.
const (
	lenMask  = 0xf
	linkFlag = 1 << 4
	valShift = 5

	litRootBits  = 10
	distRootBits = 8
	clRootBits   = 7

	// Table sizes: root plus room for subtables. The largest possible
	// subtable total for a complete code over 286 symbols of at most 15
	// bits with a 10-bit root is 308 entries, and over 30 symbols with an
	// 8-bit root well under 256 (zlib's "enough" bounds); build checks
	// anyway and calls the input corrupt rather than overrun.
	litTableSize  = 1<<litRootBits + 512
	distTableSize = 1<<distRootBits + 512
	clTableSize   = 1 << clRootBits

	maxCodeBits = 15
)

// Meanings of a table leaf's value (see litValue and distValue).
const (
	valEndOfBlock = 1 << 8  // symbol 256
	valLength     = 1 << 9  // a length code: valLength | extra<<10 | base-3
	valInvalid    = 1 << 20 // a symbol the alphabet does not use
)

// litValue returns the table value for literal/length symbol sym (RFC 1951
// §3.2.5): literals 0..255 as themselves; 256 end of block; 257..285 a
// length code carrying base-3 in bits 0..7 and its extra bits in 10..12;
// 286 and 287 (which only the fixed code assigns) are invalid.
func litValue(sym int) uint32 {
	switch {
	case sym < 256:
		return uint32(sym)
	case sym == 256:
		return valEndOfBlock
	case sym < 286:
		i := sym - 257
		return valLength | uint32(lengthExtra[i])<<10 | uint32(lengthBase[i]-3)
	}
	return valInvalid
}

// distValue returns the table value for distance symbol sym: its extra bits
// in 0..3 and base distance in 4..15; 30 and 31 are invalid (valInvalid).
func distValue(sym int) uint32 {
	if sym < 30 {
		return uint32(distBase[sym])<<4 | uint32(distExtra[sym])
	}
	return valInvalid
}

// RFC 1951 §3.2.5: base lengths and extra bits of length codes 257..285,
// and base distances and extra bits of distance codes 0..29.
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// codeLengthOrder is the order in which a dynamic block header sends the
// code lengths of the code length alphabet (RFC 1951 §3.2.7).
var codeLengthOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// The fixed Huffman codes of RFC 1951 §3.2.6, and each alphabet's table
// values, built once.
var (
	litValues  [288]uint32
	distValues [32]uint32
	clValues   [19]uint32

	fixedLit  [litTableSize]uint32
	fixedDist [distTableSize]uint32
)

func init() {
	var lens [320]uint8
	for i := 0; i < 144; i++ {
		lens[i] = 8
	}
	for i := 144; i < 256; i++ {
		lens[i] = 9
	}
	for i := 256; i < 280; i++ {
		lens[i] = 7
	}
	for i := 280; i < 288; i++ {
		lens[i] = 8
	}
	for i := 288; i < 288+32; i++ {
		lens[i] = 5
	}
	for sym := range litValues {
		litValues[sym] = litValue(sym)
	}
	for sym := range distValues {
		distValues[sym] = distValue(sym)
	}
	for sym := range clValues {
		clValues[sym] = uint32(sym)
	}
	var scratch [1 << litRootBits]uint8
	_, ok1 := build(fixedLit[:], litRootBits, lens[:288], litValues[:], &scratch)
	_, ok2 := build(fixedDist[:], distRootBits, lens[288:], distValues[:], &scratch)
	if !ok1 || !ok2 {
		panic("inflate: fixed Huffman tables do not build")
	}
}

// build fills table from the code lengths lens (0 = symbol unused) as the
// canonical Huffman code of RFC 1951 §3.2.2, with values[sym] in each leaf.
// It returns the longest code length, and reports false for an over-subscribed code, and for an incomplete one
// except the two §3.2.7 allows: no codes at all, and a single code of one
// bit. scratch holds per-root-entry subtable sizes.
func build(table []uint32, rootBits uint, lens []uint8, values []uint32, scratch *[1 << litRootBits]uint8) (maxLen uint, ok bool) {
	var count [maxCodeBits + 1]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	left := 1 // codes left at the current length
	for l := 1; l <= maxCodeBits; l++ {
		left <<= 1
		left -= count[l]
		if left < 0 {
			return 0, false // over-subscribed
		}
		if count[l] != 0 {
			maxLen = uint(l)
		}
	}
	root := 1 << rootBits
	if left > 0 {
		// Incomplete: some root entries will stay 0 (no code). A
		// complete code writes every root entry, so needs no clearing.
		clear(table[:root])
	}
	if maxLen == 0 {
		return 0, true // no codes: any use of this table is corrupt
	}
	if left > 0 && !(maxLen == 1 && count[1] == 1) {
		return 0, false // incomplete
	}

	// First canonical code of each length.
	var next [maxCodeBits + 1]int
	code := 0
	for l := 1; l <= maxCodeBits; l++ {
		next[l] = code
		code = (code + count[l]) << 1
	}

	if maxLen > rootBits {
		// Longest code under each root prefix, for subtable sizes.
		sub := scratch[:root]
		clear(sub)
		c := next
		for _, l := range lens {
			if uint(l) > rootBits {
				p := reverse(c[l], int(l)) & (root - 1)
				sub[p] = max(sub[p], l)
			}
			if l != 0 {
				c[l]++
			}
		}
		// Lay out subtables after the root.
		end := root
		for p := 0; p < root; p++ {
			if sub[p] == 0 {
				continue
			}
			bitsN := int(sub[p]) - int(rootBits)
			if end+1<<bitsN > len(table) {
				return 0, false
			}
			table[p] = uint32(end)<<valShift | linkFlag | uint32(bitsN)
			clear(table[end : end+1<<bitsN])
			end += 1 << bitsN
		}
	}
	// Fill leaves.
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		r := reverse(next[l], int(l))
		next[l]++
		leaf := values[sym]<<valShift | uint32(l)
		if int(l) <= int(rootBits) {
			for i := r; i < root; i += 1 << l {
				table[i] = leaf
			}
			continue
		}
		link := table[r&(root-1)]
		off := int(link >> valShift)
		subBits := int(link & lenMask)
		step := 1 << (int(l) - int(rootBits))
		for i := r >> rootBits; i < 1<<subBits; i += step {
			table[off+i] = leaf
		}
	}
	return maxLen, true
}

// reverse returns the low n bits of code in reverse order.
func reverse(code, n int) int {
	return int(bits.Reverse16(uint16(code)) >> (16 - n))
}
