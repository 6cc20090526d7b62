package reactor

import (
	"log"
	"sync/atomic"
	"time"
)

// ShedLogInterval is the most often the reactor logs that it is shedding
// connections at the descriptor limit: one line per interval, however many
// connections were shed in it.
const ShedLogInterval = time.Second

// AcceptStats counts the connections the reactor could not take because
// the process had no descriptor (or kernel memory) left for them.
type AcceptStats struct {
	// Shed is the number of connections accepted and closed at once, with
	// no byte read or written, because accept(2) failed with EMFILE,
	// ENFILE, ENOBUFS or ENOMEM: the patched gnet frees a spare descriptor
	// for a moment to take each one off the backlog (see
	// third_party/gnet/PATCH.md). The client sees its connection closed
	// (or reset, if it had sent data).
	Shed int64
	// Pauses is the number of times not even the spare descriptor helped
	// (another process took the freed slot, or memory ran out) and the
	// listener was left unpolled for a backoff, 10ms doubling to 1s;
	// connections wait in the kernel's backlog meanwhile.
	Pauses int64
}

// AcceptStats returns the counts of connections shed at the descriptor
// limit since Run. Safe from any goroutine.
func (r *Reactor) AcceptStats() AcceptStats {
	return AcceptStats{Shed: r.shed.total.Load(), Pauses: r.shed.pauses.Load()}
}

// shedLog counts sheds and pauses, and logs them at most once per
// ShedLogInterval. These are rare events (one per connection refused at
// the limit, never per message), so shared atomics are fine.
type shedLog struct {
	total, pauses   atomic.Int64
	window, wpauses atomic.Int64 // since the last line
	armed           atomic.Bool  // a line is scheduled
	cause           atomic.Value // error: the latest accept error
}

// OnAcceptError is the patched gnet's gnet.AcceptErrorHandler: accept(2)
// failed with err for want of a descriptor or memory; shed is 1 if one
// connection was closed at once, 0 if the listener was paused. It runs on
// the accepting goroutine (several at once with WithReusePort).
func (h *handler) OnAcceptError(err error, shed int) { h.r.acceptFailed(err, shed) }

func (r *Reactor) acceptFailed(err error, shed int) {
	s := &r.shed
	if shed > 0 {
		s.total.Add(int64(shed))
		s.window.Add(int64(shed))
	} else {
		s.pauses.Add(1)
		s.wpauses.Add(1)
	}
	s.cause.Store(err)
	if s.armed.CompareAndSwap(false, true) {
		r.CallLater(ShedLogInterval, r.logShed)
	}
}

// logShed writes the line for the interval just ended, and schedules the
// next one if something happened while it was being written.
func (r *Reactor) logShed() {
	s := &r.shed
	n, p := s.window.Swap(0), s.wpauses.Swap(0)
	l := r.opts.Logger
	if l == nil {
		l = log.Default()
	}
	if n > 0 || p > 0 {
		l.Printf("reactor: open-file limit reached (accept: %v): shed %d connections in the last %v, listener paused %d times",
			s.cause.Load(), n, ShedLogInterval, p)
	}
	s.armed.Store(false)
	if (s.window.Load() > 0 || s.wpauses.Load() > 0) && s.armed.CompareAndSwap(false, true) {
		r.CallLater(ShedLogInterval, r.logShed)
	}
}
