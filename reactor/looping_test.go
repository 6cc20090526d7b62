package reactor

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLoopingCallCadence drives a LoopingCall with a FakeClock: calls come
// every interval, on the cadence, including the one with now.
func TestLoopingCallCadence(t *testing.T) {
	clock := NewFakeClock(time.Unix(0, 0))
	var at []time.Duration
	lc := NewLoopingCall(clock, func() { at = append(at, clock.Now().Sub(time.Unix(0, 0))) })
	if err := lc.Start(10*time.Second, true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(9 * time.Second)
	clock.Advance(1 * time.Second)
	clock.Advance(35 * time.Second)
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second, 40 * time.Second}
	if !equalDurations(at, want) {
		t.Fatalf("calls at %v; want %v", at, want)
	}
	if lc.Calls() != 5 || lc.Skipped() != 0 || !lc.Running() {
		t.Fatalf("Calls %d, Skipped %d, Running %v; want 5, 0, true", lc.Calls(), lc.Skipped(), lc.Running())
	}
	lc.Stop()
	clock.Advance(time.Minute)
	if len(at) != 5 || lc.Running() || clock.Pending() != 0 {
		t.Fatalf("after Stop: %d calls, Running %v, %d pending; want 5, false, 0", len(at), lc.Running(), clock.Pending())
	}
	// Start again, without now: the first call is an interval away.
	if err := lc.Start(time.Second, false); err != nil {
		t.Fatal(err)
	}
	if err := lc.Start(time.Second, false); !errors.Is(err, ErrLoopingCallRunning) {
		t.Fatalf("second Start = %v; want ErrLoopingCallRunning", err)
	}
	clock.Advance(999 * time.Millisecond)
	if len(at) != 5 {
		t.Fatalf("called before the interval passed")
	}
	clock.Advance(time.Millisecond)
	if len(at) != 6 || at[5] != 106*time.Second {
		t.Fatalf("calls at %v; want a sixth at 1m46s", at)
	}
}

func TestLoopingCallBadInterval(t *testing.T) {
	lc := NewLoopingCall(new(FakeClock), func() {})
	for _, d := range []time.Duration{0, -time.Second} {
		if err := lc.Start(d, false); err == nil || lc.Running() {
			t.Errorf("Start(%v) = %v, Running %v; want an error and not running", d, err, lc.Running())
		}
	}
}

// TestLoopingCallStopFromCall: fn may stop the loop, or stop and restart
// it with another interval.
func TestLoopingCallStopFromCall(t *testing.T) {
	clock := NewFakeClock(time.Unix(0, 0))
	var lc *LoopingCall
	n := 0
	lc = NewLoopingCall(clock, func() {
		n++
		switch n {
		case 2:
			lc.Stop()
			if err := lc.Start(5*time.Second, false); err != nil {
				t.Errorf("restart: %v", err)
			}
		case 4:
			lc.Stop()
		}
	})
	lc.Start(time.Second, false)
	clock.Advance(time.Second) // n=1
	clock.Advance(time.Second) // n=2: restarted at 5s
	clock.Advance(4 * time.Second)
	if n != 2 {
		t.Fatalf("%d calls 4s after the restart; want 2", n)
	}
	clock.Advance(time.Second) // n=3 at 7s
	clock.Advance(time.Minute) // n=4 at 12s, stops
	if n != 4 || lc.Running() || clock.Pending() != 0 {
		t.Fatalf("n=%d Running=%v pending=%d; want 4, false, 0", n, lc.Running(), clock.Pending())
	}
}

func TestLoopingCallPanicStops(t *testing.T) {
	clock := NewFakeClock(time.Unix(0, 0))
	lc := NewLoopingCall(clock, func() { panic("boom") })
	func() {
		defer func() { recover() }()
		lc.Start(time.Second, true)
	}()
	if lc.Running() || clock.Pending() != 0 {
		t.Fatalf("after a panic: Running %v, %d pending; want false, 0", lc.Running(), clock.Pending())
	}
}

// manualClock is a Clock set by hand, for late calls that a FakeClock
// (which runs every call exactly at its deadline) cannot produce.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

type timersScheduler struct{ t *timers }

func (s timersScheduler) CallLater(d time.Duration, fn func()) *DelayedCall {
	return s.t.callLater(d, fn)
}

// TestLoopingCallSkipsMissed: a call that runs late by whole intervals
// skips the missed ones and keeps the cadence.
func TestLoopingCallSkipsMissed(t *testing.T) {
	base := time.Unix(0, 0)
	clk := &manualClock{now: base}
	ts := newTimers(clk, base, true)
	var at []time.Duration
	slow := time.Duration(0) // how long the next call takes
	lc := NewLoopingCall(timersScheduler{ts}, func() {
		at = append(at, clk.Now().Sub(base))
		clk.set(clk.Now().Add(slow))
		slow = 0
	})
	lc.Start(10*time.Second, false)
	run := func(d time.Duration) {
		clk.set(base.Add(d))
		ts.expire(ts.now())
	}
	tests := []struct {
		now     time.Duration // when the timer set runs
		slow    time.Duration // how long that call takes
		next    time.Duration // next deadline
		skipped int
	}{
		{now: 10 * time.Second, next: 20 * time.Second},
		{now: 20 * time.Second, slow: 35 * time.Second, next: 60 * time.Second, skipped: 3}, // ends at 55s: 30, 40, 50 missed
		{now: 63 * time.Second, next: 70 * time.Second, skipped: 3},                         // 3s late: nothing missed
		{now: 70 * time.Second, slow: 20 * time.Second, next: 90 * time.Second, skipped: 4}, // ends at 90s: 80 missed, 90 due now
	}
	for i, tt := range tests {
		slow = tt.slow
		run(tt.now)
		if got := lc.dc.Time().Sub(base); got != tt.next || lc.Skipped() != tt.skipped {
			t.Fatalf("step %d: next due at %v, Skipped %d; want %v, %d (calls at %v)", i, got, lc.Skipped(), tt.next, tt.skipped, at)
		}
	}
	if lc.Calls() != len(tests) {
		t.Fatalf("Calls %d; want %d", lc.Calls(), len(tests))
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLoopingCallAllocs: after Start, each call re-arms the same
// DelayedCall and allocates nothing (run by test.sh's allocation step).
func TestLoopingCallAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	base := time.Unix(0, 0)
	clk := &manualClock{now: base}
	ts := newTimers(clk, base, false)
	n := 0
	lc := NewLoopingCall(timersScheduler{ts}, func() { n++ })
	lc.Start(time.Second, false)
	at := time.Duration(0)
	tick := func() {
		at += time.Second
		clk.set(base.Add(at))
		ts.expire(ts.now())
	}
	tick()
	if a := testing.AllocsPerRun(1000, tick); a != 0 {
		t.Fatalf("%.2f allocations per LoopingCall call; want 0", a)
	}
	if n != 1002 {
		t.Fatalf("%d calls; want 1002", n)
	}
}
