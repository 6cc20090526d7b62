package process

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestChurnReturnsToBaseline: after 1,000 connections that end in every
// way (clean close handshake, abort, protocol error, invalid UTF-8, message
// too big, rejected handshake, stalled handshake timed out, half frame then
// hang-up, plain hang-up), the server's connections, timers, open files and
// goroutines return to where they started.
func TestChurnReturnsToBaseline(t *testing.T) {
	cfg := testkit.Config()
	// Long enough that a client's own handshake is never cut off on a
	// loaded 2-core machine under the race detector (300 ms was: CI saw
	// "connection reset by peer" while dialling), short enough that the
	// stalled handshakes of case 6 are closed in a few seconds in all.
	cfg.HandshakeTimeout = 2 * time.Second
	cfg.PingInterval = 200 * time.Millisecond
	cfg.CloseTimeout = 300 * time.Millisecond
	cfg.MaxMessage = 4 << 10
	srv := testkit.Start(t, cfg)
	addr := srv.Addr().String()

	// Warm up once so lazily created pools and loop state are in the baseline.
	churnOne(t, addr, 0)
	settle := func() bool {
		return testkit.Eventually(10*time.Second, func() bool {
			return srv.Reactor().Connections() == 0 && srv.Reactor().PendingTimers() == 0
		})
	}
	if !settle() {
		t.Fatalf("warm-up left %d connections, %d timers", srv.Reactor().Connections(), srv.Reactor().PendingTimers())
	}
	fds, goroutines := openFDs(t), runtime.NumGoroutine()

	const total, workers = 1000, 32
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				churnOne(t, addr, i)
			}
		}()
	}
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	wg.Wait()

	if !settle() {
		t.Errorf("after churn: %d connections, %d timers still pending; want 0, 0", srv.Reactor().Connections(), srv.Reactor().PendingTimers())
	}
	if !testkit.Eventually(5*time.Second, func() bool { return openFDs(t) <= fds }) {
		t.Errorf("open files %d after churn, %d before", openFDs(t), fds)
	}
	if !testkit.Eventually(5*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines }) {
		t.Errorf("goroutines %d after churn, %d before", runtime.NumGoroutine(), goroutines)
	}
	// And it still serves.
	ws, err := testkit.DialWS(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.Echo(t, frame.OpText, []byte("after churn"))
}

// churnOne opens one connection and ends it in the i-th of several ways.
func churnOne(t testing.TB, addr string, i int) {
	const ways = 9
	switch i % ways {
	case 0: // clean close handshake
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		defer ws.Close()
		ws.WriteFrame(true, frame.OpText, []byte("hello"))
		ws.WriteFrame(true, frame.OpClose, []byte{0x03, 0xe8, 'b', 'y', 'e'})
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ExpectClose(t, frame.CloseNormal)
		waitEOF(t, ws)
	case 1: // abort: RST right after the upgrade
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		ws.Conn.(*net.TCPConn).SetLinger(0)
		ws.Close()
	case 2: // protocol error: an unmasked frame
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		defer ws.Close()
		ws.Write(frame.AppendFrame(nil, true, frame.OpText, []byte("unmasked")))
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ExpectClose(t, frame.CloseProtocolError)
		waitEOF(t, ws)
	case 3: // invalid UTF-8
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		defer ws.Close()
		ws.WriteFrame(true, frame.OpText, []byte{0xce, 0xba, 0xff})
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ExpectClose(t, frame.CloseInvalidPayload)
		waitEOF(t, ws)
	case 4: // message too big; the client never answers the close
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		defer ws.Close()
		ws.WriteFrame(true, frame.OpBinary, make([]byte, 8<<10))
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ExpectClose(t, frame.CloseTooBig)
		waitEOF(t, ws)
	case 5: // rejected handshake
		resp := testkit.RawRequest(t, addr, "POST / HTTP/1.1\r\nHost: x\r\n\r\n")
		if len(resp) < 12 || resp[:12] != "HTTP/1.1 405" {
			t.Errorf("POST answered %q", resp)
		}
	case 6: // stalled handshake, closed by the server's timeout
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); isTimeout(err) {
			t.Error("stalled handshake not closed by the server")
		}
	case 7: // half a frame, then hang up
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		f := frame.AppendMaskedFrame(nil, true, frame.OpBinary, [4]byte{1, 2, 3, 4}, make([]byte, 100))
		ws.Write(f[:50])
		ws.Close()
	case 8: // idle until pinged, then hang up without a close frame
		ws := mustDial(t, addr)
		if ws == nil {
			return
		}
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ReadFrame()
		ws.Close()
	}
}

// mustDial dials or reports an error (it may run on any goroutine) and
// returns nil.
func mustDial(t testing.TB, addr string) *testkit.WSConn {
	t.Helper()
	ws, err := testkit.DialWS(addr)
	if err != nil {
		t.Error(err)
		return nil
	}
	return ws
}

// waitEOF reads until the server closes TCP, which it must do on its own
// after the close handshake.
func waitEOF(t testing.TB, ws *testkit.WSConn) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, ws.BR); isTimeout(err) {
		t.Error("server did not close TCP after the close frame")
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t testing.TB) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
