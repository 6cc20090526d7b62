package reactor

import (
	"errors"
	"fmt"

	"github.com/panjf2000/gnet/v2"
)

// Moving live connections between processes (a binary upgrade that keeps
// every connection), at the level of sockets: the reactor knows nothing of
// what the bytes mean. A process hands its listening sockets
// (DupListeners) to another that listens on them (WithListenerFDs), stops
// accepting (StopAccepting), takes each connection off its loop without
// closing it (Detach) and passes the descriptor on; the other puts it on
// one of its loops (Adopt). Nothing here closes, shuts down or writes to a
// socket: the peer sees nothing, and bytes that arrive meanwhile wait in
// the kernel's buffer, which moves with the descriptor.

// WithListenerFDs makes the reactor listen on these inherited, already
// listening descriptors instead of opening its own (the address given to
// ListenTCP is then not bound). With WithReusePort there is one per event
// loop, in the order DupListeners returns them. The reactor owns them from
// Run on.
func WithListenerFDs(fds []int) Option {
	return func(o *Options) { o.ListenerFDs = append([]int(nil), fds...) }
}

// errNotBooted is returned for calls that need the engine before the
// reactor listens.
var errNotBooted = errors.New("reactor: not listening yet")

func (r *Reactor) engine() (gnet.Engine, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.booted {
		return gnet.Engine{}, errNotBooted
	}
	return r.eng, nil
}

// DupListeners returns duplicates of the reactor's listening descriptors
// (one, or one per event loop with WithReusePort), for another process to
// listen on with WithListenerFDs. The caller owns and closes them. Safe
// from any goroutine.
func (r *Reactor) DupListeners() ([]int, error) {
	eng, err := r.engine()
	if err != nil {
		return nil, err
	}
	return eng.DupListeners()
}

// StopAccepting takes the listening sockets out of the event loops without
// closing them: this reactor accepts no more connections, and another
// process listening on the same sockets accepts alone (a connection
// accepted here just before is served as usual). Unlike StopListening it
// neither closes nor refuses anything. Safe from any goroutine.
func (r *Reactor) StopAccepting() error {
	eng, err := r.engine()
	if err != nil {
		return err
	}
	return eng.StopAccepting()
}

// ResumeAccepting undoes StopAccepting (a handover that failed). Safe from
// any goroutine.
func (r *Reactor) ResumeAccepting() error {
	eng, err := r.engine()
	if err != nil {
		return err
	}
	return eng.ResumeAccepting()
}

// Detach takes the connection of t, a Transport of this package, off its
// event loop without closing it and without telling its Protocol: the
// caller gets the descriptor (to close, or to pass on) and the output that
// was queued and not yet taken by the socket (to be written first by
// whoever continues the connection). Nothing is sent to the peer. The
// connection no longer counts in Connections, and the Transport behaves as
// closed from now on (ConnectionLost is never called). A connection that is
// closing cannot be detached. Event-loop goroutine only (t's loop).
func Detach(t Transport) (fd int, pending []byte, err error) {
	c, ok := t.(*conn)
	if !ok {
		return -1, nil, fmt.Errorf("reactor: Detach of a %T", t)
	}
	if c.state&(stClosing|stLost) != 0 {
		return -1, nil, ErrClosed
	}
	fd, pending, err = gnet.Detach(c.gc)
	if err != nil {
		return -1, nil, fmt.Errorf("reactor: detach: %w", err)
	}
	c.state |= stLost
	c.loop.remove(c)
	c.loop.r.conns.Add(-1)
	return fd, pending, nil
}

// adoption is what OnOpen finds in the Context of an adopted connection.
type adoption struct {
	p       Protocol
	pending []byte
	made    func(t Transport)
}

// Adopt puts the connected TCP socket fd on one of the reactor's event
// loops (round-robin) with Protocol p: pending is written first (output a
// previous owner had queued, from Detach), then made(t) is called with the
// connection's Transport in place of p.ConnectionMade (p.ConnectionMade
// when made is nil), as for an accepted connection (the Factory is not
// asked; StopListening does not refuse it), and data follows. made lets a
// protocol that continues a connection (its state moved from elsewhere)
// start differently from a new one without a wrapper around p. done, when
// not nil, is called once on that loop's goroutine, after made, with nil,
// or with the error that kept fd from being registered (fd is then closed
// and p never called). The reactor owns fd from the call on (on an error
// returned here, fd is still the caller's). Safe from any goroutine; it
// does not wait.
func (r *Reactor) Adopt(fd int, p Protocol, pending []byte, made func(t Transport), done func(error)) error {
	if p == nil {
		return errors.New("reactor: Adopt with a nil Protocol")
	}
	eng, err := r.engine()
	if err != nil {
		return err
	}
	i := int(r.adoptNext.Add(1)-1) % r.opts.Loops
	el := eng.EventLoopAt(i)
	if el == nil {
		return fmt.Errorf("reactor: no event loop %d", i)
	}
	return gnet.Adopt(el, fd, &adoption{p, pending, made}, func(_ gnet.Conn, err error) {
		if done != nil {
			done(err)
		}
	})
}

// adopted is OnOpen for an adopted connection.
func (h *handler) adopted(gc gnet.Conn, a *adoption) gnet.Action {
	r := h.r
	l := r.loopFor(gc.EventLoop())
	c := &conn{gc: gc, proto: a.p, loop: l}
	gc.SetContext(c)
	if len(a.pending) > 0 {
		if _, err := gc.Write(a.pending); err != nil {
			c.state |= stLost // OnClose has no protocol to tell: it was never made
			return gnet.Close
		}
	}
	l.add(c)
	r.conns.Add(1)
	if a.made == nil {
		l.connectionMade(c)
		return gnet.None
	}
	l.depth++
	defer l.leave(c)
	a.made(c)
	return gnet.None
}
