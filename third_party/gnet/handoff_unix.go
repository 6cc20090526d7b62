//go:build linux || freebsd || dragonfly || netbsd || openbsd || darwin

// wsreactor patch: moving live connections between processes (a binary
// upgrade that keeps every connection). Three pieces, none of which closes
// or shuts down a socket:
//
//   - WithListenerFDs: listen on inherited listening descriptors instead of
//     opening new ones.
//   - Engine.StopAccepting: take the listeners out of the pollers, so that
//     another process holding the same listening sockets accepts alone.
//   - Detach / Adopt: take an open connection off its event loop without
//     closing it (its descriptor and unsent output go to the caller), and
//     put a raw connected descriptor on a chosen event loop (no goroutine
//     task, no dup and no channel per connection, unlike EventLoop.Enroll).

package gnet

import (
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// WithListenerFDs makes the engine listen on these already-listening
// descriptors (inherited from another process, say) instead of opening
// sockets of its own: each listener the engine would open takes the next
// descriptor in order (one per address; with WithReusePort, one per event
// loop and address). When the list runs out, listeners are opened as usual.
// The engine owns the descriptors from Run on and closes them when it stops.
func WithListenerFDs(fds []int) Option {
	return func(opts *Options) {
		opts.listenerFDs = &inheritedFDs{fds: append([]int(nil), fds...)}
	}
}

// inheritedFDs hands out the descriptors of WithListenerFDs in order.
type inheritedFDs struct {
	mu   sync.Mutex
	fds  []int
	next int
}

func (in *inheritedFDs) take() (int, bool) {
	if in == nil {
		return -1, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.next >= len(in.fds) {
		return -1, false
	}
	fd := in.fds[in.next]
	in.next++
	return fd, true
}

// openInherited sets ln up on an inherited descriptor; ok is false when
// there is none left.
func (ln *listener) openInherited(opts *Options) (ok bool, err error) {
	fd, ok := opts.listenerFDs.take()
	if !ok {
		return false, nil
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return true, err
	}
	if err = unix.SetNonblock(fd, true); err != nil {
		return true, err
	}
	ln.fd, ln.addr = fd, socket.SockaddrToTCPOrUnixAddr(sa)
	ln.openOnce.Do(func() {}) // open() must not open another socket
	if ln.network == "tcp4" || ln.network == "tcp6" {
		ln.network = "tcp"
	}
	return true, nil
}

// ErrNotOnLoop is returned by Detach for a connection that is not open on
// an event loop.
var ErrNotOnLoop = errors.New("gnet: connection is not open on an event loop")

// ErrInboundPending is returned by Detach when the connection still holds
// unread input in its inbound buffer (the handler left bytes unconsumed).
var ErrInboundPending = errors.New("gnet: connection has unread inbound data")

// StopAccepting takes every listener out of its poller: the engine accepts
// no more connections, and the listening sockets stay open (another process
// holding them accepts alone). Connections already accepted are not
// affected. Safe from any goroutine; it returns once every poller has
// dropped its listeners.
func (e Engine) StopAccepting() error {
	if e.eng == nil {
		return errors.New("gnet: StopAccepting on an engine that is not running")
	}
	return e.onListenerLoops(func(el *eventloop, ln *listener, _ bool) error {
		return el.poller.Delete(ln.fd)
	})
}

// ResumeAccepting undoes StopAccepting: the listeners go back into their
// pollers. Safe from any goroutine.
func (e Engine) ResumeAccepting() error {
	if e.eng == nil {
		return errors.New("gnet: ResumeAccepting on an engine that is not running")
	}
	return e.onListenerLoops(func(el *eventloop, ln *listener, edge bool) error {
		return el.poller.AddRead(ln.pollAttachment, edge)
	})
}

// waitRunning waits until the engine has set up its event loops and
// listeners: OnBoot, where a handler first gets the Engine, runs before.
func (e Engine) waitRunning() error {
	if err := e.Validate(); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); !e.eng.running.Load(); {
		if e.eng.isShutdown() || time.Now().After(deadline) {
			return errors.New("gnet: engine is not running")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// onListenerLoops runs fn for every listener on the goroutine of the loop
// that polls it, and waits. edge: the poller watches it edge-triggered.
func (e Engine) onListenerLoops(fn func(el *eventloop, ln *listener, edge bool) error) error {
	if err := e.waitRunning(); err != nil {
		return err
	}
	var loops []*eventloop
	e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		loops = append(loops, el)
		return true
	})
	edge := false
	if e.eng.ingress != nil {
		loops = []*eventloop{e.eng.ingress} // the listeners live on the main reactor
		edge = true                         // as activateReactors adds them
	}
	var errs []error
	for _, el := range loops {
		done := make(chan error, 1)
		err := el.poller.Trigger(queue.HighPriority, func(any) error {
			var err error
			for _, ln := range el.listeners {
				if e := fn(el, ln, edge); e != nil && err == nil {
					err = e
				}
			}
			done <- err
			return nil
		}, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, <-done)
	}
	return errors.Join(errs...)
}

// Detach takes c off its event loop without closing it: the descriptor is
// removed from the poller and from the loop's connections, OnClose is not
// called, and the caller gets the descriptor (which it now owns, and must
// close) and a copy of the output still queued in c's outbound buffer (to
// be written before anything else). Nothing is sent to the peer and the
// socket is not shut down: bytes arriving meanwhile wait in the kernel.
// c must not be used afterwards. Event-loop goroutine only (c's loop).
func Detach(c Conn) (fd int, pending []byte, err error) {
	gc, ok := c.(*conn)
	if !ok || !gc.opened || gc.loop.connections.getConn(gc.fd) != gc {
		return -1, nil, ErrNotOnLoop
	}
	if !gc.inboundBuffer.IsEmpty() {
		return -1, nil, ErrInboundPending
	}
	el := gc.loop
	if err = el.poller.Delete(gc.fd); err != nil {
		return -1, nil, err
	}
	el.connections.delConn(gc)
	if n := gc.outboundBuffer.Buffered(); n > 0 {
		pending = make([]byte, 0, n)
		iov, _ := gc.outboundBuffer.Peek(-1)
		for _, b := range iov {
			pending = append(pending, b...)
		}
	}
	fd = gc.fd
	gc.release()
	gc.fd = -1
	return fd, pending, nil
}

// Adopt puts the connected stream socket fd on event loop el: from the
// loop's goroutine it registers fd with the poller and calls OnOpen for a
// Conn whose Context is ctx when OnOpen runs (so the handler can tell an
// adopted connection from an accepted one), then done(err) on that same
// goroutine (err non-nil if fd could not be registered, in which case fd
// has been closed and OnOpen was not called). The engine owns fd from the
// call on. Safe from any goroutine; it does not wait.
func Adopt(el EventLoop, fd int, ctx any, done func(Conn, error)) error {
	l, ok := el.(*eventloop)
	if !ok {
		return errors.New("gnet: Adopt on an event loop of another kind")
	}
	rsa, err := unix.Getpeername(fd)
	if err != nil {
		return err
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	if err = unix.SetNonblock(fd, true); err != nil {
		return err
	}
	var local, remote net.Addr = socket.SockaddrToTCPOrUnixAddr(lsa), socket.SockaddrToTCPOrUnixAddr(rsa)
	proto := "tcp"
	if _, isUnix := rsa.(*unix.SockaddrUnix); isUnix {
		proto = "unix"
	}
	c := newStreamConn(proto, fd, l, rsa, local, remote)
	c.ctx = ctx
	return l.poller.Trigger(queue.LowPriority, func(any) error {
		err := l.register0(c)
		if done != nil {
			if err != nil {
				done(nil, err)
			} else {
				done(c, nil)
			}
		}
		return nil
	}, nil)
}

// DupListeners returns a duplicate of every listening descriptor of the
// engine, in the order WithListenerFDs takes them in another engine with the
// same addresses, loop count and WithReusePort setting (by event loop, then
// by address). The caller owns and closes them. Safe from any goroutine.
func (e Engine) DupListeners() ([]int, error) {
	if err := e.waitRunning(); err != nil {
		return nil, err
	}
	var fds []int
	seen := make(map[int]bool)
	var err error
	dup := func(lns map[int]*listener) {
		for _, ln := range sortedListeners(lns) {
			if seen[ln.fd] || err != nil {
				continue
			}
			seen[ln.fd] = true
			var fd int
			if fd, err = ln.dup(); err == nil {
				fds = append(fds, fd)
			}
		}
	}
	if e.eng.ingress != nil {
		dup(e.eng.listeners)
	} else {
		e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
			dup(el.listeners)
			return err == nil
		})
	}
	if err != nil {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
		return nil, err
	}
	return fds, nil
}

// sortedListeners orders a loop's listeners by address, so that two
// engines given the same addresses agree.
func sortedListeners(lns map[int]*listener) []*listener {
	out := make([]*listener, 0, len(lns))
	for _, ln := range lns {
		out = append(out, ln)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].network+out[j].address < out[j-1].network+out[j-1].address; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// EventLoopAt returns the engine's i-th event loop (0 <= i < the loop
// count), nil if there is none. Safe from any goroutine; it waits for the
// engine to have set its loops up.
func (e Engine) EventLoopAt(i int) EventLoop {
	if e.waitRunning() != nil || i < 0 || i >= e.eng.eventLoops.len() {
		return nil
	}
	return e.eng.eventLoops.index(i)
}

// EventLoopIndex is the index of el among its engine's event loops (as
// EventLoopAt takes it), -1 for an event loop of another kind.
func EventLoopIndex(el EventLoop) int {
	if l, ok := el.(*eventloop); ok {
		return l.idx
	}
	return -1
}
