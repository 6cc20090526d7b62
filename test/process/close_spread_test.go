package process

import (
	"encoding/binary"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestCloseSpread: with -close-spread, SIGTERM closes the connections with
// 1012 (Service Restart) spread evenly over the window instead of all at
// once, and the process still exits 0 once they are closed.
func TestCloseSpread(t *testing.T) {
	const (
		n      = 60
		spread = 3 * time.Second
	)
	p := testkit.StartProc(t, "-close-spread", spread.String(), "-shutdown-timeout", "5s")
	conns := make([]*testkit.WSConn, n)
	for i := range conns {
		conns[i] = testkit.OpenWS(t, p.Addr)
		conns[i].Echo(t, frame.OpText, []byte("before"))
	}
	var (
		mu      sync.Mutex
		arrived []time.Duration
		codes   = map[frame.CloseCode]int{}
		wg      sync.WaitGroup
	)
	start := time.Now()
	for _, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.SetReadDeadline(time.Now().Add(spread + 10*time.Second))
			for {
				h, payload, err := ws.ReadFrame()
				if err != nil {
					t.Errorf("reading until the close frame: %v", err)
					return
				}
				if h.Opcode != frame.OpClose {
					continue
				}
				at := time.Since(start)
				code := frame.CloseCode(0)
				if len(payload) >= 2 {
					code = frame.CloseCode(binary.BigEndian.Uint16(payload))
				}
				ws.WriteFrame(true, frame.OpClose, payload[:2]) // the client's half of the closing handshake
				mu.Lock()
				arrived = append(arrived, at)
				codes[code]++
				mu.Unlock()
				return
			}
		}()
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case err := <-p.Done:
		if err != nil {
			t.Errorf("server exited with %v; want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server still running 15s after SIGTERM")
	}
	if codes[frame.CloseServiceRestart] != n {
		t.Fatalf("close codes %v; want %d of 1012", codes, n)
	}
	slices.Sort(arrived)
	// Evenly spread: each quarter of the window sees about a quarter of
	// the closes (15); all at once would put all 60 in the first.
	var quarters [5]int // the fifth: after the window (a slow machine)
	for _, at := range arrived {
		quarters[min(int(at*4/spread), 4)]++
	}
	t.Logf("closes over %v: first at %v, median %v, last %v; per quarter %v", spread,
		arrived[0].Round(time.Millisecond), arrived[n/2].Round(time.Millisecond), arrived[n-1].Round(time.Millisecond), quarters)
	for q := range 4 {
		if quarters[q] < 5 || quarters[q] > 25 {
			t.Errorf("quarter %d of the window had %d of %d closes; want about %d", q+1, quarters[q], n, n/4)
		}
	}
	if first, last := arrived[0], arrived[n-1]; first > spread/4 || last < spread*3/5 {
		t.Errorf("closes from %v to %v; want them to span the %v window", first, last, spread)
	}
}
