package reactor

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// noDeadline is the published deadline of an empty timer set.
const noDeadline = math.MaxInt64

// timers is one set of delayed calls: a 4-ary min-heap ordered by deadline,
// each DelayedCall holding its own index so Cancel and Reset are O(log n)
// without searching. There is one set per event loop (owned by the loop's
// goroutine, no locking) and one goroutine-safe set (mu != nil) for
// Reactor.CallLater and FakeClock.CallLater.
//
// Deadlines are int64 nanoseconds since base on clock. Reset to a later time
// only records the new deadline (when) and leaves the heap key where it is;
// when the stale key comes due, expire re-files the call under its real
// deadline. An idle timeout reset on every message therefore costs O(1) per
// reset and one O(log n) re-filing per timeout period.
//
// The set publishes its earliest key (next) and size (count) through atomics,
// so the timer driver and PendingTimers can read them from other goroutines.
type timers struct {
	clock Clock
	base  time.Time
	heap  []*DelayedCall
	seq   uint32
	mu    *sync.Mutex

	// call runs one expired callback; nil calls it directly. The reactor
	// uses it for panic recovery and deferred ConnectionLost delivery.
	call func(fn func())
	// onNext, when set, is told each time the earliest key changes (on the
	// goroutine that changed it); the driver uses it to wake up earlier.
	onNext func(key int64)

	published int64
	next      atomic.Int64
	count     atomic.Int64
}

func newTimers(clock Clock, base time.Time, locked bool) *timers {
	t := &timers{clock: clock, base: base, published: noDeadline}
	t.next.Store(noDeadline)
	if locked {
		t.mu = new(sync.Mutex)
	}
	return t
}

func (t *timers) lock() {
	if t.mu != nil {
		t.mu.Lock()
	}
}

func (t *timers) unlock() {
	if t.mu != nil {
		t.mu.Unlock()
	}
}

// now is the clock's time as a deadline.
func (t *timers) now() int64 { return int64(t.clock.Now().Sub(t.base)) }

// callLater schedules fn to run d from now.
func (t *timers) callLater(d time.Duration, fn func()) *DelayedCall {
	if fn == nil {
		panic("reactor: CallLater with nil func")
	}
	dc := &DelayedCall{fn: fn, t: t, idx: -1}
	t.lock()
	t.schedule(dc, t.now()+durNanos(d))
	t.unlock()
	return dc
}

// schedule sets dc's deadline to when, adding it to the heap if it is not
// pending. Called with the lock held.
func (t *timers) schedule(dc *DelayedCall, when int64) {
	dc.when = when
	if dc.idx >= 0 {
		if when >= dc.key {
			return // lazy: re-filed when the old key comes due
		}
		dc.key = when
		t.seq++
		dc.seq = t.seq
		t.up(int(dc.idx))
		t.publish()
		return
	}
	dc.key = when
	t.seq++
	dc.seq = t.seq
	dc.idx = int32(len(t.heap))
	t.heap = append(t.heap, dc)
	t.up(int(dc.idx))
	t.publish()
}

// expire runs every call due at now, in deadline order (scheduling order for
// equal deadlines), and returns how many ran. Calls scheduled by the
// callbacks run in the same pass if they are due at now.
func (t *timers) expire(now int64) int {
	t.lock()
	ran := 0
	for len(t.heap) > 0 {
		dc := t.heap[0]
		if dc.key > now {
			break
		}
		if dc.when > now { // moved later by Reset: re-file under its deadline
			dc.key = dc.when
			t.down(0)
			continue
		}
		t.removeAt(0)
		ran++
		fn := dc.fn
		t.publish()
		t.unlock()
		if t.call != nil {
			t.call(fn)
		} else {
			fn()
		}
		t.lock()
	}
	t.publish()
	t.unlock()
	return ran
}

// clear drops every pending call without running it.
func (t *timers) clear() {
	t.lock()
	for _, dc := range t.heap {
		dc.idx = -1
	}
	clear(t.heap)
	t.heap = t.heap[:0]
	t.publish()
	t.unlock()
}

// len is the number of pending calls; safe from any goroutine.
func (t *timers) len() int { return int(t.count.Load()) }

// nextDeadline is the earliest heap key, or noDeadline; safe from any
// goroutine. It may be earlier than the real next deadline (lazy Reset).
func (t *timers) nextDeadline() int64 { return t.next.Load() }

// publish makes the earliest key and the size visible to other goroutines.
func (t *timers) publish() {
	t.count.Store(int64(len(t.heap)))
	k := int64(noDeadline)
	if len(t.heap) > 0 {
		k = t.heap[0].key
	}
	if k == t.published {
		return
	}
	t.published = k
	t.next.Store(k)
	if t.onNext != nil {
		t.onNext(k)
	}
}

// renotify tells onNext the published earliest key again, changed or not.
func (t *timers) renotify() {
	if t.onNext != nil && t.published != noDeadline {
		t.onNext(t.published)
	}
}

func (t *timers) removeAt(i int) {
	h := t.heap
	dc := h[i]
	last := len(h) - 1
	if i != last {
		h[i] = h[last]
		h[i].idx = int32(i)
	}
	h[last] = nil
	t.heap = h[:last]
	dc.idx = -1
	if c := cap(t.heap); c > 1024 && last < c/4 {
		t.heap = append(make([]*DelayedCall, 0, 2*last), t.heap...) // give memory back after a peak
	}
	if i != last {
		if !t.up(i) {
			t.down(i)
		}
	}
}

func less(a, b *DelayedCall) bool {
	return a.key < b.key || (a.key == b.key && int32(a.seq-b.seq) < 0)
}

// up moves h[i] towards the root; it reports whether it moved.
func (t *timers) up(i int) bool {
	h := t.heap
	dc := h[i]
	start := i
	for i > 0 {
		p := (i - 1) / 4
		if !less(dc, h[p]) {
			break
		}
		h[i] = h[p]
		h[i].idx = int32(i)
		i = p
	}
	h[i] = dc
	dc.idx = int32(i)
	return i != start
}

// down moves h[i] towards the leaves.
func (t *timers) down(i int) {
	h := t.heap
	n := len(h)
	dc := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < c+4 && j < n; j++ {
			if less(h[j], h[m]) {
				m = j
			}
		}
		if !less(h[m], dc) {
			break
		}
		h[i] = h[m]
		h[i].idx = int32(i)
		i = m
	}
	h[i] = dc
	dc.idx = int32(i)
}

// nextDue and fireDue let a FakeClock drive a set directly (timer unit tests
// and FakeClock.CallLater); see fakeSub.
func (t *timers) nextDue() (time.Time, bool) {
	k := t.nextDeadline()
	if k == noDeadline {
		return time.Time{}, false
	}
	return t.base.Add(time.Duration(k)), true
}

func (t *timers) fireDue(now time.Time) bool {
	t.expire(int64(now.Sub(t.base)))
	return true
}
