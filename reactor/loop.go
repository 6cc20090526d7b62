package reactor

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// loop is the reactor's state for one gnet event loop. Apart from the
// immutable fields and the atomics, it is touched only on that loop's
// goroutine.
type loop struct {
	r      *Reactor
	el     gnet.EventLoop
	id     int // index in the reactor's loop list (Transport.Loop)
	timers *timers
	firing atomic.Bool   // an expire task is queued on the loop
	expire gnet.Runnable // that task, built once

	conns []*conn // open connections, for ForEachProtocol

	// Callback nesting depth. ConnectionLost is never delivered inside
	// another callback (a Write that finds the socket broken makes gnet close
	// the connection synchronously): it is queued in lost and delivered when
	// the outermost callback returns.
	depth      int
	delivering bool
	lost       []lostEvent

	closing // LoseConnection's drain and linger bookkeeping
}

type lostEvent struct {
	c      *conn
	reason error
}

func newLoop(r *Reactor, el gnet.EventLoop, id int) *loop {
	l := &loop{r: r, el: el, id: id}
	l.timers = newTimers(r.opts.Clock, r.base, false)
	l.timers.call = l.run
	if r.drv != nil {
		l.timers.onNext = r.drv.onNext
	}
	l.expire = gnet.RunnableFunc(func(context.Context) error {
		l.firing.Store(false)
		l.timers.expire(l.timers.now())
		// The driver left this loop out of its sleep while the task was
		// queued (firing), so tell it the earliest deadline even when it is
		// unchanged: a second task, queued while the first was running,
		// expires nothing and publishes nothing, and without this the
		// driver would sleep past the deadline (or forever).
		l.timers.renotify()
		return nil
	})
	return l
}

// leave ends a callback started with l.depth++; it must be deferred
// directly. It recovers a panic (logging it and aborting c, if any) and
// delivers queued ConnectionLost calls once the outermost callback is done.
func (l *loop) leave(c *conn) {
	if v := recover(); v != nil {
		l.r.panicked(v)
		if c != nil {
			c.AbortConnection()
		}
	}
	l.depth--
	if l.depth == 0 && len(l.lost) > 0 && !l.delivering {
		l.deliverLost()
	}
}

func (l *loop) buildProtocol(addr net.Addr) (p Protocol) {
	l.depth++
	defer l.leave(nil)
	return l.r.factory.BuildProtocol(addr)
}

func (l *loop) connectionMade(c *conn) {
	l.depth++
	defer l.leave(c)
	c.proto.ConnectionMade(c)
}

func (l *loop) dataReceived(c *conn, data []byte) {
	l.depth++
	defer l.leave(c)
	c.proto.DataReceived(data)
}

func (l *loop) connectionLost(c *conn, reason error) {
	defer l.r.conns.Add(-1)
	l.depth++
	defer l.leave(nil)
	c.proto.ConnectionLost(reason)
}

// run runs fn as a callback: timers, CallFromThread functions.
func (l *loop) run(fn func()) {
	l.depth++
	defer l.leave(nil)
	fn()
}

func (l *loop) runProtocol(fn func(Protocol), c *conn) {
	l.depth++
	defer l.leave(c)
	fn(c.proto)
}

func (l *loop) add(c *conn) {
	c.idx = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

func (l *loop) remove(c *conn) {
	i, last := int(c.idx), len(l.conns)-1
	if i != last {
		l.conns[i] = l.conns[last]
		l.conns[i].idx = int32(i)
	}
	l.conns[last] = nil
	l.conns = l.conns[:last]
	if cap(l.conns) > 64 && len(l.conns) < cap(l.conns)/4 {
		l.conns = append([]*conn(nil), l.conns...) // give memory back after a peak
	}
}

// closed handles gnet's OnClose for c.
func (l *loop) closed(c *conn, err error) {
	st := c.state
	c.state |= stLost
	l.remove(c)
	l.closingLost(st)
	reason := lostReason(st, err)
	if l.depth > 0 {
		l.lost = append(l.lost, lostEvent{c, reason})
		return
	}
	l.connectionLost(c, reason)
}

func (l *loop) deliverLost() {
	l.delivering = true
	for len(l.lost) > 0 {
		e := l.lost[0]
		n := copy(l.lost, l.lost[1:])
		l.lost[n] = lostEvent{}
		l.lost = l.lost[:n]
		l.connectionLost(e.c, e.reason)
	}
	l.delivering = false
}

func (l *loop) callFromThread(fn func()) error {
	err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		l.run(fn)
		return nil
	}))
	if err != nil {
		return ErrNotRunning
	}
	return nil
}

// fire queues an expire task on the loop (timer driver goroutine).
func (l *loop) fire() {
	if !l.firing.CompareAndSwap(false, true) {
		return
	}
	if err := l.el.Execute(context.Background(), l.expire); err != nil {
		// The loop is shutting down; leave firing set so the driver skips it.
		return
	}
}

// nextDue and fireDue let a FakeClock drive the loop's timers: they fire on
// the loop goroutine while Advance waits.
func (l *loop) nextDue() (time.Time, bool) { return l.timers.nextDue() }

func (l *loop) fireDue(now time.Time) bool {
	done := make(chan struct{})
	err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		defer close(done)
		l.timers.expire(int64(now.Sub(l.timers.base)))
		return nil
	}))
	if err != nil {
		return false
	}
	select {
	case <-done:
		return true
	case <-l.r.done:
		return false
	}
}
