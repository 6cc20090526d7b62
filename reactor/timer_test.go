package reactor

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// newTestTimers returns a loop-style (unlocked) timer set driven by a fake clock.
func newTestTimers() (*FakeClock, *timers) {
	fc := NewFakeClock(epoch)
	t := newTimers(fc, epoch, false)
	fc.subscribe(t)
	return fc, t
}

func TestTimersOrder(t *testing.T) {
	fc, ts := newTestTimers()
	var got []string
	add := func(d time.Duration, name string) *DelayedCall {
		return ts.callLater(d, func() { got = append(got, fmt.Sprintf("%s@%v", name, fc.Now().Sub(epoch))) })
	}
	add(30*time.Millisecond, "c")
	add(10*time.Millisecond, "a")
	add(20*time.Millisecond, "b")
	add(10*time.Millisecond, "a2") // same deadline: scheduling order
	add(0, "zero")
	fc.Advance(15 * time.Millisecond)
	want := []string{"zero@0s", "a@10ms", "a2@10ms"}
	if !slices.Equal(got, want) {
		t.Fatalf("after 15ms ran %q; want %q", got, want)
	}
	if n := ts.len(); n != 2 {
		t.Fatalf("pending = %d; want 2", n)
	}
	fc.Advance(time.Hour)
	want = append(want, "b@20ms", "c@30ms")
	if !slices.Equal(got, want) {
		t.Fatalf("ran %q; want %q", got, want)
	}
	if got := fc.Now().Sub(epoch); got != time.Hour+15*time.Millisecond {
		t.Fatalf("clock at %v; want 1h0m0.015s", got)
	}
	if ts.len() != 0 || ts.nextDeadline() != noDeadline {
		t.Fatalf("pending = %d, next = %d; want empty", ts.len(), ts.nextDeadline())
	}
}

func TestTimersCancel(t *testing.T) {
	fc, ts := newTestTimers()
	ran := map[int]bool{}
	var calls []*DelayedCall
	for i := 0; i < 50; i++ {
		calls = append(calls, ts.callLater(time.Duration(i+1)*time.Millisecond, func() { ran[i] = true }))
	}
	for i := 0; i < 50; i += 3 {
		calls[i].Cancel()
		calls[i].Cancel() // twice is harmless
		if calls[i].Active() {
			t.Fatalf("call %d active after Cancel", i)
		}
	}
	fc.Advance(time.Second)
	for i := 0; i < 50; i++ {
		if ran[i] != (i%3 != 0) {
			t.Errorf("call %d ran = %v; want %v", i, ran[i], i%3 != 0)
		}
		if calls[i].Active() {
			t.Errorf("call %d still active", i)
		}
	}
	calls[1].Cancel() // cancel after it ran: no effect
	if ts.len() != 0 {
		t.Fatalf("pending = %d; want 0", ts.len())
	}
}

func TestTimersReset(t *testing.T) {
	fc, ts := newTestTimers()
	var at []time.Duration
	dc := ts.callLater(10*time.Millisecond, func() { at = append(at, fc.Now().Sub(epoch)) })
	fc.Advance(5 * time.Millisecond)
	dc.Reset(10 * time.Millisecond) // later: now due at 15ms (lazy move)
	if got := dc.Time().Sub(epoch); got != 15*time.Millisecond {
		t.Fatalf("Time() = %v; want 15ms", got)
	}
	fc.Advance(9 * time.Millisecond) // 14ms
	if len(at) != 0 {
		t.Fatalf("ran at %v before its reset deadline", at)
	}
	dc.Reset(time.Millisecond) // earlier: 15ms again, via sift-up
	dc.Reset(0)                // earlier still: 14ms, fires on the next Advance
	fc.Advance(0)
	if !slices.Equal(at, []time.Duration{14 * time.Millisecond}) {
		t.Fatalf("ran at %v; want [14ms]", at)
	}
	if dc.Active() {
		t.Fatal("active after running")
	}
	// Reset of a call that already ran schedules it again.
	dc.Reset(3 * time.Millisecond)
	if !dc.Active() {
		t.Fatal("not active after Reset of a fired call")
	}
	fc.Advance(10 * time.Millisecond)
	if !slices.Equal(at, []time.Duration{14 * time.Millisecond, 17 * time.Millisecond}) {
		t.Fatalf("ran at %v; want [14ms 17ms]", at)
	}
	// Reset of a cancelled call schedules it again too.
	dc.Reset(time.Millisecond)
	dc.Cancel()
	dc.Reset(2 * time.Millisecond)
	fc.Advance(2 * time.Millisecond)
	if len(at) != 3 || at[2] != 26*time.Millisecond {
		t.Fatalf("ran at %v; want a third run at 26ms", at)
	}
}

func TestTimersResetManyTimesIdleTimeout(t *testing.T) {
	// An idle timeout reset on every message fires once, a full period after
	// the last message.
	fc, ts := newTestTimers()
	fired := 0
	idle := ts.callLater(100*time.Millisecond, func() { fired++ })
	for i := 0; i < 1000; i++ {
		fc.Advance(time.Millisecond)
		idle.Reset(100 * time.Millisecond)
	}
	fc.Advance(99 * time.Millisecond)
	if fired != 0 {
		t.Fatalf("fired %d times while traffic kept resetting it", fired)
	}
	fc.Advance(time.Millisecond)
	if fired != 1 {
		t.Fatalf("fired %d times; want 1", fired)
	}
}

func TestTimersCallbacksScheduleAndCancel(t *testing.T) {
	fc, ts := newTestTimers()
	var log []string
	var victim *DelayedCall
	ts.callLater(10*time.Millisecond, func() {
		log = append(log, "first")
		victim.Cancel()
		ts.callLater(5*time.Millisecond, func() { log = append(log, "child") })
		ts.callLater(0, func() { log = append(log, "now") })
	})
	victim = ts.callLater(12*time.Millisecond, func() { log = append(log, "victim") })
	ts.callLater(20*time.Millisecond, func() { log = append(log, "last") })
	var self *DelayedCall
	count := 0
	self = ts.callLater(11*time.Millisecond, func() {
		count++
		if count < 3 {
			self.Reset(2 * time.Millisecond) // re-arms itself from inside its callback
		}
	})
	fc.Advance(time.Second)
	want := []string{"first", "now", "child", "last"}
	if !slices.Equal(log, want) {
		t.Fatalf("ran %q; want %q", log, want)
	}
	if count != 3 {
		t.Fatalf("self-resetting call ran %d times; want 3", count)
	}
	if ts.len() != 0 {
		t.Fatalf("pending = %d; want 0", ts.len())
	}
}

// TestTimersRandom checks the heap against a sorted model under a random mix
// of operations.
func TestTimersRandom(t *testing.T) {
	fc, ts := newTestTimers()
	rng := rand.New(rand.NewSource(1))
	type entry struct {
		dc   *DelayedCall
		id   int
		when time.Duration
	}
	var calls []*entry
	pending := map[int]time.Duration{} // id -> deadline since epoch
	var fired []int
	for step := 0; step < 5000; step++ {
		now := fc.Now().Sub(epoch)
		switch op := rng.Intn(10); {
		case op < 4:
			e := &entry{id: len(calls)}
			d := time.Duration(rng.Intn(1000)) * time.Microsecond
			e.dc = ts.callLater(d, func() { fired = append(fired, e.id) })
			calls = append(calls, e)
			pending[e.id] = now + d
		case op < 6 && len(calls) > 0:
			e := calls[rng.Intn(len(calls))]
			d := time.Duration(rng.Intn(1000)) * time.Microsecond
			e.dc.Reset(d)
			pending[e.id] = now + d
		case op < 7 && len(calls) > 0:
			e := calls[rng.Intn(len(calls))]
			e.dc.Cancel()
			delete(pending, e.id)
		default:
			adv := time.Duration(rng.Intn(300)) * time.Microsecond
			fired = fired[:0]
			fc.Advance(adv)
			end := now + adv
			var due []int
			for id, w := range pending {
				if w <= end {
					due = append(due, id)
				}
			}
			slices.Sort(due)
			got := slices.Clone(fired)
			slices.Sort(got)
			if !slices.Equal(got, due) {
				t.Fatalf("step %d: fired %v; want %v", step, got, due)
			}
			// Firing order is by deadline.
			for i := 1; i < len(fired); i++ {
				if pending[fired[i-1]] > pending[fired[i]] {
					t.Fatalf("step %d: %d (due %v) ran before %d (due %v)", step, fired[i-1], pending[fired[i-1]], fired[i], pending[fired[i]])
				}
			}
			for _, id := range due {
				delete(pending, id)
			}
		}
		if ts.len() != len(pending) {
			t.Fatalf("step %d: pending = %d; want %d", step, ts.len(), len(pending))
		}
		for _, e := range calls {
			_, want := pending[e.id]
			if e.dc.Active() != want {
				t.Fatalf("step %d: call %d Active = %v; want %v", step, e.id, !want, want)
			}
		}
	}
}

func TestTimersResetDoesNotAllocate(t *testing.T) {
	_, ts := newTestTimers()
	dcs := make([]*DelayedCall, 1000)
	for i := range dcs {
		dcs[i] = ts.callLater(time.Duration(i)*time.Millisecond, func() {})
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		dc := dcs[i%len(dcs)]
		dc.Reset(time.Duration(i%7) * time.Second)
		dc.Cancel()
		dc.Reset(time.Duration(i%5) * time.Millisecond)
		i++
	})
	if allocs != 0 {
		t.Fatalf("Reset/Cancel allocate %v times per run; want 0", allocs)
	}
}

func TestFakeClockCallLater(t *testing.T) {
	var fc FakeClock
	ran := 0
	dc := fc.CallLater(time.Second, func() { ran++ })
	fc.Advance(999 * time.Millisecond)
	if ran != 0 || fc.Pending() != 1 || !dc.Active() {
		t.Fatalf("ran %d, pending %d before the deadline", ran, fc.Pending())
	}
	fc.Advance(time.Millisecond)
	if ran != 1 || fc.Pending() != 0 || dc.Active() {
		t.Fatalf("ran %d, pending %d after the deadline; want 1, 0", ran, fc.Pending())
	}
}

// BenchmarkTimers measures the per-operation cost with 100,000 pending calls
// (one idle timer per connection).
func BenchmarkTimers(b *testing.B) {
	const n = 100_000
	setup := func() (*FakeClock, *timers, []*DelayedCall) {
		fc, ts := newTestTimers()
		dcs := make([]*DelayedCall, n)
		rng := rand.New(rand.NewSource(1))
		for i := range dcs {
			dcs[i] = ts.callLater(time.Duration(rng.Intn(30_000))*time.Millisecond, func() {})
		}
		return fc, ts, dcs
	}
	b.Run("ResetLater", func(b *testing.B) {
		fc, _, dcs := setup()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%n == 0 {
				fc.mu.Lock()
				fc.now = fc.now.Add(time.Millisecond)
				fc.mu.Unlock()
			}
			dcs[i%n].Reset(30 * time.Second)
		}
	})
	b.Run("ResetEarlier", func(b *testing.B) {
		_, _, dcs := setup()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dcs[i%n].Reset(time.Duration(i%30_000) * time.Millisecond)
		}
	})
	b.Run("CancelAdd", func(b *testing.B) {
		_, ts, dcs := setup()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dc := dcs[i%n]
			dc.Cancel()
			dc.Reset(time.Duration(i%30_000) * time.Millisecond)
		}
		_ = ts
	})
	b.Run("CallLater", func(b *testing.B) {
		_, ts, _ := setup()
		b.ReportAllocs()
		fn := func() {}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dc := ts.callLater(time.Duration(i%30_000)*time.Millisecond, fn)
			dc.Cancel()
		}
	})
	b.Run("Expire", func(b *testing.B) {
		// Schedule and expire: each op is one call added and later fired.
		fc, ts, _ := setup()
		dcs := make([]*DelayedCall, 1024)
		for i := range dcs {
			dcs[i] = ts.callLater(time.Hour, func() {})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dcs[i%len(dcs)].Reset(0)
			if i%len(dcs) == len(dcs)-1 {
				ts.expire(ts.now())
			}
		}
		_ = fc
	})
}
