package process

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// The hostile-client suite (issue 4): the real command as a child process
// with short timeouts, against clients that misbehave, while a well-behaved
// client keeps being served.

// TestHostileNonReadingClient: a client that sends 256 MiB and never reads
// must not grow the server's memory past its write-buffer limit (plus the
// slack allowed for the echo of one message): the server stops echoing,
// closes with 1008, and its RSS grows by far less than what was sent.
func TestHostileNonReadingClient(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 256 MiB")
	}
	const total = 256 << 20
	for _, tc := range []struct {
		name string
		args []string
		msg  int // message size; the whole 256 MiB in one frame when 0
	}{
		{"64 KiB messages", nil, 64 << 10},
		{"4 MiB messages", nil, 4 << 20},
		{"one 256 MiB frame, no message limit", []string{"-max-message", "0"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-loops", "1", "-write-buffer-limit", "1048576", "-close-timeout", "20s", "-ping-interval", "0"}, tc.args...)
			p := testkit.StartProc(t, args...)
			base := p.RSSKB(t)
			stop := sampleRSS(t, p)

			ws := testkit.OpenWS(t, p.Addr)
			key := [4]byte{1, 2, 3, 4}
			var chunk []byte
			if tc.msg > 0 {
				chunk = frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, bytes.Repeat([]byte("x"), tc.msg))
			} else {
				hdr := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0x10, 0, 0, 0} // 256 MiB
				ws.Write(append(hdr, key[:]...))
				chunk = bytes.Repeat([]byte("y"), 64<<10)
			}
			ws.SetWriteDeadline(time.Now().Add(60 * time.Second))
			for sent := 0; sent < total; sent += len(chunk) {
				if _, err := ws.Write(chunk); err != nil {
					t.Fatalf("write after %d MiB: %v (the server must keep reading and discarding)", sent>>20, err)
				}
			}
			ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			ws.ExpectClose(t, frame.ClosePolicyViolation)
			max := stop()
			growth := (max - int64(base)) << 10
			t.Logf("RSS %d KiB before, peak %d KiB: growth %.1f MiB for 256 MiB sent", base, max, float64(growth)/(1<<20))
			if growth >= 64<<20 {
				t.Errorf("RSS grew by %.1f MiB; want < 64 MiB", float64(growth)/(1<<20))
			}
		})
	}
}

// sampleRSS reads p's RSS every 10ms until stop is called, which returns
// the peak in KiB.
func sampleRSS(t testing.TB, p *testkit.Proc) (stop func() int64) {
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if kb := int64(p.RSSKB(t)); kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// TestHostileStalledHandshakes: 500 connections that send half a request
// are all closed after the handshake timeout, none before it, while a
// normal client is served throughout.
//
// Each stalled connection is watched from its dial on, and the test waits
// for all of them up to a generous deadline (30 s for a 1 s timeout)
// rather than reading for a fixed 5 s after the stall: on a loaded 2-core
// CI machine the server and the 500 readers may be descheduled for
// seconds (495 of 500 had been seen by then once). A server that never
// closes some of them still fails, and the earliness bound is now checked
// per connection against its own dial.
func TestHostileStalledHandshakes(t *testing.T) {
	const timeout = time.Second
	p := testkit.StartProc(t, "-loops", "2", "-handshake-timeout", timeout.String())
	type watch struct {
		dialed time.Time     // before the dial: the server's timer starts later
		closed time.Duration // after dialed, when the server's close was seen
		err    error         // the read's end: a timeout means still open
	}
	const n = 500
	watches := make([]watch, n)
	const wait = 30 * time.Second
	deadline := time.Now().Add(wait)
	var wg sync.WaitGroup
	for i := range watches {
		w := &watches[i]
		w.dialed = time.Now()
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websock"); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(deadline)
			_, w.err = io.Copy(io.Discard, c)
			w.closed = time.Since(w.dialed)
		}()
	}
	start := time.Now()

	ws := testkit.OpenWS(t, p.Addr)
	served := 0
	for time.Since(start) < timeout+timeout/2 {
		ws.Echo(t, frame.OpText, []byte("still served"))
		served++
		time.Sleep(20 * time.Millisecond)
	}

	wg.Wait()
	closed, latest := 0, time.Duration(0)
	for i, w := range watches {
		if isTimeout(w.err) {
			continue
		}
		closed++ // EOF or reset: the server closed it
		latest = max(latest, w.closed)
		if w.closed < timeout {
			t.Errorf("stalled handshake %d closed %v after its dial, before the %v timeout", i, w.closed, timeout)
		}
	}
	if closed != n {
		t.Errorf("%d of %d stalled handshakes closed by the server within %v", closed, n, wait)
	}
	ws.Echo(t, frame.OpBinary, []byte("and after"))
	t.Logf("normal client served %d echoes during the stall; the last stalled handshake closed %v after its dial", served, latest)
}

// isTimeout tells whether err is a read or write deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestHostileSilentPeer: a connection silent for the ping interval is
// pinged; still silent after another interval, it is closed.
func TestHostileSilentPeer(t *testing.T) {
	p := testkit.StartProc(t, "-ping-interval", "300ms", "-close-timeout", "500ms")
	ws := testkit.OpenWS(t, p.Addr)
	start := time.Now()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, _, err := ws.ReadFrame()
	if err != nil || h.Opcode != frame.OpPing {
		t.Fatalf("first frame from a silent peer = %v, %v; want a ping", h.Opcode, err)
	}
	t.Logf("pinged after %v", time.Since(start))
	// Do not answer: the server must close (1001) and drop TCP.
	for {
		h, p, err := ws.ReadFrame()
		if err != nil {
			t.Logf("connection closed after %v: %v", time.Since(start), err)
			break
		}
		if h.Opcode == frame.OpClose {
			code, _, _ := frame.ParseCloseBody(p)
			if code != frame.CloseGoingAway {
				t.Errorf("close code %d, want 1001", code)
			}
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("silent peer closed after %v; want about 600ms", d)
	}
}

// TestHostilePongingPeer: a client that answers pings, and sends nothing
// else, is never closed for idleness.
func TestHostilePongingPeer(t *testing.T) {
	p := testkit.StartProc(t, "-ping-interval", "200ms")
	ws := testkit.OpenWS(t, p.Addr)
	pings := 0
	end := time.Now().Add(2 * time.Second)
	for time.Now().Before(end) {
		ws.SetReadDeadline(end)
		h, payload, err := ws.ReadFrame()
		if isTimeout(err) {
			break
		}
		if err != nil {
			t.Fatalf("after %d pings: %v", pings, err)
		}
		if h.Opcode != frame.OpPing {
			t.Fatalf("unexpected %v frame", h.Opcode)
		}
		pings++
		if err := ws.WriteFrame(true, frame.OpPong, payload); err != nil {
			t.Fatal(err)
		}
	}
	ws.SetReadDeadline(time.Time{})
	if pings < 2 {
		t.Errorf("%d pings in 2s with a 200ms interval; want several", pings)
	}
	ws.Echo(t, frame.OpText, []byte("still here"))
}

// TestHostileMaxConns: past -max-conns, upgrades get 503 with Retry-After
// and the open connections are untouched.
func TestHostileMaxConns(t *testing.T) {
	p := testkit.StartProc(t, "-max-conns", "2")
	a := testkit.OpenWS(t, p.Addr)
	b := testkit.OpenWS(t, p.Addr)
	_, err := testkit.DialWS(p.Addr)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("third connection: %v; want 503", err)
	}
	resp := testkit.RawRequest(t, p.Addr, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 503 ") || !strings.Contains(resp, "\r\nRetry-After: ") {
		t.Errorf("response past max-conns:\n%s\nwant 503 with Retry-After", resp)
	}
	a.Echo(t, frame.OpText, []byte("a"))
	b.Echo(t, frame.OpText, []byte("b"))
	b.WriteFrame(true, frame.OpClose, []byte{0x03, 0xe8})
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	b.ExpectClose(t, frame.CloseNormal)
	b.Close()
	if !testkit.Eventually(5*time.Second, func() bool {
		c, err := testkit.DialWS(p.Addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Error("a slot freed by a closed connection was not reused")
	}
}

// TestGracefulShutdownDeliversOwedEchoes: on SIGTERM every client gets all
// the echoes it was owed for data the server had received, then close 1001,
// and the process exits 0 within the shutdown timeout.
func TestGracefulShutdownDeliversOwedEchoes(t *testing.T) {
	p := testkit.StartProc(t, "-loops", "2", "-shutdown-timeout", "5s")
	const clients, msgs, size = 20, 32, 8 << 10
	conns := sendOwed(t, p.Addr, clients, msgs, size)
	start := time.Now()
	if err := termAndExpectOwed(t, p, conns, msgs, size, 7*time.Second); err != nil {
		t.Errorf("server exit: %v; want status 0", err)
	}
	t.Logf("shutdown took %v", time.Since(start))
}

// termAndExpectOwed sends SIGTERM to p once the echoes owed to conns
// (sendOwed) are queued, asserts that every client gets them and close 1001
// (expectOwedThenGoingAway), and returns p's exit error (nil: status 0); the
// test fails if p is still running after within.
func termAndExpectOwed(t *testing.T, p *testkit.Proc, conns []*testkit.WSConn, msgs, size int, within time.Duration) error {
	t.Helper()
	// The clients have not read anything: the echoes are owed, queued in
	// socket buffers and in the server's output buffers.
	time.Sleep(300 * time.Millisecond)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectOwedThenGoingAway(t, conns, msgs, size)
	select {
	case err := <-p.Done:
		return err
	case <-time.After(within):
		t.Fatalf("server still running %v after SIGTERM", within)
	}
	return nil
}

// sendOwed opens clients connections to addr and has each send msgs
// binary messages of size bytes (payloadFor) in one write, reading nothing:
// the server then owes each client msgs echoes.
func sendOwed(t *testing.T, addr string, clients, msgs, size int) []*testkit.WSConn {
	t.Helper()
	conns := make([]*testkit.WSConn, clients)
	for i := range conns {
		ws := testkit.OpenWS(t, addr)
		conns[i] = ws
		var batch []byte
		for m := 0; m < msgs; m++ {
			batch = frame.AppendMaskedFrame(batch, true, frame.OpBinary, [4]byte{9, 8, 7, byte(m)}, payloadFor(i, m, size))
		}
		if _, err := ws.Write(batch); err != nil {
			t.Fatal(err)
		}
	}
	return conns
}

// expectOwedThenGoingAway reads, on every connection of sendOwed at once,
// the msgs echoes it is owed, byte-exact and in order, then close 1001
// (the server is shutting down), answers the close and reads to EOF.
func expectOwedThenGoingAway(t *testing.T, conns []*testkit.WSConn, msgs, size int) {
	t.Helper()
	var wg sync.WaitGroup
	for i, ws := range conns {
		wg.Add(1)
		go func(i int, ws *testkit.WSConn) {
			defer wg.Done()
			ws.SetDeadline(time.Now().Add(10 * time.Second))
			for m := 0; m < msgs; m++ {
				_, got, err := ws.ReadMessage()
				if err != nil {
					t.Errorf("client %d: echo %d: %v", i, m, err)
					return
				}
				if !bytes.Equal(got, payloadFor(i, m, size)) {
					t.Errorf("client %d: echo %d differs", i, m)
					return
				}
			}
			ws.ExpectClose(t, frame.CloseGoingAway)
			ws.WriteFrame(true, frame.OpClose, []byte{0x03, 0xe9})
			io.Copy(io.Discard, ws)
		}(i, ws)
	}
	wg.Wait()
}

// payloadFor is message m of client i: distinct bytes, so a lost or
// reordered echo shows.
func payloadFor(i, m, size int) []byte {
	b := make([]byte, size)
	for k := range b {
		b[k] = byte(i*31 + m*7 + k)
	}
	return b
}
