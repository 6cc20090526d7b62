package reactor

import (
	"sync/atomic"
	"time"
)

// driver drives every event loop's timers from one goroutine, so no timer
// costs a goroutine or a runtime timer of its own. It sleeps until the
// earliest deadline over all loops (rounded up to TimerResolution, so
// deadlines close together fire in one batch), then asks each loop with
// something due to run its expired calls on its own goroutine
// (EventLoop.Execute). With no timers pending it sleeps until one is added,
// so an idle server burns no CPU. It also runs the reactor-level calls of
// Reactor.CallLater, on its own goroutine.
//
// A loop whose earliest deadline moves before the driver's wake-up time
// pokes it (onNext). While the driver scans, sleepUntil is noDeadline, so
// any change made during the scan pokes it and the scan is repeated: no
// wake-up is lost.
type driver struct {
	r          *Reactor
	wake       chan struct{}
	sleepUntil atomic.Int64
	scans      atomic.Int64 // how often it woke up and scanned (tests)
}

func newDriver(r *Reactor) *driver {
	d := &driver{r: r, wake: make(chan struct{}, 1)}
	d.sleepUntil.Store(noDeadline)
	return d
}

// onNext is told a timer set's new earliest key (any goroutine).
func (d *driver) onNext(key int64) {
	if key < d.sleepUntil.Load() {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

func (d *driver) run(stop <-chan struct{}) {
	res := int64(d.r.opts.TimerResolution)
	tm := time.NewTimer(time.Hour)
	tm.Stop()
	rt := d.r.timers
	for {
		d.scans.Add(1)
		d.sleepUntil.Store(noDeadline)
		now := rt.now()
		earliest := int64(noDeadline)
		for _, l := range d.r.loopList() {
			if l.firing.Load() {
				continue // its expire task will publish a new deadline
			}
			if k := l.timers.nextDeadline(); k <= now {
				l.fire()
			} else {
				earliest = min(earliest, k)
			}
		}
		if k := rt.nextDeadline(); k <= now {
			rt.expire(now)
			continue
		} else {
			earliest = min(earliest, k)
		}
		if earliest == noDeadline {
			select {
			case <-d.wake:
				continue
			case <-stop:
				return
			}
		}
		target := (earliest + res - 1) / res * res
		d.sleepUntil.Store(target)
		tm.Reset(time.Duration(target - now))
		select {
		case <-tm.C:
		case <-d.wake:
			tm.Stop()
		case <-stop:
			tm.Stop()
			return
		}
	}
}
