package reactor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
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

// TestDriverWokenByRedundantExpire replays the interleaving behind a lost
// wake-up: the driver queues a loop's expire task, the task starts (firing
// goes false), the driver scans again before the task has published, sees
// the old due deadline and queues a second task, then skips the loop (firing)
// and sleeps with no deadline. The second task expires nothing, so the
// published deadline does not change; it must still wake the driver, or the
// loop's remaining timers never fire.
func TestDriverWokenByRedundantExpire(t *testing.T) {
	r := start(t, echoFactory())
	dial(t, r).Write([]byte("x"))
	waitFor(t, "a loop", func() bool { return len(r.loopList()) > 0 })
	l := r.loopList()[0]

	// Run on the loop's goroutine so its timer set is not shared.
	onLoop := func(fn func()) {
		done := make(chan struct{})
		if err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			fn()
			close(done)
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		<-done
	}
	var later *DelayedCall
	onLoop(func() { later = l.timers.callLater(time.Hour, func() {}) })
	defer onLoop(func() { later.Cancel() })

	// The driver is asleep with no deadline and its wake channel is empty.
	d := &driver{r: r, wake: make(chan struct{}, 1)}
	d.sleepUntil.Store(noDeadline)
	onLoop(func() { l.timers.onNext = d.onNext })
	defer onLoop(func() { l.timers.onNext = r.drv.onNext })

	// The redundant second task: nothing is due, nothing changes.
	l.firing.Store(true)
	onLoop(func() { l.expire.Run(context.Background()) })
	select {
	case <-d.wake:
	default:
		t.Fatal("a redundant expire task left the driver asleep past a pending deadline")
	}
	if l.firing.Load() {
		t.Fatal("expire task left firing set")
	}
}
