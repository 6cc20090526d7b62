package process

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestMemoryBudgetFlood (issue 7): 40 clients each send one 30 MiB message
// without reading, against -memory-budget 256 MiB. Without the budget the
// server would queue about 1.2 GiB of echoes; with it the server's RSS
// grows by less than 400 MiB, a well-behaved client keeps echoing
// meanwhile, and every offender gets 1008 when it finally reads.
func TestMemoryBudgetFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1.2 GiB")
	}
	const (
		clients = 40
		size    = 30 << 20
		budget  = 256 << 20
	)
	p := testkit.StartProc(t, "-loops", "2", "-memory-budget", fmt.Sprint(budget),
		"-close-timeout", "60s", "-ping-interval", "0", "-admin-addr", "127.0.0.1:0")
	good := testkit.OpenWS(t, p.Addr)
	good.Echo(t, frame.OpText, []byte("before"))
	offenders := make([]*testkit.WSConn, clients)
	for i := range offenders {
		offenders[i] = testkit.OpenWS(t, p.Addr)
	}
	base := p.RSSKB(t)
	stopRSS := sampleRSS(t, p)

	// One masked 30 MiB binary frame, written whole by every offender
	// (Write does not modify it).
	msg := frame.AppendMaskedFrame(nil, true, frame.OpBinary, [4]byte{1, 2, 3, 4}, bytes.Repeat([]byte("z"), size))
	codes := make([]string, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i, ws := range offenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.SetDeadline(time.Now().Add(3 * time.Minute))
			if _, err := ws.Write(msg); err != nil {
				codes[i] = fmt.Sprintf("write: %v", err)
				return
			}
			// Only now read: the echoes queued so far, then the close.
			for {
				_, _, err := ws.ReadMessage()
				var cf *testkit.CloseFrame
				if errors.As(err, &cf) {
					codes[i] = fmt.Sprint(int(cf.Code))
					return
				}
				if err != nil {
					codes[i] = fmt.Sprintf("read: %v", err)
					return
				}
			}
		}()
	}
	flood := make(chan struct{})
	go func() {
		wg.Wait()
		close(flood)
	}()

	// The well-behaved client echoes throughout the flood.
	payload := bytes.Repeat([]byte("good"), 256)
	echoes, slowest := 0, time.Duration(0)
	for done := false; !done; {
		select {
		case <-flood:
			done = true
		case <-time.After(20 * time.Millisecond):
		}
		t0 := time.Now()
		good.Echo(t, frame.OpBinary, payload)
		slowest = max(slowest, time.Since(t0))
		echoes++
	}
	elapsed := time.Since(start)
	peak := stopRSS()

	got := map[string]int{}
	for _, c := range codes {
		got[c]++
	}
	growth := float64(peak-int64(base)) / 1024
	t.Logf("flood of %d × %d MiB took %v; RSS %d KiB before, peak %d KiB: growth %.0f MiB; "+
		"good client: %d echoes, slowest %v; offenders' outcomes: %v",
		clients, size>>20, elapsed.Round(time.Millisecond), base, peak, growth, echoes, slowest.Round(time.Millisecond), got)
	if growth >= 400 {
		t.Errorf("RSS grew by %.0f MiB; want < 400 MiB for a 256 MiB budget", growth)
	}
	if got["1008"] != clients {
		t.Errorf("offenders' outcomes %v; want all %d closed with 1008", got, clients)
	}
	if echoes < 5 {
		t.Errorf("good client echoed %d times during the flood; want it served throughout", echoes)
	}
	good.Echo(t, frame.OpText, []byte("after"))
	if !testkit.Eventually(3*time.Second, func() bool { return strings.Contains(p.LogText(), "memory budget enforced") }) {
		t.Error("the server did not log what the budget did")
	}
	m := testkit.Scrape(t, p.Admin)
	t.Logf("the budget's count peaked at %.0f MiB", m["wsreactor_memory_held_peak_bytes"]/(1<<20))
	if peak := m["wsreactor_memory_held_peak_bytes"]; peak > budget || peak < budget/2 {
		t.Errorf("the budget's count peaked at %.0f bytes; want it under the budget %d (and the flood to have reached it)", peak, budget)
	}
	if m["wsreactor_memory_budget_bytes"] != budget || m[`wsreactor_memory_budget_closes_total{measure=slack_refused}`] != clients ||
		m[`wsreactor_memory_budget_closes_total{measure=largest}`] != 0 || m["wsreactor_memory_held_bytes"] > budget {
		t.Errorf("metrics: budget %v, held %v, closes for slack %v, as largest %v; want %d, <= budget, %d, 0",
			m["wsreactor_memory_budget_bytes"], m["wsreactor_memory_held_bytes"], m[`wsreactor_memory_budget_closes_total{measure=slack_refused}`],
			m[`wsreactor_memory_budget_closes_total{measure=largest}`], budget, clients)
	}
	for _, line := range strings.Split(p.LogText(), "\n") {
		if strings.Contains(line, "memory budget") || strings.Contains(line, "go_memory_limit_bytes") {
			t.Logf("server log: %s", line)
		}
	}
}

// TestMemoryBudgetManyUnderLimit: 200 clients that stream 256 KiB messages
// for 3 s without reading, each staying near its own -write-buffer-limit
// (1 MiB plus one message of slack), against -memory-budget 64 MiB. No
// connection is past its own limit for long, so the budget's second measure
// does the work: the largest holders are closed with 1008 or, when they do
// not read that either, dropped. Without the budget the server's RSS grows
// by about 270 MiB here; with it, by well under 200 MiB, and a client that
// reads its echoes is served throughout.
func TestMemoryBudgetManyUnderLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("streams for 3 s")
	}
	if testkit.RaceEnabled {
		t.Skip("the race detector slows the clients too much to load the server; test.sh runs this without it")
	}
	const clients, budget = 200, 64 << 20
	p := testkit.StartProc(t, "-loops", "2", "-memory-budget", fmt.Sprint(budget), "-ping-interval", "0", "-admin-addr", "127.0.0.1:0")
	good := testkit.OpenWS(t, p.Addr)
	conns := make([]*testkit.WSConn, clients)
	for i := range conns {
		conns[i] = testkit.OpenWS(t, p.Addr)
	}
	base := p.RSSKB(t)
	stopRSS := sampleRSS(t, p)
	msg := frame.AppendMaskedFrame(nil, true, frame.OpBinary, [4]byte{5, 6, 7, 8}, bytes.Repeat([]byte("q"), 256<<10))
	end := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	var sent atomic.Int64
	for _, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.SetWriteDeadline(end.Add(5 * time.Second))
			for time.Now().Before(end) {
				if _, err := ws.Write(msg); err != nil {
					return // closed by the server: expected
				}
				sent.Add(int64(len(msg)))
			}
		}()
	}
	echoes := 0
	for time.Now().Before(end) {
		good.Echo(t, frame.OpBinary, []byte("still served"))
		echoes++
		time.Sleep(20 * time.Millisecond)
	}
	for _, ws := range conns {
		ws.Close()
	}
	wg.Wait()
	peak := stopRSS()
	m := testkit.Scrape(t, p.Admin)
	largest, dropped := m[`wsreactor_memory_budget_closes_total{measure=largest}`], m[`wsreactor_memory_budget_closes_total{measure=dropped}`]
	growth := float64(peak-int64(base)) / 1024
	t.Logf("sent %d MiB; RSS %d KiB before, peak %d KiB: growth %.0f MiB; the budget's count peaked at %.0f MiB; closes: %v for slack, %v as largest, %v dropped; good client: %d echoes",
		sent.Load()>>20, base, peak, growth, m["wsreactor_memory_held_peak_bytes"]/(1<<20),
		m[`wsreactor_memory_budget_closes_total{measure=slack_refused}`], largest, dropped, echoes)
	if growth >= 200 {
		t.Errorf("RSS grew by %.0f MiB; want < 200 MiB for a 64 MiB budget", growth)
	}
	// Past 9/8 of the budget the loops close and drop their own largest
	// holders as they publish (Budget's brake): the count stays within a
	// quantum per loop (2 MiB each here) of that ceiling.
	if cp := m["wsreactor_memory_held_peak_bytes"]; cp > budget*5/4 {
		t.Errorf("the budget's count peaked at %.0f MiB; want at most 5/4 of the budget", cp/(1<<20))
	}
	if largest+dropped == 0 {
		t.Error("no connection closed as one of the largest holders")
	}
	if echoes < 5 {
		t.Errorf("good client echoed %d times in 3 s; want it served throughout", echoes)
	}
	good.Echo(t, frame.OpText, []byte("after"))
}
