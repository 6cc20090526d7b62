package inflate

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// A random DEFLATE writer for differential tests: streams with every block
// type, dynamic blocks whose codes are random complete prefix codes with
// lengths up to 15 bits in both alphabets (which compress/flate rarely
// writes), every length and distance symbol, and code-length repeats. It
// knows the output it encodes, and compress/flate must agree.

// randomLengths returns code lengths for n symbols forming a random
// complete prefix code no longer than maxLen bits, built by splitting
// leaves of a binary tree; deep picks the deepest splittable leaf more
// often, for long codes.
func randomLengths(r *rand.Rand, n, maxLen int, deep bool) []uint8 {
	depths := []int{0}
	for len(depths) < n {
		k := r.IntN(len(depths))
		if deep && r.IntN(3) > 0 {
			for j, d := range depths {
				if d < maxLen && d >= depths[k] {
					k = j
				}
			}
		}
		if depths[k] >= maxLen {
			continue
		}
		d := depths[k] + 1
		depths[k] = d
		depths = append(depths, d)
	}
	r.Shuffle(len(depths), func(i, j int) { depths[i], depths[j] = depths[j], depths[i] })
	lens := make([]uint8, n)
	for i, d := range depths {
		lens[i] = uint8(d)
	}
	return lens
}

// canonical returns the RFC 1951 §3.2.2 codes for lens.
func canonical(lens []uint8) []uint64 {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]uint64
	code := uint64(0)
	for b := 1; b <= 15; b++ {
		code = (code + uint64(count[b-1])) << 1
		next[b] = code
	}
	codes := make([]uint64, len(lens))
	for s, l := range lens {
		if l != 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

type randomStream struct {
	r   *rand.Rand
	w   bitWriter
	out []byte
}

// symbols writes n random literals and back-references with the codes of
// litLens and distLens, then end of block, and records their output.
func (s *randomStream) symbols(n int, litLens, distLens []uint8) {
	litCodes, distCodes := canonical(litLens), canonical(distLens)
	lit := func(sym int) { s.w.code(litCodes[sym], uint(litLens[sym])) }
	for k := 0; k < n; k++ {
		if len(s.out) == 0 || s.r.IntN(3) == 0 {
			b := s.r.IntN(256)
			lit(b)
			s.out = append(s.out, byte(b))
			continue
		}
		li := s.r.IntN(29)
		length := int(lengthBase[li]) + s.r.IntN(1<<lengthExtra[li])
		if li == 28 {
			length = 258
		}
		maxDist := min(len(s.out), 32768)
		di := 0
		for di+1 < 30 && int(distBase[di+1]) <= maxDist && s.r.IntN(4) > 0 {
			di++
		}
		dist := int(distBase[di]) + s.r.IntN(1<<distExtra[di])
		dist = min(dist, maxDist)
		if dist < int(distBase[di]) {
			continue // this code cannot reach that far yet
		}
		lit(257 + li)
		s.w.bits(uint64(length-int(lengthBase[li])), uint(lengthExtra[li]))
		s.w.code(distCodes[di], uint(distLens[di]))
		s.w.bits(uint64(dist-int(distBase[di])), uint(distExtra[di]))
		for j := 0; j < length; j++ {
			s.out = append(s.out, s.out[len(s.out)-dist])
		}
	}
	lit(256)
}

func (s *randomStream) fixedBlock(final bool, n int) {
	s.w.bits(b2u(final), 1).bits(1, 2)
	lens := make([]uint8, 288+30)
	for i := range 288 {
		lens[i] = [4]uint8{8, 9, 7, 8}[boolIdx(i >= 144)+boolIdx(i >= 256)+boolIdx(i >= 280)]
	}
	for i := 288; i < 318; i++ {
		lens[i] = 5
	}
	s.symbols(n, lens[:288], lens[288:])
}

func (s *randomStream) storedBlock(final bool, n int) {
	s.w.bits(b2u(final), 1).bits(0, 2)
	if s.w.n > 0 {
		s.w.bits(0, 8-s.w.n)
	}
	s.w.bits(uint64(n), 16).bits(uint64(^n&0xffff), 16)
	for range n {
		b := byte(s.r.IntN(256))
		s.w.bits(uint64(b), 8)
		s.out = append(s.out, b)
	}
}

func (s *randomStream) dynamicBlock(final bool, n int) {
	deep := s.r.IntN(2) == 0
	litLens := randomLengths(s.r, 286, 15, deep)
	distLens := randomLengths(s.r, 30, 15, deep)
	clLens := randomLengths(s.r, 19, 7, false)
	clCodes := canonical(clLens)
	s.w.bits(b2u(final), 1).bits(2, 2)
	s.w.bits(286-257, 5).bits(30-1, 5).bits(19-4, 4)
	for _, sym := range codeLengthOrder {
		s.w.bits(uint64(clLens[sym]), 3)
	}
	all := append(append([]uint8(nil), litLens...), distLens...)
	for k := 0; k < len(all); {
		// Repeat the previous length (16) where a run allows, sometimes.
		if k > 0 && s.r.IntN(2) == 0 {
			run := 0
			for k+run < len(all) && all[k+run] == all[k-1] && run < 6 {
				run++
			}
			if run >= 3 {
				s.w.code(clCodes[16], uint(clLens[16])).bits(uint64(run-3), 2)
				k += run
				continue
			}
		}
		l := all[k]
		s.w.code(clCodes[l], uint(clLens[l]))
		k++
	}
	s.symbols(n, litLens, distLens)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func boolIdx(b bool) int { return int(b2u(b)) }

// TestRandomStreams decodes random streams (stored, fixed and dynamic
// blocks with random 15-bit codes) in random pieces with random out
// sizes, and checks the output against what was encoded and against
// compress/flate.
func TestRandomStreams(t *testing.T) {
	var f Inflater
	for seed := uint64(0); seed < 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 77))
		s := &randomStream{r: r}
		blocks := 1 + r.IntN(6)
		for b := 0; b < blocks; b++ {
			final := b == blocks-1
			switch r.IntN(4) {
			case 0:
				s.storedBlock(final, r.IntN(300))
			case 1:
				s.fixedBlock(final, r.IntN(2000))
			default:
				s.dynamicBlock(final, r.IntN(4000))
			}
		}
		stream := s.w.bytes()
		ref, err := inflateWith(stream)
		if err != nil || !bytes.Equal(ref, s.out) {
			t.Fatalf("seed %d: the generator is wrong: compress/flate gives %d bytes, %v; encoded %d", seed, len(ref), err, len(s.out))
		}
		for trial := 0; trial < 3; trial++ {
			outSize := []int{1 + r.IntN(10), 1 + r.IntN(1000), 1 << 16}[trial]
			if outSize <= 10 && len(s.out) > 100000 {
				outSize = 64 // a few bytes a call over that much output is slow under -race
			}
			cuts := randomCuts(r, len(stream), 1+trial%2)
			got, err := push(t, &f, 15, stream, cuts, outSize)
			if err != nil || !bytes.Equal(got, s.out) {
				t.Fatalf("seed %d, out %d, %s: got %d bytes, %v; want %d", seed, outSize, short(cuts), len(got), err, len(s.out))
			}
		}
	}
}

// TestLongCodes checks that the generator does reach 15-bit codes in both
// alphabets (else TestRandomStreams would not test the subtables).
func TestLongCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	maxLit, maxDist := 0, 0
	for range 20 {
		for _, l := range randomLengths(r, 286, 15, true) {
			maxLit = max(maxLit, int(l))
		}
		for _, l := range randomLengths(r, 30, 15, true) {
			maxDist = max(maxDist, int(l))
		}
	}
	if maxLit != 15 || maxDist != 15 {
		t.Fatalf("longest codes: literal/length %d, distance %d; want 15 and 15", maxLit, maxDist)
	}
}
