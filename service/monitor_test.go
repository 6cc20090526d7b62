package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/service"
)

// TestMetricsLint runs Prometheus's linter over the server's own series:
// names, units, _total on counters, help text.
func TestMetricsLint(t *testing.T) {
	cfg := testkit.Config()
	cfg.AdminAddr = "127.0.0.1:0"
	run := testkit.Start(t, cfg)
	testkit.OpenWS(t, run.Addr().String()) // a loop with state, so per-loop series exist
	reg := service.NewTestRegistry(run)
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
	cfg := testkit.Config()
	cfg.Loops = 1
	run := testkit.Start(t, cfg)
	ws := testkit.OpenWS(t, run.Addr().String())
	ws.Echo(t, frame.OpText, []byte("one"))
	reg := service.NewTestRegistry(run)
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
	go run.Reactor().ForEachLoop(func(int) { close(blocked); <-release }) // the loop is stuck in a callback
	<-blocked
	start := time.Now()
	if n := received(); n != 1 {
		t.Errorf("received %v while the loop is blocked; want the last count, 1", n)
	}
	if el := time.Since(start); el < service.GatherTimeout || el > service.GatherTimeout+3*time.Second {
		t.Errorf("scrape with a blocked loop took %v; want about %v", el, service.GatherTimeout)
	}
	close(release)
	ws.Echo(t, frame.OpText, []byte("two"))
	received() // may serve the copy left running by the blocked scrape, made when the loop came back
	if n := received(); n != 2 {
		t.Errorf("received %v after the loop is back; want 2", n)
	}
}
