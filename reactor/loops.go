package reactor

import (
	"context"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
)

// Connections is the number of open connections: those whose
// ConnectionMade has been called and whose ConnectionLost has not returned.
func (r *Reactor) Connections() int { return int(r.conns.Load()) }

// PendingTimers is the number of pending delayed calls over all loops,
// including the reactor's own (a connection draining its output for
// LoseConnection keeps one per loop pending). For leak tests.
func (r *Reactor) PendingTimers() int {
	n := r.timers.len()
	for _, l := range r.loopList() {
		n += l.timers.len()
	}
	return n
}

// ForEachProtocol runs fn on every open connection's protocol, each on its
// connection's own event loop goroutine (so fn may use the protocol and its
// Transport), and returns when all have run. Loops run it concurrently; fn
// must be safe for that if it shares state. It is how a graceful shutdown
// tells every connection to finish. Do not call it from an event loop
// goroutine: it would wait for itself.
func (r *Reactor) ForEachProtocol(fn func(p Protocol)) {
	r.onEachLoop(func(l *loop) {
		for _, c := range append([]*conn(nil), l.conns...) {
			if c.state&stLost == 0 {
				l.runProtocol(fn, c)
			}
		}
	})
}

// ForEachLoop runs fn(loop) on the goroutine of every event loop that has
// had a connection (the others hold no state), loops concurrently, and
// returns when all have run. fn may read and write state kept per loop
// (indexed by Transport.Loop) without locks: it runs between that loop's
// callbacks. It is how per-loop counters are gathered without an atomic per
// update. Do not call it from an event loop goroutine: it would wait for
// itself.
func (r *Reactor) ForEachLoop(fn func(loop int)) {
	r.onEachLoop(func(l *loop) { l.run(func() { fn(l.id) }) })
}

// Loops is the number of event loops the reactor runs (the bound of
// Transport.Loop).
func (r *Reactor) Loops() int { return r.opts.Loops }

// onEachLoop runs task on every loop's goroutine, concurrently, and waits
// for all (or for the reactor to stop).
func (r *Reactor) onEachLoop(task func(l *loop)) {
	loops := r.loopList()
	var pending atomic.Int64
	all := make(chan struct{})
	pending.Store(int64(len(loops)) + 1)
	finish := func() {
		if pending.Add(-1) == 0 {
			close(all)
		}
	}
	for _, l := range loops {
		err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			defer finish()
			task(l)
			return nil
		}))
		if err != nil {
			finish()
		}
	}
	finish()
	select {
	case <-all:
	case <-r.done:
	}
}

// loopFor returns the reactor's state for a gnet event loop, creating it on
// the loop's first connection. Every later connection finds it in the
// copy-on-write list without a lock (a scan of at most Loops entries). It
// runs on el's goroutine (OnOpen), so no other call adds el meanwhile; the
// lock orders the additions of different loops.
func (r *Reactor) loopFor(el gnet.EventLoop) *loop {
	if l := findLoop(r.loopList(), el); l != nil {
		return l
	}
	r.loopsMu.Lock()
	defer r.loopsMu.Unlock()
	old := r.loopList()
	l := newLoop(r, el, len(old))
	list := append(append(make([]*loop, 0, len(old)+1), old...), l)
	r.loops.Store(&list)
	if r.fake != nil {
		r.fake.subscribe(l)
	}
	return l
}

// findLoop returns the loop of list on el, nil if none.
func findLoop(list []*loop, el gnet.EventLoop) *loop {
	for _, l := range list {
		if l.el == el {
			return l
		}
	}
	return nil
}

func (r *Reactor) loopList() []*loop {
	if p := r.loops.Load(); p != nil {
		return *p
	}
	return nil
}
