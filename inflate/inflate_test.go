package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMatchesStdlib decodes what compress/flate writes (every level, with
// and without sync flushes inside) and compares with the original, fed in
// one piece, in random pieces, and with out buffers down to one byte.
func TestMatchesStdlib(t *testing.T) {
	levels := []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 2, 3, 4, 5, flate.DefaultCompression, 7, 8, flate.BestCompression}
	var f Inflater
	for _, s := range samples() {
		for _, level := range levels {
			for _, flushEvery := range []int{0, 1000} {
				stream := compress(t, s.data, level, flushEvery)
				name := fmt.Sprintf("%s/level%d/flush%d", s.name, level, flushEvery)
				t.Run(name, func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(len(stream)), uint64(level+10)))
					for _, outSize := range []int{1, 7, 300, 64 << 10} {
						if outSize == 1 && len(s.data) > 20000 || outSize < 300 && testing.Short() {
							continue // slow at one byte per call; small outs run on the smaller samples
						}
						for trial := 0; trial < 3; trial++ {
							if outSize < 300 && len(s.data) > 20000 && trial != 2 {
								continue // one trial, in many pieces, is enough at 7 bytes a call
							}
							cuts := randomCuts(r, len(stream), trial)
							got, err := push(t, &f, 15, stream, cuts, outSize)
							if err != nil || !bytes.Equal(got, s.data) {
								t.Fatalf("out %d, cuts %v: got %d bytes (equal %v), %v; want %d bytes", outSize, short(cuts), len(got), bytes.Equal(got, s.data), err, len(s.data))
							}
							if !f.Final() {
								t.Fatalf("out %d: Final() = false after a closed stream", outSize)
							}
						}
					}
				})
			}
		}
	}
}

// randomCuts returns split points for stream: none, a few, or many.
func randomCuts(r *rand.Rand, n, trial int) []int {
	var pieces int
	switch trial {
	case 0:
		return nil
	case 1:
		pieces = 3
	default:
		pieces = max(1, n/50)
	}
	if n < 2 {
		return nil
	}
	cuts := make([]int, pieces)
	for i := range cuts {
		cuts[i] = 1 + r.IntN(n-1)
	}
	sortInts(cuts)
	return cuts
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func short(cuts []int) string {
	if len(cuts) > 6 {
		return fmt.Sprintf("%v... (%d cuts)", cuts[:6], len(cuts))
	}
	return fmt.Sprint(cuts)
}

// TestSplitEverywhere replays small streams split in two at every byte,
// and one byte at a time, with out of one byte and of plenty.
func TestSplitEverywhere(t *testing.T) {
	var f Inflater
	inputs := []sample{
		{"hello", []byte("Hello")},
		{"json1k", jsonText(1024, 5)},
		{"repetitive", repetitive(1200)},
		{"random300", randomBytes(300, 6)},
	}
	for _, s := range inputs {
		for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.HuffmanOnly} {
			stream := compress(t, s.data, level, 400)
			t.Run(fmt.Sprintf("%s/level%d", s.name, level), func(t *testing.T) {
				for _, outSize := range []int{1, 1 << 16} {
					for cut := 0; cut <= len(stream); cut++ {
						got, err := push(t, &f, 15, stream, []int{cut}, outSize)
						if err != nil || !bytes.Equal(got, s.data) {
							t.Fatalf("out %d, cut at %d: got %d bytes, %v; want %d bytes", outSize, cut, len(got), err, len(s.data))
						}
					}
					every := make([]int, len(stream))
					for i := range every {
						every[i] = i
					}
					got, err := push(t, &f, 15, stream, every, outSize)
					if err != nil || !bytes.Equal(got, s.data) {
						t.Fatalf("out %d, one byte at a time: got %d bytes, %v; want %d bytes", outSize, len(got), err, len(s.data))
					}
				}
			})
		}
	}
}

// TestWindowBits decodes streams whose back-references stay within
// 1<<windowBits bytes (RFC 7692 client_max_window_bits), with an Inflater
// reset to that window, split into random pieces.
func TestWindowBits(t *testing.T) {
	var f Inflater
	data := append(jsonText(40000, 7), repetitive(30000)...)
	for wb := 8; wb <= 15; wb++ {
		stream := compressWindow(t, data, wb)
		t.Run(fmt.Sprint(wb), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(wb), 9))
			for trial := 0; trial < 3; trial++ {
				for _, outSize := range []int{5, 1000, 1 << 16} {
					got, err := push(t, &f, wb, stream, randomCuts(r, len(stream), trial), outSize)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("out %d: got %d bytes, %v; want %d", outSize, len(got), err, len(data))
					}
				}
			}
		})
	}
}

// TestWindowTooSmall: a stream that refers 32 KiB back is corrupt for an
// Inflater told the window is 256 bytes, whatever the out size.
func TestWindowTooSmall(t *testing.T) {
	data := append(randomBytes(20000, 11), randomBytes(20000, 11)...) // second half = first: distance 20000
	stream := compress(t, data, flate.BestSpeed, 0)
	var f Inflater
	for _, outSize := range []int{1, 1000, 1 << 20} {
		_, err := push(t, &f, 8, stream, nil, outSize)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("out %d: err = %v; want ErrCorrupt (distance beyond the window)", outSize, err)
		}
	}
	got, err := push(t, &f, 15, stream, nil, 1000)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("window 15: got %d bytes, %v", len(got), err)
	}
}

// TestSyncFlushEmitsEverything: after the bytes up to a sync flush
// (RFC 7692 §7.2.1) have been pushed, everything written before the flush
// has come out, with nothing held back for more input.
func TestSyncFlushEmitsEverything(t *testing.T) {
	data := jsonText(20000, 12)
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	var flushAt []int // stream offsets of each flush's end
	var wantAt []int  // data written by then
	for off := 0; off < len(data); off += 3001 {
		w.Write(data[off:min(len(data), off+3001)])
		w.Flush()
		flushAt = append(flushAt, b.Len())
		wantAt = append(wantAt, min(len(data), off+3001))
	}
	stream := b.Bytes()
	var f Inflater
	f.Reset(15)
	out := make([]byte, 1<<16)
	var got []byte
	prev := 0
	for k, end := range flushAt {
		// Push the flushed segment in small pieces.
		for i := prev; i < end; i += 7 {
			in := stream[i:min(end, i+7)]
			for len(in) > 0 {
				nOut, nIn, err := f.Inflate(out, in)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, out[:nOut]...)
				in = in[nIn:]
			}
		}
		prev = end
		if len(got) != wantAt[k] || !bytes.Equal(got, data[:wantAt[k]]) {
			t.Fatalf("after flush %d: have %d bytes out; want %d", k, len(got), wantAt[k])
		}
	}
}

// TestContextTakeover plays permessage-deflate with context takeover: one
// compressor for several messages, each ending with a sync flush whose
// 00 00 ff ff is stripped by the sender and appended by the receiver
// (RFC 7692 §7.2.1, §7.2.2); one Inflater, not Reset between messages,
// decodes each whole, with back-references into earlier messages.
func TestContextTakeover(t *testing.T) {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	var f Inflater
	f.Reset(15)
	out := make([]byte, 100)
	tail := []byte{0, 0, 0xff, 0xff}
	for m := 0; m < 6; m++ {
		msg := jsonText(500+m*700, 3) // each message repeats the start of the last
		b.Reset()
		w.Write(msg)
		w.Flush()
		payload := b.Bytes()
		if !bytes.HasSuffix(payload, tail) {
			t.Fatalf("message %d: flush did not end with 00 00 ff ff", m)
		}
		payload = payload[:len(payload)-4]
		var got []byte
		for _, in := range [][]byte{payload, tail} {
			for len(in) > 0 {
				nOut, nIn, err := f.Inflate(out, in)
				if err != nil {
					t.Fatalf("message %d: %v", m, err)
				}
				got = append(got, out[:nOut]...)
				in = in[nIn:]
			}
		}
		// Drain: out may have been full when the input ran out.
		for {
			nOut, _, err := f.Inflate(out, nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out[:nOut]...)
			if nOut < len(out) {
				break
			}
		}
		if !bytes.Equal(got, msg) || !f.Flushed() {
			t.Fatalf("message %d: got %d bytes, Flushed %v; want %d, true", m, len(got), f.Flushed(), len(msg))
		}
	}
}

// TestRFC7692Examples decodes the payloads of RFC 7692 §7.2.3, each with
// the 00 00 ff ff a receiver appends.
func TestRFC7692Examples(t *testing.T) {
	tail := []byte{0x00, 0x00, 0xff, 0xff}
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"7.2.3.1 Hello", []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, "Hello"},
		{"7.2.3.2 no compression", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, "Hello"},
		{"7.2.3.3 empty block", []byte{0x00}, ""},
		{"7.2.3.5 two blocks", []byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}, "Hello"},
	}
	for _, tt := range tests {
		stream := append(append([]byte(nil), tt.payload...), tail...)
		for cut := 0; cut <= len(stream); cut++ {
			var f Inflater
			got, err := push(t, &f, 15, stream, []int{cut}, 64)
			if err != nil || string(got) != tt.want || !f.Flushed() {
				t.Errorf("%s cut at %d: got %q, %v, Flushed %v; want %q, true", tt.name, cut, got, err, f.Flushed(), tt.want)
			}
		}
		// The payload without the tail stops inside a block header.
		var f Inflater
		push(t, &f, 15, tt.payload, nil, 64)
		if f.Flushed() {
			t.Errorf("%s: Flushed() = true without the 00 00 ff ff", tt.name)
		}
	}

	// 7.2.3.1: a second "Hello" with the window shared refers to the first.
	var f Inflater
	f.Reset(15)
	out := make([]byte, 64)
	var got []byte
	for _, in := range [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, tail, {0xf2, 0x00, 0x11, 0x00, 0x00}, tail} {
		nOut, nIn, err := f.Inflate(out, in)
		if err != nil || nIn != len(in) {
			t.Fatalf("shared window: nIn=%d of %d, %v", nIn, len(in), err)
		}
		got = append(got, out[:nOut]...)
	}
	if string(got) != "HelloHello" {
		t.Fatalf("shared window: got %q; want %q", got, "HelloHello")
	}
}

// TestFinalThenContinue: §7.2.3.4's message ends its DEFLATE block with
// BFINAL set; Inflate stops after it, Final reports it, more input is an
// error, and Continue decodes the next stream with the window kept.
func TestFinalThenContinue(t *testing.T) {
	payload := []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff}
	var f Inflater
	f.Reset(15)
	out := make([]byte, 64)
	nOut, nIn, err := f.Inflate(out, payload)
	if err != nil || string(out[:nOut]) != "Hello" || nIn != 7 || !f.Final() {
		t.Fatalf("Inflate = %q, %d, %v, Final %v; want \"Hello\", 7, nil, true", out[:nOut], nIn, err, f.Final())
	}
	if _, _, err := f.Inflate(out, payload[nIn:]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Inflate after the final block: err = %v; want ErrCorrupt", err)
	}
	if n, m, err := f.Inflate(out, nil); n != 0 || m != 0 || err != nil {
		t.Fatalf("Inflate(nil) after the final block = %d, %d, %v; want 0, 0, nil", n, m, err)
	}
	f.Continue()
	nOut, nIn2, err := f.Inflate(out, payload[nIn:])
	if err != nil || nOut != 0 || nIn2 != len(payload)-nIn || f.Final() {
		t.Fatalf("after Continue: %d, %d, %v, Final %v", nOut, nIn2, err, f.Final())
	}
	// The window survived: "Hello" again as a back-reference (distance 5).
	again := []byte{0xf2, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff}
	nOut, _, err = f.Inflate(out, again)
	if err != nil || string(out[:nOut]) != "Hello" {
		t.Fatalf("back-reference across Continue: %q, %v", out[:nOut], err)
	}
}

// TestBomb: 16 MiB of zeros compresses to about 16 KiB; the caller takes
// output 4 KiB at a time and stops after 4 MiB, having pushed only part of
// the input, and nothing was allocated.
func TestBomb(t *testing.T) {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 16; i++ {
		w.Write(zeros)
	}
	w.Close()
	stream := b.Bytes()
	var f Inflater
	f.Reset(15)
	out := make([]byte, 4096)
	total, pushed := 0, 0
	in := stream
	allocs := testing.AllocsPerRun(1, func() {
		for total < 4<<20 {
			nOut, nIn, err := f.Inflate(out, in)
			if err != nil {
				t.Fatal(err)
			}
			total += nOut
			pushed += nIn
			in = in[nIn:]
		}
	})
	if allocs != 0 {
		t.Errorf("bomb: %v allocations", allocs)
	}
	if pushed > len(stream)/2 {
		t.Errorf("consumed %d of %d input bytes for 4 MiB out; want about a quarter", pushed, len(stream))
	}
	t.Logf("4 MiB out from %d input bytes (stream %d bytes for 16 MiB)", pushed, len(stream))
}
