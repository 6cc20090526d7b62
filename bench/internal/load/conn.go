//go:build linux

package load

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Connection states.
const (
	stConnecting uint8 = iota + 1 // non-blocking connect in progress
	stHandshake                   // upgrade request sent, waiting for 101
	stOpen                        // exchanging messages
	stClosing                     // close frame sent, waiting for the server's close frame and FIN
	stDone                        // slot free
)

// linger is how long we wait, after the server's close frame, for the server
// to close TCP first (RFC 6455 §7.1.1) before we close it ourselves.
const linger = time.Second

var (
	errTimeout        = errors.New("load: timed out")
	errHandshakeEOF   = errors.New("load: connection closed during the handshake")
	errOpenFileLimit  = errors.New("load: out of file descriptors: a process may have 20,000 open files here; run several wsload processes")
	retryableErrnos   = []unix.Errno{unix.ECONNREFUSED, unix.EAGAIN, unix.ECONNRESET, unix.ETIMEDOUT, unix.EADDRNOTAVAIL, unix.EPIPE}
	errNotKeepingUp   = errors.New("load: more than 65536 messages outstanding on one connection: the server does not keep up with the rate")
	errUnexpectedData = errors.New("load: bytes echoed beyond those sent")
)

// conn is one client connection: a non-blocking socket and the state of its
// writer (which frames of its batch are written) and of its incremental
// reader (where in the expected echo it is). It holds no buffer of its own in
// steady state: requests come from its shared, immutable batch and reads from
// the loop's buffer. Loop goroutine only.
type conn struct {
	l      *loop
	fd     int
	id     int32
	gen    uint32
	state  uint8
	target target
	b      *batch

	// Writer. Messages [wseq, iseq) are owed; woff bytes of frame wseq are written.
	ctl  []byte // control bytes to write first: upgrade request, pong, close frame
	iseq uint64 // messages asked for (sent or intended)
	wseq uint64 // frames completely written
	woff int

	// Reader. Messages [rseq, iseq) are outstanding.
	rseq   uint64
	roff   int    // raw mode: bytes of the current frame received
	rem    uint64 // WebSocket: payload bytes left in the current frame
	msgOff int    // payload bytes of the current message received
	hdr    [10]byte
	hn     uint8
	fop    uint8
	ffin   bool
	inMsg  bool
	inFr   bool
	msgBad bool
	unsol  bool   // current message was not asked for
	cbuf   []byte // control frame payload
	hs     []byte // response head split over reads
	key    string

	// permessage-deflate (deflate.go).
	deflate  bool   // agreed in the handshake
	takeover bool   // the server may keep its window between messages
	zmsg     bool   // the current message is compressed (RSV1)
	zbuf     []byte // the current compressed message, gathered whole
	msgWire  int    // wire bytes (headers and payloads) of the current message's frames
	hist     []byte // takeover: the last 32 KiB of the server's compressed messages

	// Timing.
	sendAt int64   // closed loop: when the current batch was written; connect mode: when the cycle began
	times  []int64 // fixed rate: intended send time of message s at s&(len-1)
	phase  int64   // fixed rate: intended time of message 0
	dtok   uint32  // deadline token; bumping it cancels the pending deadline
	events uint32  // epoll events registered

	opened   bool
	checking bool // idle mode: an echo check is outstanding
	gotClose bool
	echoed   bool // connect mode: the echo came back
}

// setDeadline arms the connection's single deadline, replacing any earlier one.
func (c *conn) setDeadline(d time.Duration) {
	c.dtok++
	c.l.addTimer(timer{at: c.l.now + int64(d), id: c.id, gen: c.gen, tok: c.dtok, kind: timerDeadline})
}

func (c *conn) onDeadline() {
	switch c.state {
	case stConnecting, stHandshake:
		c.fail(kindTimeout, fmt.Errorf("%w: connect and handshake took over %v", errTimeout, c.l.r.cfg.Timeout))
	case stOpen:
		c.fail(kindTimeout, fmt.Errorf("%w: %d echoes outstanding after %v", errTimeout, c.iseq-c.rseq, c.l.r.cfg.Timeout))
	case stClosing:
		c.fail(kindTimeout, fmt.Errorf("%w: no close frame from the server within %v", errTimeout, c.l.r.cfg.Timeout))
	}
}

// fail ends the connection after an error. A connect or handshake that failed
// for a transient reason (refused, reset, timed out) is retried after a
// backoff, at most Retries times; anything else counts as an error of kind.
func (c *conn) fail(kind int, err error) {
	l := c.l
	if c.state <= stHandshake && retryable(err) && int(c.target.attempt) < l.r.cfg.Retries &&
		!(l.r.cfg.Mode == ModeConnect && l.stopping) {
		l.st.retries++
		l.lastRetry = err
		next := c.target
		next.attempt++
		backoff := min(10*time.Millisecond<<next.attempt, time.Second)
		backoff += time.Duration(l.rng.Int64N(int64(backoff) / 2))
		c.release()
		l.addTimer(timer{at: l.now + int64(backoff), id: next.index, tok: next.attempt, kind: timerRetry})
		l.pump()
		return
	}
	l.st.errs[kind]++
	l.r.note(err.Error())
	c.finish(false)
}

// release closes the socket and frees the slot. c is not to be used after.
func (c *conn) release() {
	l := c.l
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	if c.state <= stHandshake {
		l.pending--
	}
	if c.checking {
		c.checking = false
		l.r.checked.Add(1)
	}
	l.freeConn(c)
}

// finish ends the connection for good (ok: cleanly) and does the mode's bookkeeping.
func (c *conn) finish(ok bool) {
	l := c.l
	r := l.r
	t, opened, echoed := c.target, c.opened, c.echoed
	c.release()
	switch {
	case r.cfg.Mode == ModeConnect:
		if ok && echoed && r.measuring.Load() {
			l.st.cycles++
		}
		if l.stopping {
			r.workers.Add(-1)
		} else {
			l.todo = append(l.todo, target{index: t.index})
		}
	case opened:
		r.finished.Add(1)
	default:
		r.settled.Add(1)
	}
	l.pump()
}

// hasOutput reports whether bytes are waiting to be written.
func (c *conn) hasOutput() bool { return len(c.ctl) > 0 || c.wseq < c.iseq }

// sendMessages asks for n more messages and writes what the socket takes.
// In closed-loop mode n is K and the K frames go out in one write.
func (c *conn) sendMessages(n int) bool {
	if c.l.r.cfg.Mode != ModeConnect {
		c.sendAt = c.l.now
	}
	c.iseq += uint64(n)
	return c.flush()
}

// flush writes pending output: the rest of a partly written frame, then
// control bytes (control frames go between data frames only, RFC 6455 §5.4),
// then owed frames straight from the batch, contiguous ones in one write.
// It reports whether the connection is still alive.
func (c *conn) flush() bool {
	fs := c.l.r.fs
	for {
		var p []byte
		ctl := false
		switch {
		case c.woff > 0:
			start, end := c.b.span(int(c.wseq % uint64(fs.k)))
			p = c.b.req[start+c.woff : end]
		case len(c.ctl) > 0:
			p, ctl = c.ctl, true
		case c.wseq < c.iseq:
			j := int(c.wseq % uint64(fs.k))
			last := j + int(min(c.iseq-c.wseq, uint64(fs.k-j))) - 1
			start, _ := c.b.span(j)
			_, end := c.b.span(last)
			p = c.b.req[start:end]
		default:
			return c.watchOutput(false)
		}
		n, err := sysWrite(c.fd, p)
		if n > 0 {
			if ctl {
				c.ctl = c.ctl[n:]
				if len(c.ctl) == 0 {
					c.ctl = nil
				}
			} else {
				c.wrote(n)
			}
		}
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return c.watchOutput(true)
			}
			c.fail(kindClosed, fmt.Errorf("load: write: %w", err))
			return false
		}
		if n < len(p) {
			return c.watchOutput(true)
		}
	}
}

// wrote advances the writer over n bytes of the batch's frames.
func (c *conn) wrote(n int) {
	fs := c.l.r.fs
	if fs.uniform {
		t := c.woff + n
		c.wseq += uint64(t / fs.frameLen)
		c.woff = t % fs.frameLen
		return
	}
	for n > 0 {
		start, end := c.b.span(int(c.wseq % uint64(fs.k)))
		left := end - start - c.woff
		if n < left {
			c.woff += n
			return
		}
		n -= left
		c.woff = 0
		c.wseq++
	}
}

// watchOutput registers an open connection for reads, and for EPOLLOUT
// while output is blocked and only then. Both are level-triggered: one read
// per readiness event is enough.
func (c *conn) watchOutput(on bool) bool {
	want := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	if on {
		want |= unix.EPOLLOUT
	}
	if want == c.events {
		return true
	}
	ev := unix.EpollEvent{Events: want, Fd: c.id, Pad: int32(c.gen)}
	if err := unix.EpollCtl(c.l.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		c.fail(kindClosed, fmt.Errorf("load: epoll_ctl: %w", err))
		return false
	}
	c.events = want
	return true
}

// onReadable reads once into the loop's buffer and consumes every byte.
func (c *conn) onReadable() {
	l := c.l
	for {
		n, err := sysRead(c.fd, l.buf)
		switch {
		case n > 0:
			l.now = l.clock()
			l.meas = l.r.measuring.Load()
			c.consume(l.buf[:n])
			l.flushRecords()
			return
		case err == nil:
			c.onEOF()
			return
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR:
			continue
		}
		if c.state == stHandshake {
			c.fail(kindHandshake, fmt.Errorf("load: read during the handshake: %w", err))
		} else {
			c.fail(kindClosed, fmt.Errorf("load: read: %w", err))
		}
		return
	}
}

func (c *conn) onEOF() {
	switch c.state {
	case stClosing:
		if c.gotClose {
			c.finish(true)
		} else {
			c.fail(kindClosed, errors.New("load: server closed TCP without answering our close frame"))
		}
	case stHandshake:
		c.fail(kindHandshake, errHandshakeEOF)
	default:
		c.fail(kindClosed, fmt.Errorf("load: server closed the connection with %d echoes outstanding", c.iseq-c.rseq))
	}
}

// consume takes every byte of p (lent for the call only): the response head
// while handshaking, then echoed frames.
func (c *conn) consume(p []byte) {
	if c.state == stHandshake {
		var ok bool
		if p, ok = c.consumeHead(p); !ok {
			return
		}
	}
	if c.l.r.cfg.Raw {
		c.consumeRaw(p)
	} else {
		c.consumeFrames(p)
	}
}
