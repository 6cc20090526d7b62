//go:build linux

package load

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testConn builds a connection outside any socket or loop goroutine, with k
// messages of size bytes already written, for feeding bytes to its reader.
func testConn(t testing.TB, size, k int, raw bool) *conn {
	t.Helper()
	cfg := Config{Size: size, Inflight: k, Raw: raw, Conns: 1}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, base: time.Now()}
	r.fs = newFrameSet(size, k, 1, false, 1<<30, rand.New(rand.NewPCG(1, 2)))
	l := &loop{r: r, hist: newHist(), rng: rand.New(rand.NewPCG(3, 4))}
	return reopen(l.newConn(target{}))
}

// reopen gives c's slot to a fresh open connection with a batch written.
func reopen(c *conn) *conn {
	l := c.l
	if c.state != stDone {
		l.freeConn(c)
	}
	l.st = stats{}
	c = l.newConn(target{})
	c.state, c.opened = stOpen, true
	c.iseq, c.wseq = uint64(l.r.fs.k), uint64(l.r.fs.k)
	return c
}

// serverFrames is what a WebSocket echo returns for c's batch: each payload
// in one unmasked frame (RFC 6455 §5.2), fragmented into pieces of frag
// bytes when frag > 0 (§5.4).
func serverFrames(c *conn, frag int) []byte {
	fs := c.l.r.fs
	var out []byte
	for j := 0; j < fs.k; j++ {
		p := c.b.payload[j*fs.size : (j+1)*fs.size]
		if frag <= 0 || frag >= len(p) {
			out = appendServerFrame(out, true, fs.op, p)
			continue
		}
		op := fs.op
		for len(p) > 0 {
			n := min(frag, len(p))
			out = appendServerFrame(out, n == len(p), op, p[:n])
			op, p = opContinuation, p[n:]
		}
	}
	return out
}

func appendServerFrame(dst []byte, fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	switch n := len(p); {
	case n <= 125:
		dst = append(dst, b0, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

// Every echo, split at every chunk size from one byte up, must verify and
// complete every message, as if each chunk were one read.
func TestConsumeChunked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size, k  int
		raw      bool
		fragment int
	}{
		{"ws 0B", 0, 3, false, 0},
		{"ws 64B", 64, 4, false, 0},
		{"ws 200B 16-bit length", 200, 2, false, 0},
		{"ws 70000B 64-bit length", 70000, 1, false, 0},
		{"ws fragmented", 300, 2, false, 7},
		{"raw 64B", 64, 4, true, 0},
		{"raw 200B", 200, 2, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c0 := testConn(t, tc.size, tc.k, tc.raw)
			wire := c0.b.req
			if !tc.raw {
				wire = serverFrames(c0, tc.fragment)
			}
			step := 1
			c := c0
			for chunk := 1; chunk <= len(wire)+1; chunk += step {
				if chunk > 300 {
					step = 97 // keep the 70000-byte case quick
				}
				c = reopen(c)
				c.l.meas = true
				data := bytes.Clone(wire)
				for p := data; len(p) > 0 && c.state != stDone; {
					n := min(chunk, len(p))
					c.consume(p[:n])
					p = p[n:]
				}
				if c.l.st.wireIn != int64(len(wire)) || c.l.st.wireOut != int64(len(c0.b.req)) {
					t.Fatalf("chunk %d: wire in %d out %d; want %d, %d", chunk, c.l.st.wireIn, c.l.st.wireOut, len(wire), len(c0.b.req))
				}
				if c.state == stDone || c.rseq != uint64(tc.k) || c.l.st.mismatches != 0 || c.l.st.msgs != int64(tc.k) {
					t.Fatalf("chunk %d: state %d rseq %d msgs %d mismatches %d errors %v; want %d messages",
						chunk, c.state, c.rseq, c.l.st.msgs, c.l.st.mismatches, c.l.r.firstErrs, tc.k)
				}
			}
		})
	}
}

// Any flipped byte of a payload or header is caught: a mismatch, or a
// protocol error when the header no longer parses.
func TestConsumeDetectsCorruption(t *testing.T) {
	for _, raw := range []bool{false, true} {
		c0 := testConn(t, 100, 3, raw)
		wire := c0.b.req
		if !raw {
			wire = serverFrames(c0, 0)
		}
		c := c0
		for i := range wire {
			c = reopen(c)
			data := bytes.Clone(wire)
			data[i] ^= 0x01
			c.consume(data)
			caught := c.l.st.mismatches > 0 || c.state == stDone || c.rseq != 3
			if !caught {
				t.Fatalf("raw=%v: byte %d flipped went unnoticed", raw, i)
			}
		}
	}
}

func TestConsumeServerFrameRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		kind int
	}{
		{"masked", []byte{0x82, 0x81, 1, 2, 3, 4, 5}, kindProtocol},
		{"rsv1", []byte{0xC2, 0x00}, kindProtocol},
		{"reserved opcode", []byte{0x83, 0x00}, kindProtocol},
		{"continuation first", []byte{0x80, 0x00}, kindProtocol},
		{"fragmented ping", []byte{0x09, 0x00}, kindProtocol},
		{"long close", append([]byte{0x88, 126, 0, 126}, make([]byte, 126)...), kindProtocol},
		{"close one byte", []byte{0x88, 0x01, 0x03}, kindProtocol},
		{"close bad code", []byte{0x88, 0x02, 0x03, 0xEC}, kindProtocol},
		{"server close", []byte{0x88, 0x02, 0x03, 0xE9}, kindClosed},
		{"top bit length", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, kindProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConn(t, 4, 1, false)
			c.fd = -1
			c.consume(tc.wire)
			if c.state != stDone || c.l.st.errs[tc.kind] != 1 {
				t.Fatalf("consume(%x): state %d errors %v; want one %s error", tc.wire, c.state, c.l.st.errs, kindNames[tc.kind])
			}
		})
	}
}

// A ping is answered with a masked pong carrying the same payload (RFC 6455 §5.5.2, §5.5.3).
func TestConsumePingQueuesPong(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	c := testConn(t, 4, 1, false)
	c.fd = fds[0]
	c.events = unix.EPOLLIN | unix.EPOLLRDHUP // as registered once open
	defer unix.Close(fds[0])
	c.wseq, c.iseq = 0, 0 // nothing owed: flush writes only the pong
	c.consume([]byte{0x89, 0x02, 'h', 'i'})
	got := make([]byte, 64)
	n, err := unix.Read(fds[1], got)
	if err != nil || n != 8 || got[0] != 0x8A || got[1] != 0x82 {
		t.Fatalf("read %x, %v; want a masked pong with 2 bytes", got[:max(n, 0)], err)
	}
	body := got[6:8]
	maskBytes([4]byte(got[2:6]), body)
	if string(body) != "hi" || c.state != stOpen {
		t.Fatalf("pong payload %q (state %d), want \"hi\"", body, c.state)
	}
}

// The steady-state echo path allocates nothing per message.
func TestConsumeAllocs(t *testing.T) {
	for _, raw := range []bool{false, true} {
		c := testConn(t, 64, 16, raw)
		c.l.meas = true
		wire := c.b.req
		if !raw {
			wire = serverFrames(c, 0)
		}
		data := bytes.Clone(wire)
		allocs := testing.AllocsPerRun(100, func() {
			c.iseq += 16
			c.wseq += 16
			c.consume(data)
		})
		if allocs != 0 || c.l.st.mismatches != 0 {
			t.Fatalf("raw=%v: %v allocations per batch, %d mismatches; want 0, 0", raw, allocs, c.l.st.mismatches)
		}
	}
}

func BenchmarkConsume(b *testing.B) {
	for _, raw := range []bool{false, true} {
		name := "ws"
		if raw {
			name = "raw"
		}
		b.Run(name+"/64Bx16", func(b *testing.B) {
			c := testConn(b, 64, 16, raw)
			c.l.meas = true
			wire := c.b.req
			if !raw {
				wire = serverFrames(c, 0)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				c.iseq += 16
				c.wseq += 16
				c.consume(wire)
			}
		})
	}
}

func TestMaskBytes(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n < 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		want := bytes.Clone(b)
		for i := range want {
			want[i] ^= key[i%4]
		}
		maskBytes(key, b)
		if !bytes.Equal(b, want) {
			t.Fatalf("maskBytes(%d bytes) = %x, want %x", n, b, want)
		}
	}
}

func TestFrameSetShape(t *testing.T) {
	fs := newFrameSet(200, 3, 10, true, 1<<20, rand.New(rand.NewPCG(1, 1)))
	if len(fs.batches) != 10 || fs.frameLen != 4+4+200 || len(fs.batches[0].req) != 3*fs.frameLen {
		t.Fatalf("frame set: %d batches, frame %d, req %d", len(fs.batches), fs.frameLen, len(fs.batches[0].req))
	}
	for _, c := range fs.batches[0].payload {
		if c < ' ' || c > '~' {
			t.Fatalf("text payload byte %#x is not printable ASCII", c)
		}
	}
	// Over the memory budget, connections share batches.
	fs = newFrameSet(1<<20, 2, 100, false, 8<<20, rand.New(rand.NewPCG(1, 1)))
	if len(fs.batches) != 1 {
		t.Fatalf("%d batches of 4 MiB within 8 MiB, want 1", len(fs.batches))
	}
	if !bytes.Equal(fs.close[:2], []byte{0x88, 0x82}) {
		t.Fatalf("close frame header %x", fs.close[:2])
	}
}

func TestCheckUpgradeResponse(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	const ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	for _, tc := range []struct {
		head string
		err  string // substring; "" = valid
	}{
		{ok, ""},
		{"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ""},
		{"HTTP/1.1 400 Bad Request\r\nContent-Length: 0", "status"},
		{"HTTP/1.1 1010 Nope", "status"},
		{strings.Replace(ok, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAA", 1), "Sec-WebSocket-Accept"},
		{strings.Replace(ok, "\r\nUpgrade: websocket", "", 1), "Upgrade"},
		{strings.Replace(ok, "\r\nConnection: Upgrade", "", 1), "Connection"},
		{ok + "\r\nSec-WebSocket-Extensions: permessage-deflate", "not offered"},
		{ok + "\r\nSec-WebSocket-Protocol: chat", "not offered"},
		{ok + "\r\nno colon", "malformed"},
	} {
		_, err := checkUpgradeResponse([]byte(tc.head), key, false, false)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("checkUpgradeResponse(%q) = %v; want error containing %q", tc.head, err, tc.err)
		}
	}
}

func TestUpgradeRequest(t *testing.T) {
	got := string(appendUpgradeRequest(nil, "/chat", "server.example.com", "http://example.com", "dGhlIHNhbXBsZSBub25jZQ==", ""))
	want := "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n"
	if got != want {
		t.Fatalf("request %q, want %q", got, want)
	}
}

func TestTimerHeap(t *testing.T) {
	var h timerHeap
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 500; i++ {
		h.push(timer{at: rng.Int64N(1000)})
	}
	last := int64(-1)
	for len(h) > 0 {
		at := h.pop().at
		if at < last {
			t.Fatalf("pop %d after %d", at, last)
		}
		last = at
	}
}

func TestProc(t *testing.T) {
	cpu, err := procCPU("self")
	if err != nil || cpu < 0 {
		t.Fatalf("procCPU(self) = %v, %v", cpu, err)
	}
	rss, err := procRSS("self")
	if err != nil || rss <= 0 {
		t.Fatalf("procRSS(self) = %v, %v", rss, err)
	}
	if _, err := procCPU("999999999"); err == nil {
		t.Fatal("procCPU of a missing process: no error")
	}
}
