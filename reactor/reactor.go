package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Reactor is the event loop (Twisted's reactor): it listens, accepts
// connections, spreads them over its event loops, calls their Protocol and
// runs delayed calls. One Reactor serves one listening address.
//
// The typical life: New, ListenTCP, Run in a goroutine (it blocks), wait
// for Started, read Addr; to shut down gracefully, StopListening, ask each
// protocol to finish with ForEachProtocol, wait for Connections to reach 0,
// then Stop. Methods are goroutine-safe unless their comment says otherwise.
type Reactor struct {
	opts   Options
	base   time.Time // time zero of every timer set
	timers *timers   // reactor-level delayed calls (goroutine-safe)
	drv    *driver   // nil with a FakeClock
	fake   *FakeClock

	started chan struct{} // closed when listening
	done    chan struct{} // closed when Run has returned

	mu       sync.Mutex
	addr     string
	factory  Factory
	ran      bool
	stopReq  bool
	booted   bool
	eng      gnet.Engine
	listen   net.Addr
	reserved int // fd holding a port for WithReusePort and port 0, or -1

	refusing  atomic.Bool
	adoptNext atomic.Uint64 // round-robin over loops for Adopt
	conns     atomic.Int64
	shed      shedLog // connections shed at the descriptor limit (shed.go)

	loopsMu sync.Mutex              // held to add a loop
	loops   atomic.Pointer[[]*loop] // copy-on-write, read by the driver and loopFor
}

// New returns a Reactor configured by opts.
func New(opts ...Option) *Reactor {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	o.normalize()
	r := &Reactor{
		opts:     o,
		base:     o.Clock.Now(),
		started:  make(chan struct{}),
		done:     make(chan struct{}),
		reserved: -1,
	}
	r.timers = newTimers(o.Clock, r.base, true)
	r.timers.call = r.runSafe
	if fc, ok := o.Clock.(*FakeClock); ok {
		r.fake = fc
		fc.subscribe(r.timers)
	} else {
		r.drv = newDriver(r)
		r.timers.onNext = r.drv.onNext
	}
	return r
}

// ListenTCP sets the address to listen on and the factory that builds a
// protocol per connection (Twisted's listenTCP). Call it once, before Run.
// addr is host:port; ":8080" listens on every address, "127.0.0.1:0" on a
// port the system picks (read it from Addr). Listening starts in Run.
func (r *Reactor) ListenTCP(addr string, f Factory) error {
	if f == nil {
		return errors.New("reactor: ListenTCP with a nil Factory")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("reactor: bad listen address %q: %w", addr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.ran:
		return errors.New("reactor: ListenTCP after Run")
	case r.factory != nil:
		return fmt.Errorf("reactor: already listening on %q; one address per reactor", r.addr)
	}
	r.addr, r.factory = addr, f
	return nil
}

// Run listens and runs the event loops until Stop; it blocks. It returns nil
// after Stop, or the error that kept it from starting (the address is in
// use, say). When Run returns, every connection has been told
// ConnectionLost and pending delayed calls are dropped. A Reactor runs once.
func (r *Reactor) Run() error {
	r.mu.Lock()
	switch {
	case r.factory == nil:
		r.mu.Unlock()
		return errors.New("reactor: Run before ListenTCP")
	case r.ran:
		r.mu.Unlock()
		return errors.New("reactor: Run called twice")
	}
	r.ran = true
	addr, stopped := r.addr, r.stopReq
	r.mu.Unlock()
	defer close(r.done)
	if stopped {
		return nil
	}

	if r.opts.ReusePort && len(r.opts.ListenerFDs) == 0 {
		a, fd, err := reservePort(addr)
		if err != nil {
			return err
		}
		addr, r.reserved = a, fd
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	if r.drv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.drv.run(stop)
		}()
	}
	err := gnet.Run(&handler{r: r}, "tcp://"+addr, r.gnetOptions()...)
	close(stop)
	wg.Wait()
	r.release()
	if err != nil {
		return fmt.Errorf("reactor: listen on %q: %w", addr, err)
	}
	return nil
}

func (r *Reactor) gnetOptions() []gnet.Option {
	o := r.opts
	nodelay := gnet.TCPNoDelay
	if o.TCPDelay {
		nodelay = gnet.TCPDelay
	}
	return []gnet.Option{
		gnet.WithListenerFDs(o.ListenerFDs),
		gnet.WithNumEventLoop(o.Loops),
		gnet.WithReusePort(o.ReusePort),
		gnet.WithReuseAddr(true),
		gnet.WithReadBufferCap(o.ReadBufferCap),
		gnet.WithIdleHold(o.IdleHold),
		gnet.WithWriteBufferCap(o.WriteBufferCap),
		gnet.WithTCPNoDelay(nodelay),
		gnet.WithTCPKeepAlive(o.TCPKeepAlive),
		gnet.WithSocketRecvBuffer(o.SocketRecvBuffer),
		gnet.WithSocketSendBuffer(o.SocketSendBuffer),
		gnet.WithLogger(gnetLogger{o.Logger}),
	}
}

// boot is gnet's OnBoot: the listener is open.
func (r *Reactor) boot(eng gnet.Engine) gnet.Action {
	r.mu.Lock()
	if r.stopReq {
		r.mu.Unlock()
		return gnet.Shutdown
	}
	r.eng, r.booted = eng, true
	r.listen = listenerAddr(eng)
	r.mu.Unlock()
	close(r.started)
	return gnet.None
}

// release runs after the engine has stopped: every loop goroutine is gone.
func (r *Reactor) release() {
	for _, l := range r.loopList() {
		l.timers.clear()
		if r.fake != nil {
			r.fake.unsubscribe(l)
		}
	}
	r.timers.clear()
	if r.fake != nil {
		r.fake.unsubscribe(r.timers)
	}
	if r.reserved >= 0 {
		closeFD(r.reserved)
		r.reserved = -1
	}
}

// Started is closed once the reactor listens (Addr is then set). If Run
// fails to listen it is never closed: wait on Run's result too.
func (r *Reactor) Started() <-chan struct{} { return r.started }

// Done is closed when Run has returned.
func (r *Reactor) Done() <-chan struct{} { return r.done }

// Addr is the address the reactor listens on, with the real port when
// ListenTCP was given port 0; nil before Started is closed.
func (r *Reactor) Addr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.listen
}

// Stop stops the reactor: it stops accepting, closes every connection at
// once (each gets ConnectionLost with a reason wrapping ErrConnectionDone
// and ErrStopped; output still queued gets one last attempt to be sent) and
// makes Run return. It waits for Run to return or ctx to end, and returns
// ctx's error in the latter case (the stop goes on). Stop before Run makes
// Run return at once. For a graceful shutdown, first StopListening and let
// the protocols finish (ForEachProtocol). Do not call Stop from an event
// loop goroutine: it would wait for itself.
func (r *Reactor) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopReq = true
	ran, booted, eng := r.ran, r.booted, r.eng
	r.mu.Unlock()
	if !ran {
		return nil
	}
	if booted {
		// Engine.Stop polls every 500ms; let it run while we wait on done.
		sctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { _ = eng.Stop(sctx) }()
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StopListening refuses new connections from now on (Twisted's
// stopListening): each is closed as soon as it is accepted, without calling
// the Factory. Open connections are untouched.
func (r *Reactor) StopListening() { r.refusing.Store(true) }

// CallLater runs fn d from now. It is safe from any goroutine, and so are
// the returned DelayedCall's methods. fn runs on the reactor's timer
// goroutine (with a FakeClock: inside Advance), not on an event loop: it
// must not block, and must not touch a Transport; use the connection's
// CallFromThread, or Transport.CallLater from the loop, for that. Calls
// still pending when Run returns are dropped.
func (r *Reactor) CallLater(d time.Duration, fn func()) *DelayedCall {
	return r.timers.callLater(d, fn)
}

// runSafe runs a reactor-level delayed call, logging a panic.
func (r *Reactor) runSafe(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked(v)
		}
	}()
	fn()
}
