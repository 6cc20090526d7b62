package reactor

import "time"

// DelayedCall is a function scheduled to run later, returned by
// Transport.CallLater, Reactor.CallLater and FakeClock.CallLater (Twisted's
// IDelayedCall). It is allocated once by CallLater; Reset and Cancel never
// allocate, so a per-connection idle timer can be reset on every message.
//
// Goroutines: a DelayedCall from Transport.CallLater belongs to that
// connection's event loop, and its methods may be called only on that loop's
// goroutine (from a Protocol callback, another delayed call on the same loop,
// or a CallFromThread function). One from Reactor.CallLater or
// FakeClock.CallLater may be used from any goroutine.
type DelayedCall struct {
	fn   func()
	t    *timers
	when int64  // deadline, nanoseconds since t.base
	key  int64  // heap key, <= when: Reset to a later time only moves when (lazy)
	seq  uint32 // tie-break: calls due at the same instant run in scheduling order
	idx  int32  // index in t.heap; -1 when not pending
}

// Cancel stops the call from running. It does nothing if the call has
// already run or been cancelled. O(log n).
func (dc *DelayedCall) Cancel() {
	t := dc.t
	t.lock()
	if dc.idx >= 0 {
		t.removeAt(int(dc.idx))
		t.publish()
	}
	t.unlock()
}

// Reset schedules the call to run d from now (d < 0 counts as 0), whether it
// is pending, has already run or was cancelled, like time.Timer.Reset. Moving
// a pending call later is O(1); moving it earlier or re-arming it is
// O(log n). It never allocates.
func (dc *DelayedCall) Reset(d time.Duration) {
	t := dc.t
	t.lock()
	t.schedule(dc, t.now()+durNanos(d))
	t.unlock()
}

// Active reports whether the call is still pending: it has neither run nor
// been cancelled since it was last scheduled.
func (dc *DelayedCall) Active() bool {
	t := dc.t
	t.lock()
	ok := dc.idx >= 0
	t.unlock()
	return ok
}

// Time returns when the call is (or was last) due to run, on the reactor's
// Clock.
func (dc *DelayedCall) Time() time.Time {
	t := dc.t
	t.lock()
	w := dc.when
	t.unlock()
	return t.base.Add(time.Duration(w))
}

func durNanos(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return int64(d)
}
