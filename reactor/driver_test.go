package reactor

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestDriverSleeps: with no timers, or only far ones, the timer driver does
// not wake up (an idle server burns no CPU); a near timer wakes it about
// once, not once per resolution step.
func TestDriverSleeps(t *testing.T) {
	r := start(t, echoFactory())
	dial(t, r).Write([]byte("x")) // a loop exists
	time.Sleep(20 * time.Millisecond)
	scans := func() int64 { return r.drv.scans.Load() }

	s0 := scans()
	time.Sleep(100 * time.Millisecond)
	if n := scans() - s0; n > 0 {
		t.Errorf("no timers: driver woke %d times in 100ms", n)
	}

	far := r.CallLater(time.Hour, func() {})
	s0 = scans()
	time.Sleep(100 * time.Millisecond)
	if n := scans() - s0; n > 2 {
		t.Errorf("one timer an hour away: driver woke %d times in 100ms", n)
	}
	far.Cancel()

	var fired atomic.Bool
	s0 = scans()
	r.CallLater(50*time.Millisecond, func() { fired.Store(true) })
	waitFor(t, "timer", fired.Load)
	if n := scans() - s0; n > 5 {
		t.Errorf("one 50ms timer: driver woke %d times", n)
	}
}
