package protocol

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/inflate"
)

// Tests of the compressed echo (RFC 7692 §6, §7.2) on a fake transport.

// dfConfig is testConfig with permessage-deflate on and every message
// compressed.
func dfConfig() Config {
	cfg := testConfig()
	cfg.Deflate.Enabled = true
	cfg.Deflate.MinSize = 0
	return cfg
}

// dfOpen opens a connection that offers permessage-deflate with offer
// and checks the answer contains want.
func dfOpen(t testing.TB, cfg Config, offer, want string) *harness {
	t.Helper()
	h := newHarness(t, cfg, nil)
	h.feed([]byte(hsStd("Sec-WebSocket-Extensions: " + offer)))
	if got := string(h.tr.out); !strings.Contains(got, "\r\nSec-WebSocket-Extensions: "+want+"\r\n") || !strings.HasSuffix(got, "\r\n\r\n") {
		t.Fatalf("answer to %q:\n%s\nwant Sec-WebSocket-Extensions: %s", offer, got, want)
	}
	h.tr.out = h.tr.out[:0]
	return h
}

// dfCompress compresses data as a client would (RFC 7692 §7.2.1): a sync
// flush with its 00 00 ff ff removed.
func dfCompress(data []byte, level int) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, level)
	w.Write(data)
	w.Flush()
	out := b.Bytes()
	return out[:len(out)-4]
}

// dfFrames cuts a compressed message's payload into n frames (n >= 1):
// RSV1 on the first only.
func dfFrames(op frame.Opcode, payload []byte, n int) []byte {
	var out []byte
	step := max(len(payload)/n, 1)
	for i := 0; i < n; i++ {
		lo, hi := min(i*step, len(payload)), min((i+1)*step, len(payload))
		if i == n-1 {
			hi = len(payload)
		}
		fop := op
		if i > 0 {
			fop = frame.OpContinuation
		}
		f := cf(i == n-1, fop, payload[lo:hi])
		if i == 0 {
			f[0] |= rsv1
		}
		out = append(out, f...)
	}
	return out
}

// dfOutput is what the server wrote, messages inflated.
type dfOutput struct {
	msgs       []message
	compressed []bool // per message: RSV1 was set
	closed     bool
	code       frame.CloseCode
	reason     string
	problems   []string
}

// dfParse reads the server's frames, inflating each compressed message
// on its own (no context takeover) with compress/flate; takeover inflates
// them as one stream.
func dfParse(b []byte, takeover bool) dfOutput {
	var o dfOutput
	var cur []byte
	var curOp frame.Opcode
	var comp bool
	var stream []byte // everything compressed so far (takeover)
	var seen int      // inflated bytes of stream already delivered
	for len(b) > 0 {
		if len(b) < 2 {
			o.problems = append(o.problems, "truncated header")
			break
		}
		fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, frame.Opcode(b[0]&0x0f)
		n, hl := uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hl = uint64(b[2])<<8|uint64(b[3]), 4
		case 127:
			n, hl = 0, 10
			for _, c := range b[2:10] {
				n = n<<8 | uint64(c)
			}
		}
		if uint64(len(b)-hl) < n {
			o.problems = append(o.problems, "truncated frame")
			break
		}
		p := b[hl : hl+int(n)]
		b = b[hl+int(n):]
		if rsv&^rsv1 != 0 || (rsv != 0 && (op == frame.OpContinuation || op.IsControl())) {
			o.problems = append(o.problems, fmt.Sprintf("RSV %#x on %v", rsv, op))
		}
		switch op {
		case frame.OpClose:
			o.closed = true
			if len(p) >= 2 {
				o.code, o.reason = frame.CloseCode(p[0])<<8|frame.CloseCode(p[1]), string(p[2:])
			}
			continue
		case frame.OpText, frame.OpBinary:
			curOp, cur, comp = op, nil, rsv != 0
		}
		if op.IsControl() {
			continue
		}
		cur = append(cur, p...)
		if !fin {
			continue
		}
		data := cur
		if comp {
			in := append(append([]byte(nil), data...), syncTail[:]...)
			if takeover {
				stream = append(stream, in...)
				in = stream
			}
			all, err := io.ReadAll(flate.NewReader(bytes.NewReader(in)))
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				o.problems = append(o.problems, "inflate: "+err.Error())
			}
			if takeover {
				all, seen = all[seen:], len(all)
			}
			data = all
		}
		o.msgs = append(o.msgs, message{curOp, string(data)})
		o.compressed = append(o.compressed, comp)
	}
	return o
}

// dfText is JSON-like text of n bytes.
func dfText(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user%d","tags":["a","b%d"]},`, i, i*7, i%11)
	}
	return b.Bytes()[:n]
}

// TestDeflateEcho: compressed messages of 0 B to 128 KiB, text and
// binary, whole or in 1 to 7 frames, fed whole or split, come back
// compressed and byte-exact, under each takeover and window combination.
func TestDeflateEcho(t *testing.T) {
	sizes := []int{0, 1, 16, 64, 125, 126, 1000, 4 << 10, 64<<10 + 3, 128 << 10}
	nframes := []int{1, 3, 7}
	if testing.Short() || raceEnabled {
		sizes, nframes = []int{0, 1, 126, 4<<10 + 1, 128 << 10}, []int{1, 7}
	}
	offers := []struct{ offer, want string }{
		{"permessage-deflate", noCx},
		{"permessage-deflate; client_max_window_bits", noCx},
		{"permessage-deflate; server_max_window_bits=9", noCx + "; server_max_window_bits=9"},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=15", noCx + "; server_max_window_bits=15"},
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, o := range offers {
		for _, size := range sizes {
			for _, nframes := range nframes {
				for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
					data := dfText(size)
					if op == frame.OpBinary {
						data = make([]byte, size)
						for i := range data {
							data[i] = byte(rnd.IntN(4)) // compressible, not text
						}
					}
					in := dfFrames(op, dfCompress(data, 6), nframes)
					for _, chunk := range []int{len(in), 1 + len(in)/3, 7} {
						if chunk < 1 {
							chunk = 1
						}
						if chunk == 7 && size > 4<<10 {
							continue
						}
						h := dfOpen(t, dfConfig(), o.offer, o.want)
						h.feedChunks(cat(in, in), chunk)
						got := dfParse(h.tr.out, false)
						name := fmt.Sprintf("%s/%v/%d B/%d frames/chunks of %d", o.offer, op, size, nframes, chunk)
						if len(got.problems) > 0 || got.closed || len(got.msgs) != 2 {
							t.Fatalf("%s: %d messages, closed %v %d %q, problems %q", name, len(got.msgs), got.closed, got.code, got.reason, got.problems)
						}
						for i, m := range got.msgs {
							if m.op != op || m.data != string(data) {
								t.Fatalf("%s: message %d is %v of %d bytes; want %v of %d", name, i, m.op, len(m.data), op, len(data))
							}
							if !got.compressed[i] && size > 0 {
								t.Fatalf("%s: echo %d not compressed", name, i)
							}
						}
						h.endClean()
					}
				}
			}
		}
	}
}

// TestDeflateTakeover: with -deflate-context-takeover and an offer that
// allows it, the windows carry over between messages both ways.
func TestDeflateTakeover(t *testing.T) {
	cfg := dfConfig()
	cfg.Deflate.ContextTakeover = true
	h := dfOpen(t, cfg, "permessage-deflate", "permessage-deflate")
	// The client's messages form one stream.
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 6)
	var in []byte
	var want []string
	for i := 0; i < 5; i++ {
		msg := dfText(300 + i)
		want = append(want, string(msg))
		b.Reset()
		w.Write(msg)
		w.Flush()
		in = append(in, dfFrames(frame.OpText, b.Bytes()[:b.Len()-4], 1+i%2)...)
	}
	for size := 1; size <= len(in); size += 1 + size/4 {
		h2 := dfOpen(t, cfg, "permessage-deflate", "permessage-deflate")
		h2.feedChunks(in, size)
		got := dfParse(h2.tr.out, true)
		if len(got.problems) > 0 || got.closed || len(got.msgs) != len(want) {
			t.Fatalf("chunks of %d: %d messages, closed %v %d %q, problems %q", size, len(got.msgs), got.closed, got.code, got.reason, got.problems)
		}
		for i, m := range got.msgs {
			if m.data != want[i] {
				t.Fatalf("chunks of %d: message %d is %q; want %q", size, i, m.data, want[i])
			}
		}
		if h2.c.zr == nil {
			t.Fatalf("takeover: the connection dropped its state between messages")
		}
		h2.endClean()
	}
	h.lost()
}

// TestDeflateIdleHoldsNothing: without context takeover a connection
// holds no compression state between messages, nor while it receives an
// uncompressed one.
func TestDeflateIdleHoldsNothing(t *testing.T) {
	h := dfOpen(t, dfConfig(), "permessage-deflate", noCx)
	msg := dfFrames(frame.OpText, dfCompress(dfText(5000), 6), 3)
	h.feed(msg[:100])
	if h.c.zr == nil {
		t.Fatalf("no decompressor while a compressed message arrives")
	}
	h.feed(msg[100:])
	if h.c.zr != nil {
		t.Fatalf("decompressor kept after the message")
	}
	h.feed(text("plain"))
	if got := dfParse(h.tr.out, false); len(got.msgs) != 2 || got.msgs[1].data != "plain" {
		t.Fatalf("echoes %+v", got)
	}
	if h.c.zr != nil {
		t.Fatalf("state held after a plain message")
	}
	h.endClean()
}

// TestDeflateBFINAL: RFC 7692 §7.2.3.4's example, "Hello" in a block with
// BFINAL set followed by the empty header of a new stream, and the same
// without that byte, inflate to "Hello"; so do 3 such streams in one message.
func TestDeflateBFINAL(t *testing.T) {
	cfg := dfConfig()
	h := dfOpen(t, cfg, "permessage-deflate", noCx)
	final := []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	h.feed(cat(dfFrames(frame.OpText, append(final, 0x00), 1), dfFrames(frame.OpText, final, 1),
		dfFrames(frame.OpText, cat(final, final, final), 2)))
	got := dfParse(h.tr.out, false)
	if len(got.msgs) != 3 || got.msgs[0].data != "Hello" || got.msgs[1].data != "Hello" || got.msgs[2].data != "HelloHelloHello" || got.closed {
		t.Fatalf("got %+v", got)
	}
	h.endClean()
}

// TestDeflateMinSize: whole messages under MinSize go back uncompressed,
// longer or fragmented ones compressed; RSV1 is per message.
func TestDeflateMinSize(t *testing.T) {
	cfg := dfConfig()
	cfg.Deflate.MinSize = 64
	h := dfOpen(t, cfg, "permessage-deflate", noCx)
	short, long := dfText(63), dfText(64)
	h.feed(cat(dfFrames(frame.OpText, dfCompress(short, 6), 1), dfFrames(frame.OpText, dfCompress(long, 6), 1), text(string(long))))
	got := dfParse(h.tr.out, false)
	if len(got.msgs) != 3 || got.compressed[0] || !got.compressed[1] || !got.compressed[2] || got.msgs[0].data != string(short) || got.msgs[2].data != string(long) {
		t.Fatalf("got %+v", got)
	}
	h.endClean()
}

// TestDeflateBadInput: RSV1 where RFC 7692 §6 does not allow it fails the
// connection with 1002; a payload that does not inflate with 1007; a
// message inflating past MaxMessageSize with 1009, however small its
// compressed form.
func TestDeflateBadInput(t *testing.T) {
	comp := dfCompress(dfText(100), 6)
	cont := cf(true, frame.OpContinuation, comp)
	cont[0] |= rsv1
	pingRSV := ping("x")
	pingRSV[0] |= rsv1
	rsv2 := dfFrames(frame.OpText, comp, 1)
	rsv2[0] |= 0x20
	bomb := dfCompress(make([]byte, 1<<20+1), 9) // inflates to MaxMessageSize + 1
	for _, c := range []struct {
		name   string
		offer  bool
		in     []byte
		code   frame.CloseCode
		reason string
	}{
		{"RSV1 not negotiated", false, dfFrames(frame.OpText, comp, 1), frame.CloseProtocolError, "reserved bits"},
		{"RSV1 on continuation", true, cat(cf(false, frame.OpText, []byte("a")), cont), frame.CloseProtocolError, "reserved bits"},
		{"RSV1 on second frame of compressed", true, func() []byte {
			f := dfFrames(frame.OpText, comp, 2)
			f[2+4+len(comp)/2] |= rsv1 // the second frame's first byte
			return f
		}(), frame.CloseProtocolError, "reserved bits"},
		{"RSV1 on ping", true, pingRSV, frame.CloseProtocolError, "reserved bits"},
		{"RSV2", true, rsv2, frame.CloseProtocolError, "reserved bits"},
		{"not deflate", true, dfFrames(frame.OpBinary, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, 1), frame.CloseInvalidPayload, "does not inflate"},
		{"bad block type", true, dfFrames(frame.OpBinary, []byte{0x07, 0x00}, 1), frame.CloseInvalidPayload, "does not inflate"},
		{"garbage after final block", true, dfFrames(frame.OpBinary, []byte{0x03, 0x00, 0x01, 0x02}, 1), frame.CloseInvalidPayload, "does not inflate"},
		{"invalid UTF-8 inside", true, dfFrames(frame.OpText, dfCompress([]byte("ab\xffcd"), 6), 1), frame.CloseInvalidPayload, "UTF-8"},
		{"bomb", true, dfFrames(frame.OpBinary, bomb, 1), frame.CloseTooBig, "too big"},
	} {
		cfg := dfConfig()
		cfg.MaxMessageSize = 1 << 20
		var h *harness
		if c.offer {
			h = dfOpen(t, cfg, "permessage-deflate", noCx)
		} else {
			h = newHarness(t, cfg, nil).open()
		}
		h.feed(c.in)
		got := dfParse(h.tr.out, false)
		if !got.closed || got.code != c.code || !strings.Contains(got.reason, c.reason) {
			t.Errorf("%s: closed %v with %d %q; want %d %q", c.name, got.closed, got.code, got.reason, c.code, c.reason)
		}
		var echoed int
		for _, m := range got.msgs {
			echoed += len(m.data)
		}
		if c.name == "bomb" && echoed > 1<<20 {
			t.Errorf("bomb: %d bytes echoed before the close", echoed)
		}
		h.lost()
		if h.c.zr != nil {
			t.Errorf("%s: state held after the connection was lost", c.name)
		}
	}
}

// TestDeflateZeroAlloc: the compressed echo allocates nothing per message
// once the pools are warm.
func TestDeflateZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		for _, takeover := range []bool{false, true} {
			cfg := dfConfig()
			cfg.Deflate.ContextTakeover = takeover
			h := dfOpen(t, cfg, "permessage-deflate", map[bool]string{false: noCx, true: pmd}[takeover])
			h.tr.discard = true
			h.c.h = Echo()
			// Each compressed message is a stream of its own, which is
			// valid under takeover too (the server keeps its window);
			// the uncompressed one is echoed compressed.
			in := cat(dfFrames(frame.OpText, dfCompress(dfText(size), 6), 2), text(string(dfText(size))))
			buf := make([]byte, len(in))
			run := func() {
				copy(buf, in)
				h.c.DataReceived(buf)
			}
			run()
			run()
			if n := testing.AllocsPerRun(100, run); n != 0 {
				t.Errorf("%d B, takeover %v: %v allocations per message; want 0", size, takeover, n)
			}
			if h.tr.lost {
				t.Fatalf("%d B, takeover %v: connection closed", size, takeover)
			}
			h.endClean()
		}
	}
}

// BenchmarkDeflateEcho: one read holding one compressed text message of
// JSON-like text (compressed by the client at level 6), inflated,
// validated, compressed again at each level and echoed; "plain" is the
// same text uncompressed both ways, for comparison. Bytes per op are the
// message's inflated size; wire-B/op is the size of the echo's frame.
func BenchmarkDeflateEcho(b *testing.B) {
	for _, size := range []int{64, 128, 256, 512, 1 << 10, 16 << 10, 64 << 10} {
		data := dfText(size)
		for _, mode := range []string{"plain", "level1", "level6", "level9"} {
			b.Run(sizeName(size)+"/"+mode, func(b *testing.B) {
				cfg := dfConfig()
				in := text(string(data))
				var h *harness
				if mode == "plain" {
					h = openDiscard(b, cfg)
				} else {
					cfg.Deflate.Level = int(mode[5] - '0')
					h = dfOpen(b, cfg, "permessage-deflate", noCx)
					h.tr.discard = true
					h.c.h = Echo()
					in = dfFrames(frame.OpText, dfCompress(data, 6), 1)
				}
				feedEach(b, h, in, size)
				if h.tr.lost {
					b.Fatal("connection closed")
				}
				b.ReportMetric(float64(h.tr.nbytes)/float64(b.N), "wire-B/op")
			})
		}
	}
}

// TestDeflateStreamHuge: with MaxMessageSize 0 a huge compressed message
// (1 GiB inflated; 16 MiB with -short or -race) is inflated, echoed
// compressed and byte-exact while it arrives, and the connection's memory
// does not grow with it. The client compresses each 64 KiB fragment with a
// fresh compressor (valid after a sync flush, see deflate_write.go), so
// one compressed fragment is replayed; the echo is inflated as it is
// written with the inflate package and checksummed.
func TestDeflateStreamHuge(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() || raceEnabled {
		size = 16 << 20
	}
	cfg := dfConfig()
	cfg.MaxMessageSize = 0
	h := dfOpen(t, cfg, "permessage-deflate", noCx)

	var dec frame.Decoder
	var inf inflate.Inflater
	inf.Reset(15)
	var echoed int64
	var fins int
	var sum uint32
	out := make([]byte, 64<<10)
	h.tr.sink = func(p []byte) {
		for len(p) > 0 {
			ev, n, err := dec.Next(p)
			if err != nil {
				t.Fatal(err)
			}
			p = p[n:]
			switch {
			case ev.Kind == frame.KindHeader && ev.Header.Fin:
				fins++
			case ev.Kind == frame.KindPayload:
				for in := ev.Data; len(in) > 0; {
					nOut, nIn, err := inf.Inflate(out, in)
					if err != nil {
						t.Fatalf("echo does not inflate: %v", err)
					}
					in = in[nIn:]
					echoed += int64(nOut)
					sum = crc32.Update(sum, crc32.IEEETable, out[:nOut])
				}
			}
		}
	}
	const chunk = 64 << 10
	pattern := dfText(chunk)
	comp := dfCompress(pattern, 1)
	comp = append(comp, syncTail[:]...) // mid-message: the sync flush stays
	var want uint32
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	buf := make([]byte, 0, len(comp)+16)
	for sent := int64(0); sent < size; sent += chunk {
		op := frame.OpContinuation
		if sent == 0 {
			op = frame.OpText
		}
		buf = frame.AppendMaskedFrame(buf[:0], false, op, testKey, comp)
		if sent == 0 {
			buf[0] |= rsv1
		}
		want = crc32.Update(want, crc32.IEEETable, pattern)
		h.c.DataReceived(buf)
	}
	h.c.DataReceived(cf(true, frame.OpContinuation, nil)) // the stream's end: 00 00 ff ff is the receiver's
	runtime.GC()
	runtime.ReadMemStats(&after)
	if echoed != size || sum != want || fins != 1 {
		t.Fatalf("echoed %d bytes inflated (crc %08x, %d FIN); want %d bytes (crc %08x), one FIN", echoed, sum, fins, size, want)
	}
	if h.tr.lost || h.tr.aborted {
		t.Fatal("connection closed")
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 1<<20 {
		t.Errorf("heap in use grew by %d bytes streaming %d; want < 1 MiB", grew, size)
	}
	t.Logf("%d MiB inflated, echoed compressed in %d bytes on the wire", size>>20, h.tr.nbytes)
	h.endClean()
}

// TestDeflateBudgetHeld: the memory budget counts a decompressor while a
// compressed message is arriving, and nothing once it is done; with
// context takeover, the decompressor and compressor the connection keeps.
func TestDeflateBudgetHeld(t *testing.T) {
	cfg := dfConfig()
	cfg.MemoryBudget = 64 << 20
	h := dfOpen(t, cfg, "permessage-deflate", noCx)
	msg := dfFrames(frame.OpText, dfCompress(dfText(5000), 6), 3)
	h.feed(msg[:100])
	if got := h.c.heldNow(0); got < zStateHeld {
		t.Errorf("mid-message: heldNow = %d; want at least %d", got, zStateHeld)
	}
	h.feed(msg[100:])
	if got := h.c.heldNow(0); got != 0 {
		t.Errorf("after the message: heldNow = %d; want 0", got)
	}
	h.endClean()

	cfg.Deflate.ContextTakeover = true
	h = dfOpen(t, cfg, "permessage-deflate", pmd)
	h.feed(msg)
	if got := h.c.heldNow(0); got != zStateHeld+zWriterHeld {
		t.Errorf("takeover, after a message: heldNow = %d; want %d", got, zStateHeld+zWriterHeld)
	}
	h.lost()
}

// FuzzDeflateConn feeds arbitrary payloads as compressed messages (RSV1,
// in 1 to 4 frames, fed in chunks of a fuzz-chosen size) to a connection
// that negotiated permessage-deflate, and checks against compress/flate:
// when the payload (with 00 00 ff ff appended) inflates, the echo
// inflates to the same bytes (text: when it is UTF-8); when it does not,
// the connection is failed with 1007; never a panic or another outcome.
func FuzzDeflateConn(f *testing.F) {
	f.Add(dfCompress(dfText(300), 6), false, uint8(1), uint16(7))
	f.Add(dfCompress(make([]byte, 5000), 1), true, uint8(3), uint16(100))
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, false, uint8(1), uint16(3))
	f.Add([]byte{0xff, 0xff}, true, uint8(2), uint16(1))
	f.Fuzz(func(t *testing.T, payload []byte, binary bool, nframes uint8, chunk uint16) {
		if len(payload) > 4<<10 {
			return
		}
		op := frame.OpText
		if binary {
			op = frame.OpBinary
		}
		cfg := dfConfig()
		cfg.MaxMessageSize = 1 << 20
		h := dfOpen(t, cfg, "permessage-deflate", noCx)
		h.feedChunks(dfFrames(op, payload, 1+int(nframes)%4), 1+int(chunk)%(len(payload)+20))
		got := dfParse(h.tr.out, false)

		want, err := io.ReadAll(flate.NewReader(bytes.NewReader(append(append([]byte(nil), payload...), syncTail[:]...))))
		// clean: compress/flate used the whole stream without meeting
		// BFINAL (after BFINAL it ignores the rest, which the server
		// takes as a new stream, RFC 7692 §7.2.3.4). Our decoder is
		// stricter than compress/flate where zlib is (a dynamic block
		// with no end-of-block code, say), so a 1007 is only checked for
		// its reason.
		clean := errors.Is(err, io.ErrUnexpectedEOF)
		var corrupt flate.CorruptInputError
		rejected := errors.As(err, &corrupt)
		if len(got.problems) > 0 {
			t.Fatalf("payload %x: output problems %q", payload, got.problems)
		}
		switch {
		case got.closed && got.code == frame.CloseInvalidPayload:
			if !strings.Contains(got.reason, "does not inflate") && !strings.Contains(got.reason, "UTF-8") {
				t.Fatalf("payload %x: closed 1007 %q", payload, got.reason)
			}
		case got.closed && got.code == frame.CloseTooBig:
			if clean && int64(len(want)) <= cfg.MaxMessageSize {
				t.Fatalf("payload %x inflates to %d bytes; server closed 1009", payload, len(want))
			}
		case got.closed:
			t.Fatalf("payload %x: closed %d %q", payload, got.code, got.reason)
		default:
			if len(got.msgs) != 1 {
				t.Fatalf("payload %x: %d echoes, not closed", payload, len(got.msgs))
			}
			if rejected {
				t.Fatalf("payload %x: echoed %d bytes; compress/flate rejects it: %v", payload, len(got.msgs[0].data), err)
			}
			if !strings.HasPrefix(got.msgs[0].data, string(want)) || (clean && got.msgs[0].data != string(want)) {
				t.Fatalf("payload %x: echo %q; compress/flate inflates %q (%v)", payload, got.msgs[0].data, want, err)
			}
		}
	})
}
