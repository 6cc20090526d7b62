package reactor

import (
	"sync"
	"time"
)

// FakeClock is a Clock that moves only when told to, like Twisted's
// task.Clock. Give it to a reactor with WithClock, then call Advance: every
// call that comes due runs before Advance returns, so timeout tests need no
// sleeps.
//
// The zero value is ready and starts at the zero time.Time. Now and
// CallLater are safe from any goroutine; Advance may be called from any
// goroutine except an event loop's (it waits for the loops to run their due
// calls).
type FakeClock struct {
	mu   sync.Mutex
	now  time.Time
	subs []fakeSub
	own  *timers

	advance sync.Mutex // one Advance at a time
}

// fakeSub is a timer set that a FakeClock drives: the reactor's per-loop sets
// (which fire on their loop) and plain sets.
type fakeSub interface {
	// nextDue is the earliest pending deadline, if any.
	nextDue() (time.Time, bool)
	// fireDue runs the calls due at now before returning; false means the
	// set can no longer run them (its reactor stopped).
	fireDue(now time.Time) bool
}

// NewFakeClock returns a FakeClock that reads start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d. It steps through the pending
// deadlines in order: at each one it sets the clock to that deadline and runs
// the calls due then (on their event loop for a reactor's connections), so a
// callback sees Now() equal to its own deadline, and calls it schedules run
// too if they fall within d. Then the clock reads the old time plus d.
func (c *FakeClock) Advance(d time.Duration) {
	c.advance.Lock()
	defer c.advance.Unlock()
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	var dead []fakeSub
	for {
		c.mu.Lock()
		var best fakeSub
		var at time.Time
		for _, s := range c.subs {
			if containsSub(dead, s) {
				continue
			}
			if t, ok := s.nextDue(); ok && !t.After(target) && (best == nil || t.Before(at)) {
				best, at = s, t
			}
		}
		if best == nil {
			if target.After(c.now) {
				c.now = target
			}
			c.mu.Unlock()
			return
		}
		if at.After(c.now) {
			c.now = at
		}
		now := c.now
		c.mu.Unlock()
		if !best.fireDue(now) {
			dead = append(dead, best)
		}
	}
}

// CallLater schedules fn to run d from now, inside the Advance call that
// reaches its deadline (on the goroutine calling Advance). It is for tests
// of code that takes a scheduling function; the reactor's own timers need no
// help from it.
func (c *FakeClock) CallLater(d time.Duration, fn func()) *DelayedCall {
	c.mu.Lock()
	if c.own == nil {
		c.own = newTimers(c, c.now, true)
		c.subs = append(c.subs, c.own)
	}
	t := c.own
	c.mu.Unlock()
	return t.callLater(d, fn)
}

// Pending returns how many calls scheduled through c.CallLater are pending.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	t := c.own
	c.mu.Unlock()
	if t == nil {
		return 0
	}
	return t.len()
}

func (c *FakeClock) subscribe(s fakeSub) {
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
}

func (c *FakeClock) unsubscribe(s fakeSub) {
	c.mu.Lock()
	for i, x := range c.subs {
		if x == s {
			c.subs = append(c.subs[:i], c.subs[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
}

func containsSub(list []fakeSub, s fakeSub) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
