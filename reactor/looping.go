package reactor

import (
	"errors"
	"fmt"
	"time"
)

// Scheduler is anything that schedules delayed calls: a connection's
// Transport (the calls run on its event loop), a *Reactor (on its timer
// goroutine) or a *FakeClock (inside Advance).
type Scheduler interface {
	CallLater(d time.Duration, fn func()) *DelayedCall
}

// LoopingCall calls a function repeatedly, every interval, on a Scheduler
// (Twisted's task.LoopingCall): a heartbeat, a periodic flush, a poll. It
// is built on one DelayedCall, re-armed after each call, so it allocates
// nothing after Start and holds no goroutine.
//
// The calls keep their cadence: they are due at start+interval,
// start+2·interval, and so on, measured on the Scheduler's clock, not
// interval after the previous call returned. When a call runs so late that
// whole intervals have passed (a loop kept busy, a machine suspended), the
// missed calls are skipped, not made up in a burst; Skipped counts them.
//
// Goroutines: a LoopingCall is not safe for concurrent use. Call Start,
// Stop and Running on the goroutine where its calls run: for a
// Transport's Scheduler, the connection's event loop (from a Protocol
// callback, a delayed call or a CallFromThread function); for a FakeClock,
// the goroutine that calls Advance. fn may call Stop, or Stop then Start.
//
// A call scheduled on a Transport runs even after the connection is lost:
// Stop the LoopingCall in ConnectionLost. A panic in fn stops it (Running
// turns false); the reactor logs the panic as for any delayed call.
type LoopingCall struct {
	fn       func()
	s        Scheduler
	interval time.Duration
	dc       *DelayedCall // made by the first Start, re-armed after
	running  bool
	calls    int
	skipped  int
}

// NewLoopingCall returns a stopped LoopingCall that will call fn on s.
func NewLoopingCall(s Scheduler, fn func()) *LoopingCall {
	if s == nil || fn == nil {
		panic("reactor: NewLoopingCall with a nil Scheduler or func")
	}
	return &LoopingCall{fn: fn, s: s}
}

// ErrLoopingCallRunning is Start's error when the LoopingCall is already
// running.
var ErrLoopingCallRunning = errors.New("reactor: LoopingCall already running")

// Start calls fn every interval from now on; with now set, it also calls fn
// once at once, before Start returns (Twisted's start(interval, now=True)).
// interval must be positive. It returns ErrLoopingCallRunning if the
// LoopingCall is running.
func (lc *LoopingCall) Start(interval time.Duration, now bool) error {
	if lc.running {
		return ErrLoopingCallRunning
	}
	if interval <= 0 {
		return fmt.Errorf("reactor: LoopingCall interval %v: must be positive", interval)
	}
	lc.interval, lc.running = interval, true
	if lc.dc == nil {
		lc.dc = lc.s.CallLater(interval, lc.tick)
	} else {
		lc.dc.Reset(interval)
	}
	if now {
		lc.call()
	}
	return nil
}

// Stop stops the calls; a call already running finishes. It does nothing
// if the LoopingCall is not running.
func (lc *LoopingCall) Stop() {
	if !lc.running {
		return
	}
	lc.running = false
	lc.dc.Cancel()
}

// Running reports whether the LoopingCall is started and not stopped.
func (lc *LoopingCall) Running() bool { return lc.running }

// Calls is how many times fn has been called.
func (lc *LoopingCall) Calls() int { return lc.calls }

// Skipped is how many due calls were skipped because a call ran late by
// more than an interval.
func (lc *LoopingCall) Skipped() int { return lc.skipped }

// call runs fn once, counting it; a panic in fn stops the LoopingCall.
func (lc *LoopingCall) call() {
	lc.calls++
	ok := false
	defer func() {
		if !ok {
			lc.Stop()
		}
	}()
	lc.fn()
	ok = true
}

// tick is the DelayedCall's function: call fn, then re-arm the
// DelayedCall for the next due time on the cadence.
func (lc *LoopingCall) tick() {
	if !lc.running {
		return
	}
	t := lc.dc.t
	t.lock()
	due := lc.dc.when // the deadline this run was for
	t.unlock()
	lc.call()
	if !lc.running || lc.dc.Active() {
		return // stopped, or restarted by fn
	}
	step := int64(lc.interval)
	t.lock()
	next := due + step
	if now := t.now(); next < now {
		k := (now - due + step - 1) / step // the first due time not yet past
		lc.skipped += int(k - 1)
		next = due + k*step
	}
	t.schedule(lc.dc, next)
	t.unlock()
}
