package process

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestHugeMessageStreams: with -max-message 0 a 1 GiB message echoes
// byte-exact to a client that reads while it sends, and the server's memory
// does not grow with the message: the echo streams.
func TestHugeMessageStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB")
	}
	size := int64(1 << 30)
	if testkit.RaceEnabled {
		size = 128 << 20
	}
	p := testkit.StartProc(t, "-loops", "1", "-max-message", "0", "-ping-interval", "0")
	ws := testkit.OpenWS(t, p.Addr)
	// Warm up (pools, buffers, gnet's output buffer, the runtime) with a
	// smaller stream of the same kind, then take the baseline.
	streamEcho(t, ws, 64<<20)
	time.Sleep(100 * time.Millisecond)
	base := p.RSSKB(t)

	stop := sampleRSS(t, p)
	frames := streamEcho(t, ws, size)
	max := stop()
	growth := max - int64(base)
	t.Logf("%d MiB echoed in %d fragments; RSS %d KiB before, peak %d KiB (growth %d KiB)", size>>20, frames, base, max, growth)
	if growth >= 1024 {
		t.Errorf("server RSS grew by %d KiB while streaming; want < 1 MiB", growth)
	}
}

// streamEcho sends one binary message of size bytes while reading its echo
// and checks every byte; it returns the number of fragments of the echo.
// The client reads at the pace it sends: its writer stays at most window
// bytes ahead of its reader, as a client that consumes what it gets would
// (with no bound, a writer that outruns its own reader makes the echo back
// up in the server: gnet cannot stop reading a socket). The window is half
// the server's write-buffer limit: whatever the scheduling, the server can
// never be owed more than that, so what it queues (when the client is slow
// to read and the kernel's socket buffers are full) stays under the 1 MiB
// the test allows. A 4 MiB window allowed a client descheduled under load
// to leave up to 4 MiB queued in the server, legitimately (the write-buffer
// limit plus the echo slack of the message being received).
func streamEcho(t *testing.T, ws *testkit.WSConn, size int64) int {
	t.Helper()
	const window = 512 << 10
	var got atomic.Int64
	writeErr := make(chan error, 1)
	go func() { // writer: one frame declaring the whole size, payload in chunks
		key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
		hdr := []byte{0x82, 0x80 | 127}
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(size))
		hdr = append(hdr, key[:]...)
		ws.SetWriteDeadline(time.Now().Add(5 * time.Minute))
		if _, err := ws.Write(hdr); err != nil {
			writeErr <- err
			return
		}
		// The stream repeats a 64 KiB pattern, a multiple of 4 bytes, so one
		// masked copy serves every chunk and the client stays cheap.
		buf := frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, pattern)[6+8:] // drop the header
		for off := int64(0); off < size; off += int64(len(buf)) {
			for off-got.Load() > window {
				time.Sleep(50 * time.Microsecond)
			}
			if _, err := ws.Write(buf); err != nil {
				writeErr <- fmt.Errorf("write at %d: %v", off, err)
				return
			}
		}
		writeErr <- nil
	}()

	// Reader: reassemble the echo's fragments and check every byte.
	ws.SetReadDeadline(time.Now().Add(5 * time.Minute))
	var n64 int64
	frames := 0
	for n64 < size {
		h, payload, err := ws.ReadFrame()
		if err != nil {
			t.Fatalf("after %d bytes: %v", n64, err)
		}
		frames++
		if (frames == 1) != (h.Opcode != frame.OpContinuation) {
			t.Fatalf("frame %d (after %d bytes) has opcode %v: %q", frames, n64, h.Opcode, payload[:min(len(payload), 125)])
		}
		for len(payload) > 0 {
			at := n64 % int64(len(pattern))
			k := min(int64(len(payload)), int64(len(pattern))-at)
			if !bytes.Equal(payload[:k], pattern[at:at+k]) {
				t.Fatalf("echo differs in bytes %d..%d", n64, n64+k)
			}
			payload = payload[k:]
			n64 += k
			got.Store(n64)
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	return frames
}

// pattern is the repeating content of the streamed message.
var pattern = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i ^ i>>8 ^ i>>13)
	}
	return b
}()
