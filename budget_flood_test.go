package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
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
	p := startProc(t, "-loops", "2", "-memory-budget", fmt.Sprint(budget),
		"-close-timeout", "60s", "-ping-interval", "0", "-admin-addr", "127.0.0.1:0")
	good := openWS(t, p.addr)
	good.echo(t, frame.OpText, []byte("before"))
	offenders := make([]*wsConn, clients)
	for i := range offenders {
		offenders[i] = openWS(t, p.addr)
	}
	base := p.rssKB(t)
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
				_, _, err := ws.readMessage()
				var cf *closeFrame
				if errors.As(err, &cf) {
					codes[i] = fmt.Sprint(int(cf.code))
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
		good.echo(t, frame.OpBinary, payload)
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
	good.echo(t, frame.OpText, []byte("after"))
	if !eventually(3*time.Second, func() bool { return strings.Contains(p.logText(), "memory budget enforced") }) {
		t.Error("the server did not log what the budget did")
	}
	m := scrape(t, p.admin)
	if m["wsreactor_memory_budget_bytes"] != budget || m[`wsreactor_memory_budget_closes_total{measure=slack_refused}`] != clients ||
		m[`wsreactor_memory_budget_closes_total{measure=largest}`] != 0 || m["wsreactor_memory_held_bytes"] > budget {
		t.Errorf("metrics: budget %v, held %v, closes for slack %v, as largest %v; want %d, <= budget, %d, 0",
			m["wsreactor_memory_budget_bytes"], m["wsreactor_memory_held_bytes"], m[`wsreactor_memory_budget_closes_total{measure=slack_refused}`],
			m[`wsreactor_memory_budget_closes_total{measure=largest}`], budget, clients)
	}
	for _, line := range strings.Split(p.logText(), "\n") {
		if strings.Contains(line, "memory budget") || strings.Contains(line, "go_memory_limit_bytes") {
			t.Logf("server log: %s", line)
		}
	}
}
