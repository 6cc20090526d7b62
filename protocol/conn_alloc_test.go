package protocol

import (
	"hash/crc32"
	"runtime"
	"testing"
	"unsafe"

	"github.com/wsreactor/wsreactor/frame"
)

// TestConnSize pins the size of an idle connection's state machine.
func TestConnSize(t *testing.T) {
	const limit = 176 // 160 until the memory budget's holder index (Conn.hidx) and permessage-deflate's state pointer and flags byte
	if n := unsafe.Sizeof(Conn{}); n > limit {
		t.Errorf("sizeof(Conn) = %d; want <= %d", n, limit)
	} else {
		t.Logf("sizeof(Conn) = %d", n)
	}
}

// openDiscard returns an open echo connection whose transport keeps
// nothing, with Echo itself as handler (no recorder in between).
func openDiscard(tb testing.TB, cfg Config) *harness {
	h := newHarness(tb, cfg, nil).open()
	h.tr.discard = true
	h.c.h = Echo()
	return h
}

// TestConnEchoZeroAlloc: the echo path allocates nothing per message in
// steady state: text and binary, whole and fragmented, pings, with the ping
// timer running.
func TestConnEchoZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	T, C := frame.OpText, frame.OpContinuation
	inputs := map[string][]byte{
		"text 64":    text(string(make([]byte, 64))),
		"binary 4K":  bin(make([]byte, 4<<10)),
		"binary 64K": bin(make([]byte, 64<<10)),
		"batch":      cat(text("a"), bin([]byte("b")), ping("c"), cf(false, T, []byte(kosme[:3])), cf(true, C, []byte(kosme[3:]))),
	}
	for name, in := range inputs {
		h := openDiscard(t, timerConfig())
		buf := make([]byte, len(in))
		run := func() {
			copy(buf, in)
			h.c.DataReceived(buf)
		}
		run()
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%s: %v allocations per read; want 0", name, n)
		}
		// The same split at an awkward point, across reads.
		h2 := openDiscard(t, timerConfig())
		cut := len(in)/2 + 1
		run2 := func() {
			copy(buf, in)
			h2.c.DataReceived(buf[:cut])
			h2.c.DataReceived(buf[cut:])
		}
		run2()
		if n := testing.AllocsPerRun(200, run2); n != 0 {
			t.Errorf("%s split: %v allocations; want 0", name, n)
		}
		if o := h.tr; o.lost || o.aborted {
			t.Fatalf("%s: connection closed", name)
		}
		h.endClean()
		h2.endClean()
	}
}

// TestConnStreamHuge: with MaxMessageSize 0 a huge message (1 GiB; 64 MiB
// with -short or -race) echoes byte-exact while it arrives, and the
// connection's memory does not grow with it.
func TestConnStreamHuge(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() || raceEnabled {
		size = 64 << 20
	}
	cfg := timerConfig()
	cfg.MaxMessageSize = 0
	h := newHarness(t, cfg, nil).open()

	// Check the echo as it is written: decode the server's frames and
	// checksum their payload.
	var dec frame.Decoder
	var echoed int64
	var frames, fins int
	var sum uint32
	h.tr.sink = func(p []byte) {
		for len(p) > 0 {
			ev, n, err := dec.Next(p)
			if err != nil {
				t.Fatal(err)
			}
			p = p[n:]
			switch ev.Kind {
			case frame.KindHeader:
				frames++
				if ev.Header.Fin {
					fins++
				}
			case frame.KindPayload:
				echoed += int64(len(ev.Data))
				sum = crc32.Update(sum, crc32.IEEETable, ev.Data)
			}
		}
	}
	const chunk = 64 << 10
	pattern := make([]byte, chunk)
	for i := range pattern {
		pattern[i] = byte(i*7 + i>>8)
	}
	var want uint32
	key := [4]byte{1, 2, 3, 4}
	hdr := frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, nil)
	hdr[1] = 0x80 | 127
	hdr = append(hdr[:2], 0, 0, 0, 0, 0, 0, 0, 0)
	for i := 0; i < 8; i++ {
		hdr[2+i] = byte(size >> (56 - 8*i))
	}
	hdr = append(hdr, key[:]...)
	h.c.DataReceived(hdr)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	buf := make([]byte, chunk)
	pos := 0
	for sent := int64(0); sent < size; sent += chunk {
		copy(buf, pattern)
		want = crc32.Update(want, crc32.IEEETable, buf)
		pos = frame.Mask(key, pos, buf)
		h.c.DataReceived(buf)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if echoed != size || sum != want || fins != 1 {
		t.Fatalf("echoed %d bytes (crc %08x, %d frames, %d FIN); want %d bytes (crc %08x), one FIN", echoed, sum, frames, fins, size, want)
	}
	if h.tr.lost || h.tr.aborted {
		t.Fatal("connection closed")
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 1<<20 {
		t.Errorf("heap in use grew by %d bytes streaming %d; want < 1 MiB", grew, size)
	}
	t.Logf("%d MiB echoed in %d frames", size>>20, frames)
	h.endClean()
}
