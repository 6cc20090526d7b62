package reactor

import (
	"syscall"
	"time"
)

// closing is a loop's bookkeeping for LoseConnection. gnet closes a socket
// after one attempt to flush its output and has no "output drained" event,
// so a connection closing with output queued waits in draining, polled every
// DrainInterval by one timer per loop (no timer or goroutine per
// connection). Once drained, it is half-closed (shutdown SHUT_WR: the peer
// reads every byte, then EOF) and waits in lingering for the peer's FIN,
// reading and dropping what the peer still sends, up to LingerTimeout; then
// the socket is closed. Lingering avoids closing a socket with unread input,
// which makes the kernel send a reset that can destroy our last bytes before
// the peer reads them.
type closing struct {
	draining   []*conn
	lingering  []lingerEntry // FIFO: deadlines ascend (constant timeout)
	lingerOff  int           // index of the head of lingering
	drainLive  int           // connections in draining not yet lost
	lingerLive int           // connections in lingering not yet lost
	tick       *DelayedCall
	scratch    []*conn
}

type lingerEntry struct {
	c        *conn
	deadline int64
}

func (l *loop) addDraining(c *conn) {
	c.state |= stDraining
	l.draining = append(l.draining, c)
	l.drainLive++
	l.armClosing()
}

// closingLost updates the bookkeeping when c, in state st, is lost: once no
// live connection is left in a list, the list is dropped and the poll timer
// stops at once, rather than at the next poll or linger deadline.
func (l *loop) closingLost(st uint8) {
	switch {
	case st&stDraining != 0:
		if l.drainLive--; l.drainLive == 0 {
			clear(l.draining)
			l.draining = l.draining[:0]
			l.armClosing()
		}
	case st&stShutWR != 0:
		if l.lingerLive--; l.lingerLive == 0 {
			clear(l.lingering)
			l.lingering, l.lingerOff = l.lingering[:0], 0
			l.armClosing()
		}
	}
}

// drained is called once c's queued output is gone: half-close and linger,
// or close at once.
func (l *loop) drained(c *conn) {
	linger := l.r.opts.LingerTimeout
	if linger < 0 {
		_ = c.gc.Close()
		return
	}
	if err := syscall.Shutdown(c.gc.Fd(), syscall.SHUT_WR); err != nil {
		_ = c.gc.Close()
		return
	}
	c.state |= stShutWR
	l.lingering = append(l.lingering, lingerEntry{c, l.timers.now() + int64(linger)})
	l.lingerLive++
	l.armClosing()
}

// armClosing schedules the next poll: soon while anything is draining,
// otherwise at the first linger deadline.
func (l *loop) armClosing() {
	var when int64 = noDeadline
	now := l.timers.now()
	if len(l.draining) > 0 {
		when = now + int64(l.r.opts.DrainInterval)
	}
	if l.lingerOff < len(l.lingering) {
		when = min(when, l.lingering[l.lingerOff].deadline)
	}
	if when == noDeadline {
		if l.tick != nil {
			l.tick.Cancel()
		}
		return
	}
	if l.tick == nil {
		l.tick = l.timers.callLater(0, l.pollClosing)
	}
	if !l.tick.Active() || when < l.tick.when {
		l.tick.Reset(time.Duration(when - now))
	}
}

func (l *loop) pollClosing() {
	list := l.draining
	l.draining = l.scratch[:0]
	for _, c := range list {
		switch {
		case c.state&stLost != 0:
		case c.state&stAborted == 0 && c.gc.OutboundBuffered() > 0:
			l.draining = append(l.draining, c)
		default:
			c.state &^= stDraining
			l.drainLive--
			if c.state&stAborted == 0 {
				l.drained(c)
			}
		}
	}
	clear(list)
	l.scratch = list[:0]

	now := l.timers.now()
	for l.lingerOff < len(l.lingering) {
		e := l.lingering[l.lingerOff]
		if e.c.state&(stLost|stAborted) == 0 {
			if e.deadline > now {
				break
			}
			_ = e.c.gc.Close()
		}
		l.lingering[l.lingerOff] = lingerEntry{}
		l.lingerOff++
	}
	if l.lingerOff == len(l.lingering) {
		l.lingering, l.lingerOff = l.lingering[:0], 0
	} else if l.lingerOff > len(l.lingering)/2 {
		n := copy(l.lingering, l.lingering[l.lingerOff:])
		clear(l.lingering[n:])
		l.lingering, l.lingerOff = l.lingering[:n], 0
	}
	l.armClosing()
}
