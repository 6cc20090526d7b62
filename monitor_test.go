package main

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsreactor/wsreactor/frame"
)

// TestLagHistogram: each sample lands in the first bucket whose bound it
// does not pass, and the exported buckets are cumulative.
func TestLagHistogram(t *testing.T) {
	h := lagHist{counts: make([]uint64, len(lagBuckets)+1)}
	for _, d := range []time.Duration{
		50 * time.Microsecond,  // ≤ 0.0001
		100 * time.Microsecond, // ≤ 0.0001 (at the bound)
		101 * time.Microsecond, // ≤ 0.00025
		3 * time.Millisecond,   // ≤ 0.005
		2 * time.Second,        // past 1: +Inf only
	} {
		h.observe(d)
	}
	if h.count != 5 {
		t.Fatalf("count = %d; want 5", h.count)
	}
	if want := 0.00005 + 0.0001 + 0.000101 + 0.003 + 2; h.sum < want-1e-9 || h.sum > want+1e-9 {
		t.Errorf("sum = %v; want %v", h.sum, want)
	}
	cum := cumulative(h.counts)
	for ub, want := range map[float64]uint64{0.0001: 2, 0.00025: 3, 0.001: 3, 0.005: 4, 1: 4} {
		if cum[ub] != want {
			t.Errorf("bucket le=%v: %d; want %d", ub, cum[ub], want)
		}
	}
	if c := h.clone(); &c.counts[0] == &h.counts[0] || c.counts[0] != 2 {
		t.Error("clone shares or loses the counts")
	}
}

// TestMetricsLint runs Prometheus's linter over the server's own series:
// names, units, _total on counters, help text.
func TestMetricsLint(t *testing.T) {
	cfg := testConfig()
	cfg.AdminAddr = "127.0.0.1:0"
	run := startRunning(t, cfg)
	openWS(t, run.Addr().String()) // a loop with state, so per-loop series exist
	reg := newRegistry(run.r, run.srv, newMonitor(run.r, run.srv, nil, cfg.Loops))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "wsreactor_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// TestScrapeWithBlockedLoop: a scrape does not hang on an event loop that
// does not answer; it serves the loop's previous counts, and fresh ones
// again once the loop is back.
func TestScrapeWithBlockedLoop(t *testing.T) {
	cfg := testConfig()
	cfg.Loops = 1
	run := startRunning(t, cfg)
	ws := openWS(t, run.Addr().String())
	ws.echo(t, frame.OpText, []byte("one"))
	reg := newRegistry(run.r, run.srv, newMonitor(run.r, run.srv, nil, cfg.Loops))
	received := func() float64 {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "wsreactor_messages_received_total" {
				for _, m := range f.GetMetric() {
					if m.GetLabel()[0].GetValue() == "text" {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		t.Fatal("no wsreactor_messages_received_total{type=text}")
		return 0
	}
	if n := received(); n != 1 {
		t.Fatalf("received %v; want 1", n)
	}
	release := make(chan struct{})
	blocked := make(chan struct{})
	go run.r.ForEachLoop(func(int) { close(blocked); <-release }) // the loop is stuck in a callback
	<-blocked
	start := time.Now()
	if n := received(); n != 1 {
		t.Errorf("received %v while the loop is blocked; want the last count, 1", n)
	}
	if el := time.Since(start); el < gatherTimeout || el > gatherTimeout+3*time.Second {
		t.Errorf("scrape with a blocked loop took %v; want about %v", el, gatherTimeout)
	}
	close(release)
	ws.echo(t, frame.OpText, []byte("two"))
	received() // may serve the copy left running by the blocked scrape, made when the loop came back
	if n := received(); n != 2 {
		t.Errorf("received %v after the loop is back; want 2", n)
	}
}
