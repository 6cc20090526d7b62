package inflate

import "encoding/binary"

// Inflater decodes a raw DEFLATE stream (RFC 1951, no zlib header) pushed
// to it in pieces of any size. The zero value is not ready: call Reset
// first. See the package doc for the push model.
//
// An Inflater is not safe for concurrent use; give it to one goroutine at a
// time (a connection's event loop while a message is in flight).
type Inflater struct {
	regs // the stream's position: what Reset clears

	// Window: the last up to 1<<windowBits bytes of output, circular
	// (regs.wpos, regs.whave).
	win []byte

	// Scratch that each dynamic block header rewrites before use.
	lens    [286 + 30]uint8 // code lengths read so far (§3.2.7)
	clLens  [19]uint8       // code length code lengths
	dynLit  [litTableSize]uint32
	dynDist [distTableSize]uint32
	clTable [clTableSize]uint32
	scratch [1 << litRootBits]uint8
}

// regs is the small part of an Inflater's state, cleared by Reset (the
// tables and window are kept: clearing 11 KiB per message would cost more
// than decoding a short one).
type regs struct {
	// Bit reader (RFC 1951 §3.1.1): bits are taken from the least
	// significant end of bits, nbits of them valid.
	bits  uint64
	nbits uint
	inOff int64 // input bytes consumed since Reset, for error messages

	state  state
	final  bool // the block being decoded has BFINAL set
	done   bool // a block with BFINAL set has ended
	broken bool // a corrupt input was seen: every call fails until Reset

	// Stored block (§3.2.4): bytes still to copy.
	stored int

	// Dynamic block header (§3.2.7) in progress.
	hlit, hdist, hclen int
	nlens              int // code lengths read so far
	repeatSym          int // 16, 17 or 18 awaiting its extra bits

	// Back-reference (§3.2.5) in progress: a length awaiting its extra bits
	// or a distance, or a copy that did not fit in out.
	lenExtra uint
	copyLen  int
	distCode uint32 // value of the distance symbol awaiting its extra bits
	copyDist int

	winSize int // 1<<windowBits
	wpos    int // where the next byte of output goes in the window
	whave   int // valid bytes in the window

	litTable []uint32 // fixedLit[:] or dynLit[:]
	dstTable []uint32 // fixedDist[:] or dynDist[:]
	litMax   uint     // longest code in litTable
	dstMax   uint     // longest code in dstTable (0: no distance codes)
	clMax    uint     // longest code in clTable
}

type state uint8

const (
	stHeader     state = iota // BFINAL and BTYPE (§3.2.3)
	stStoredLen               // LEN and NLEN of a stored block (§3.2.4)
	stStored                  // a stored block's bytes
	stDynHeader               // HLIT, HDIST, HCLEN (§3.2.7)
	stCLLens                  // code lengths of the code length alphabet
	stLens                    // literal/length and distance code lengths
	stLensRepeat              // a repeat code's extra bits
	stSym                     // a literal/length symbol
	stLenExtra                // a length's extra bits
	stDist                    // a distance symbol
	stDistExtra               // a distance's extra bits
	stCopy                    // copying a back-reference into out
	stDone                    // after the final block
)

// Reset readies f for a new stream whose back-references reach at most
// 1<<windowBits bytes (8..15; RFC 7692 §7.1.2.2 client_max_window_bits; 15
// is DEFLATE's own 32 KiB limit, RFC 1951 §2), keeping its allocations. It
// panics if windowBits is outside 8..15: negotiation validates the value
// before it gets here. A distance beyond the window is corrupt input.
func (f *Inflater) Reset(windowBits int) {
	if windowBits < 8 || windowBits > 15 {
		panic("inflate: window bits out of range 8..15")
	}
	f.regs = regs{winSize: 1 << windowBits}
	f.useFixed()
}

// useFixed selects the fixed Huffman codes (RFC 1951 §3.2.6).
func (f *Inflater) useFixed() {
	f.litTable, f.dstTable = fixedLit[:], fixedDist[:]
	f.litMax, f.dstMax = 9, 5
}

// Continue starts a new DEFLATE stream after the final block of the last
// one, keeping the window: back-references of the new stream may reach
// into the old one's output. It is for RFC 7692 §7.2.3.4, where a message
// (or a message of a context-takeover connection) may end its blocks with
// BFINAL set and the next bytes begin a new stream. Call it only when Final
// reports true.
func (f *Inflater) Continue() {
	if !f.done {
		return
	}
	f.done, f.final = false, false
	f.state = stHeader
	f.useFixed()
}

// Final reports whether a block with BFINAL set has ended: the stream is
// complete and more input is an error (until Reset or Continue).
func (f *Inflater) Final() bool { return f.done }

// Flushed reports whether the input pushed so far ends exactly after a
// complete block with all of its output written, or after the final block:
// what a permessage-deflate message followed by its 00 00 ff ff must look
// like (RFC 7692 §7.2.1: the flush ends with an empty stored block). A
// message that leaves f mid-block was cut short or is not DEFLATE data.
func (f *Inflater) Flushed() bool {
	return f.done || f.state == stHeader && f.nbits == 0 && !f.broken
}

// Inflate decodes from in into out and returns how many bytes of out it
// filled and of in it consumed. It returns when in is used up (nIn ==
// len(in): a partial symbol or block header is kept inside, a few bytes at
// most), when out is full (nOut == len(out)), or when the final block ends
// (Final reports true; in[nIn:] is not part of the stream). Output is never
// held back: once the input pushed so far is used up and out had room, all
// the output that input determines has been written. It never keeps a
// reference to in or out.
//
// Corrupt input gives an error wrapping ErrCorrupt that names the input
// offset, and every later call fails until Reset. Input pushed after the
// final block is an error too. Call it from the goroutine that owns f; it
// does not allocate (except an error's message).
func (f *Inflater) Inflate(out, in []byte) (nOut, nIn int, err error) {
	if f.broken {
		return 0, 0, &corruptError{f.inOff, "Inflate called again after an error, without Reset"}
	}
	if f.winSize == 0 {
		panic("inflate: Inflate called before Reset")
	}
	if f.done {
		if len(in) > 0 {
			return 0, 0, &corruptError{f.inOff, "data after the final block"}
		}
		return 0, 0, nil
	}
	if len(f.win) < f.winSize {
		if cap(f.win) >= f.winSize {
			f.win = f.win[:f.winSize]
		} else {
			f.win = make([]byte, f.winSize)
		}
	}
	o, i, err := f.run(out, in)
	f.inOff += int64(i)
	f.remember(out[:o])
	if err != nil {
		f.broken = true
	}
	return o, i, err
}

// remember appends p to the window (the history back-references copy from).
func (f *Inflater) remember(p []byte) {
	size := f.winSize
	if len(p) >= size {
		copy(f.win[:size], p[len(p)-size:])
		f.wpos, f.whave = 0, size
		return
	}
	n := copy(f.win[f.wpos:size], p)
	if n < len(p) {
		copy(f.win, p[n:])
	}
	f.wpos += len(p)
	if f.wpos >= size {
		f.wpos -= size
	}
	f.whave = min(f.whave+len(p), size)
}

// corrupt returns the error for the input at in[i] (bytes since this call
// began), the bad thing being what.
func (f *Inflater) corrupt(i int, what string) error {
	return &corruptError{f.inOff + int64(i), what}
}

// need makes sure at least n bits (n <= 56) are buffered, taking bytes from
// in at *i. It reports false if in ran out first.
func (f *Inflater) need(n uint, in []byte, i *int) bool {
	for f.nbits < n {
		if *i >= len(in) {
			return false
		}
		f.bits |= uint64(in[*i]) << f.nbits
		f.nbits += 8
		*i++
	}
	return true
}

// take removes and returns the next n bits; need(n) must have succeeded.
func (f *Inflater) take(n uint) uint32 {
	v := uint32(f.bits & (1<<n - 1))
	f.bits >>= n
	f.nbits -= n
	return v
}

// symbol decodes one symbol with table (whose root has rootBits bits and
// whose longest code has maxBits bits) from
// the buffered bits, taking bytes from in as needed. ok is false if in ran
// out mid-symbol (nothing consumed); err is set for a code the table does
// not have.
func (f *Inflater) symbol(table []uint32, rootBits, maxBits uint, in []byte, i *int) (value uint32, ok bool, err error) {
	for {
		e := table[f.bits&(1<<rootBits-1)]
		if e&linkFlag != 0 {
			e = table[uint(e>>valShift)+uint(f.bits>>rootBits)&(1<<(e&lenMask)-1)]
		}
		n := uint(e & lenMask)
		if n != 0 && n <= f.nbits {
			f.bits >>= n
			f.nbits -= n
			return e >> valShift, true, nil
		}
		if f.nbits >= maxBits {
			return 0, false, f.corrupt(*i, "invalid Huffman code")
		}
		if *i >= len(in) {
			return 0, false, nil
		}
		f.bits |= uint64(in[*i]) << f.nbits
		f.nbits += 8
		*i++
	}
}

// run is Inflate without the window bookkeeping: it returns how much of out
// it wrote and of in it consumed.
func (f *Inflater) run(out, in []byte) (o, i int, err error) {
	for {
		switch f.state {
		case stHeader:
			if !f.need(3, in, &i) {
				return o, i, nil
			}
			f.final = f.take(1) == 1
			switch f.take(2) {
			case 0:
				// §3.2.4: skip to the byte boundary.
				f.take(f.nbits & 7)
				f.state = stStoredLen
			case 1:
				f.useFixed()
				f.state = stSym
			case 2:
				f.state = stDynHeader
			default:
				return o, i, f.corrupt(i, "reserved block type 3")
			}

		case stStoredLen:
			if !f.need(32, in, &i) {
				return o, i, nil
			}
			n := f.take(16)
			if nn := f.take(16); n != ^nn&0xffff {
				return o, i, f.corrupt(i, "stored block LEN and NLEN do not match")
			}
			f.stored = int(n)
			f.state = stStored

		case stStored:
			for f.stored > 0 && f.nbits >= 8 { // bytes already buffered
				if o == len(out) {
					return o, i, nil
				}
				out[o] = byte(f.take(8))
				o++
				f.stored--
			}
			if f.stored > 0 {
				n := copy(out[o:min(len(out), o+f.stored)], in[i:])
				o += n
				i += n
				f.stored -= n
				if f.stored > 0 {
					return o, i, nil
				}
			}
			f.endBlock()

		case stDynHeader:
			if !f.need(14, in, &i) {
				return o, i, nil
			}
			f.hlit = int(f.take(5)) + 257
			f.hdist = int(f.take(5)) + 1
			f.hclen = int(f.take(4)) + 4
			if f.hlit > 286 || f.hdist > 30 {
				return o, i, f.corrupt(i, "too many length or distance codes")
			}
			f.clLens = [19]uint8{}
			f.nlens = 0
			f.state = stCLLens

		case stCLLens:
			for f.nlens < f.hclen {
				if !f.need(3, in, &i) {
					return o, i, nil
				}
				f.clLens[codeLengthOrder[f.nlens]] = uint8(f.take(3))
				f.nlens++
			}
			var ok bool
			f.clMax, ok = build(f.clTable[:], clRootBits, f.clLens[:], clValues[:], &f.scratch)
			if !ok || f.clMax == 0 {
				return o, i, f.corrupt(i, "invalid code length code")
			}
			f.nlens = 0
			f.state = stLens

		case stLens:
			if len(in)-i >= 8 {
				i = f.fastLens(in, i)
			}
			if f.nlens == f.hlit+f.hdist {
				if err := f.buildDynamic(i); err != nil {
					return o, i, err
				}
				f.state = stSym
				continue
			}
			v, ok, err := f.symbol(f.clTable[:], clRootBits, f.clMax, in, &i)
			if err != nil {
				return o, i, err
			}
			if !ok {
				return o, i, nil
			}
			if v < 16 {
				f.lens[f.nlens] = uint8(v)
				f.nlens++
				continue
			}
			if v == 16 && f.nlens == 0 {
				return o, i, f.corrupt(i, "repeat code with no previous length")
			}
			f.repeatSym = int(v)
			f.state = stLensRepeat

		case stLensRepeat:
			var bitsN, base uint
			var val uint8
			switch f.repeatSym {
			case 16:
				bitsN, base, val = 2, 3, f.lens[f.nlens-1]
			case 17:
				bitsN, base = 3, 3
			default:
				bitsN, base = 7, 11
			}
			if !f.need(bitsN, in, &i) {
				return o, i, nil
			}
			n := int(base + uint(f.take(bitsN)))
			if f.nlens+n > f.hlit+f.hdist {
				return o, i, f.corrupt(i, "code lengths repeat past the end")
			}
			for ; n > 0; n-- {
				f.lens[f.nlens] = val
				f.nlens++
			}
			f.state = stLens

		case stSym:
			if o == len(out) {
				return o, i, nil
			}
			if len(in)-i >= 8 && len(out)-o >= maxMatch {
				o, i, err = f.fast(out, in, o, i)
				if err != nil {
					return o, i, err
				}
				if f.state != stSym || o == len(out) {
					continue
				}
			}
			v, ok, err := f.symbol(f.litTable, litRootBits, f.litMax, in, &i)
			if err != nil {
				return o, i, err
			}
			if !ok {
				return o, i, nil
			}
			switch {
			case v < 256:
				out[o] = byte(v)
				o++
			case v == valEndOfBlock:
				f.endBlock()
			case v&valLength != 0:
				f.copyLen = int(v&0xff) + 3
				f.lenExtra = uint(v>>10) & 7
				f.state = stLenExtra
			default:
				return o, i, f.corrupt(i, "invalid literal/length symbol")
			}

		case stLenExtra:
			if !f.need(f.lenExtra, in, &i) {
				return o, i, nil
			}
			f.copyLen += int(f.take(f.lenExtra))
			f.state = stDist

		case stDist:
			if f.dstMax == 0 {
				return o, i, f.corrupt(i, "length with no distance codes")
			}
			v, ok, err := f.symbol(f.dstTable, distRootBits, f.dstMax, in, &i)
			if err != nil {
				return o, i, err
			}
			if !ok {
				return o, i, nil
			}
			if v >= valInvalid {
				return o, i, f.corrupt(i, "invalid distance symbol")
			}
			f.distCode = v
			f.state = stDistExtra

		case stDistExtra:
			extra := uint(f.distCode & 15)
			if !f.need(extra, in, &i) {
				return o, i, nil
			}
			f.copyDist = int(f.distCode>>4) + int(f.take(extra))
			if err := f.checkDist(o, i); err != nil {
				return o, i, err
			}
			f.state = stCopy

		case stCopy:
			o = f.copyMatch(out, o)
			if f.copyLen > 0 {
				return o, i, nil
			}
			f.state = stSym

		case stDone:
			// Whole bytes buffered past the end belong to the caller.
			back := min(int(f.nbits>>3), i)
			i -= back
			f.nbits, f.bits = 0, 0
			return o, i, nil
		}
	}
}

const maxMatch = 258 // longest back-reference (§3.2.5)

// endBlock moves on after a block's end: to the next header, or to the end
// of the stream if the block was final. After the final block the rest of
// its last byte is padding (§3.2.3) and is dropped.
func (f *Inflater) endBlock() {
	f.state = stHeader
	if f.final {
		f.done = true
		f.state = stDone
	}
}

// checkDist reports a back-reference that reaches before the start of the
// stream or beyond the window. o bytes of this call's output precede it.
func (f *Inflater) checkDist(o, i int) error {
	if f.copyDist > f.winSize {
		return f.corrupt(i, "distance beyond the window")
	}
	if f.copyDist > f.whave+o {
		return f.corrupt(i, "distance before the start of the stream")
	}
	return nil
}

// buildDynamic builds the literal/length and distance tables from the code
// lengths of a dynamic block header (§3.2.7).
func (f *Inflater) buildDynamic(i int) error {
	if f.lens[256] == 0 {
		return f.corrupt(i, "no code for end of block")
	}
	var ok bool
	if f.litMax, ok = build(f.dynLit[:], litRootBits, f.lens[:f.hlit], litValues[:], &f.scratch); !ok {
		return f.corrupt(i, "invalid literal/length code lengths")
	}
	if f.dstMax, ok = build(f.dynDist[:], distRootBits, f.lens[f.hlit:f.hlit+f.hdist], distValues[:], &f.scratch); !ok {
		return f.corrupt(i, "invalid distance code lengths")
	}
	f.litTable, f.dstTable = f.dynLit[:], f.dynDist[:]
	return nil
}

// copyMatch copies as much of the back-reference (f.copyLen bytes from
// f.copyDist back) into out[o:] as fits, and returns the new o. The source
// is this call's output when it reaches back no further than o, and the
// window before that (checkDist has vetted the distance).
func (f *Inflater) copyMatch(out []byte, o int) int {
	for f.copyLen > 0 && o < len(out) {
		d := f.copyDist
		if d <= o {
			src := o - d
			end := min(len(out), o+f.copyLen)
			n := end - o
			for o < end { // overlapping copies repeat the pattern (§3.2.3)
				o += copy(out[o:end], out[src:o])
			}
			f.copyLen -= n
			continue
		}
		back := d - o // bytes before the end of the window
		start := f.wpos - back
		if start < 0 {
			start += f.winSize
		}
		n := min(f.copyLen, back, len(out)-o, f.winSize-start)
		copy(out[o:o+n], f.win[start:start+n])
		o += n
		f.copyLen -= n
	}
	return o
}

// fast decodes literal/length and distance sequences while in has at least
// 8 bytes and out room for a longest match, refilling the bit buffer a word
// at a time. It stops at the end of a block (state moves on) or when either
// margin runs out (state stays stSym), and gives back to in the whole bytes
// it buffered but did not use.
func (f *Inflater) fast(out, in []byte, o, i int) (int, int, error) {
	bitsv, nbits := f.bits, f.nbits
	start := i
	lit, dst := f.litTable, f.dstTable
	winSize := f.winSize
	var err error
	for i+8 <= len(in) && o+maxMatch <= len(out) {
		// Refill to at least 56 bits: enough for a length, its extra
		// bits, a distance and its extra bits (15+5+15+13 = 48).
		bitsv |= binary.LittleEndian.Uint64(in[i:]) << nbits
		i += int(63-nbits) >> 3
		nbits |= 56

		e := lit[bitsv&(1<<litRootBits-1)]
		if e&linkFlag != 0 {
			e = lit[uint(e>>valShift)+uint(bitsv>>litRootBits)&(1<<(e&lenMask)-1)]
		}
		n := uint(e & lenMask)
		if n == 0 {
			err = f.corrupt(i, "invalid literal/length code")
			break
		}
		bitsv >>= n
		nbits -= n
		v := e >> valShift
		if v < 256 {
			out[o] = byte(v)
			o++
			continue
		}
		if v == valEndOfBlock {
			f.endBlock()
			break
		}
		if v&valLength == 0 {
			err = f.corrupt(i, "invalid literal/length symbol")
			break
		}
		extra := uint(v>>10) & 7
		length := int(v&0xff) + 3 + int(bitsv&(1<<extra-1))
		bitsv >>= extra
		nbits -= extra

		e = dst[bitsv&(1<<distRootBits-1)]
		if e&linkFlag != 0 {
			e = dst[uint(e>>valShift)+uint(bitsv>>distRootBits)&(1<<(e&lenMask)-1)]
		}
		n = uint(e & lenMask)
		if n == 0 {
			if f.dstMax == 0 {
				err = f.corrupt(i, "length with no distance codes")
			} else {
				err = f.corrupt(i, "invalid distance code")
			}
			break
		}
		bitsv >>= n
		nbits -= n
		v = e >> valShift
		if v >= valInvalid {
			err = f.corrupt(i, "invalid distance symbol")
			break
		}
		extra = uint(v & 15)
		dist := int(v>>4) + int(bitsv&(1<<extra-1))
		bitsv >>= extra
		nbits -= extra

		if dist <= o && dist <= winSize {
			// The common case: the source is in this call's output.
			src := o - dist
			if dist >= length {
				copy(out[o:o+length], out[src:src+length])
				o += length
				continue
			}
			end := o + length
			for o < end { // overlapping: the pattern repeats (§3.2.3)
				o += copy(out[o:end], out[src:o])
			}
			continue
		}
		f.copyLen, f.copyDist = length, dist
		if err = f.checkDist(o, i); err != nil {
			break
		}
		o = f.copyMatch(out, o)
	}
	// Give back whole buffered bytes that came from this call's in.
	back := min(int(nbits>>3), i-start)
	i -= back
	nbits -= uint(back) * 8
	if nbits < 64 {
		bitsv &= 1<<nbits - 1
	}
	f.bits, f.nbits = bitsv, nbits
	return o, i, err
}

// fastLens decodes the code lengths of a dynamic block header (§3.2.7)
// while in has at least 8 bytes, refilling the bit buffer a word at a
// time. It stops at the end of the lengths, or before any symbol that is
// invalid where it stands (a repeat with nothing before it or past the
// end), leaving that to the slow path to report. It returns the new i,
// having given back the whole bytes it buffered but did not use.
func (f *Inflater) fastLens(in []byte, i int) int {
	bitsv, nbits := f.bits, f.nbits
	start := i
	total := f.hlit + f.hdist
	for f.nlens < total && i+8 <= len(in) {
		bitsv |= binary.LittleEndian.Uint64(in[i:]) << nbits
		i += int(63-nbits) >> 3
		nbits |= 56
		// A code length symbol and its extra bits take at most 7+7 bits:
		// four fit in a refill.
		for k := 0; k < 4 && f.nlens < total; k++ {
			e := f.clTable[bitsv&(1<<clRootBits-1)]
			n := uint(e & lenMask)
			if n == 0 {
				total = 0 // an invalid code: the slow path reports it
				break
			}
			v := e >> valShift
			if v < 16 {
				bitsv >>= n
				nbits -= n
				f.lens[f.nlens] = uint8(v)
				f.nlens++
				continue
			}
			var extra, base uint
			var val uint8
			switch v {
			case 16:
				if f.nlens == 0 {
					total = 0
					continue
				}
				extra, base, val = 2, 3, f.lens[f.nlens-1]
			case 17:
				extra, base = 3, 3
			default:
				extra, base = 7, 11
			}
			count := int(base + uint(bitsv>>n)&(1<<extra-1))
			if f.nlens+count > f.hlit+f.hdist {
				total = 0
				continue
			}
			bitsv >>= n + extra
			nbits -= n + extra
			for ; count > 0; count-- {
				f.lens[f.nlens] = val
				f.nlens++
			}
		}
	}
	back := min(int(nbits>>3), i-start)
	i -= back
	nbits -= uint(back) * 8
	bitsv &= 1<<nbits - 1
	f.bits, f.nbits = bitsv, nbits
	return i
}
