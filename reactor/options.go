package reactor

import (
	"log"
	"runtime"
	"time"
)

// Options configures a Reactor. Build one with New and the WithXxx
// functions; the zero value of a field means its default.
type Options struct {
	// Loops is the number of event loops (goroutines doing network I/O);
	// connections are spread over them round-robin. Default runtime.GOMAXPROCS(0).
	Loops int
	// Clock measures every deadline. Default SystemClock(); tests use a
	// FakeClock.
	Clock Clock
	// Logger receives gnet's warnings and errors and the panics recovered
	// from protocol callbacks. Default: gnet is silent and panics go to
	// log.Default().
	Logger *log.Logger
	// ReusePort sets SO_REUSEPORT and gives each event loop its own
	// listening socket (the kernel spreads connections). Default off: one
	// acceptor goroutine hands connections to the loops.
	ReusePort bool
	// ReadBufferCap is the size of each event loop's read buffer, the most
	// one DataReceived call can carry. Default 64 KiB.
	ReadBufferCap int
	// WriteBufferCap is the size of the ring part of a connection's outbound
	// queue (allocated only while output is queued; the rest is a linked
	// list). Default 64 KiB.
	WriteBufferCap int
	// TCPDelay enables Nagle's algorithm; by default TCP_NODELAY is set.
	TCPDelay bool
	// TCPKeepAlive sets TCP keep-alive probes at this period; 0 leaves the
	// system default (off).
	TCPKeepAlive time.Duration
	// SocketRecvBuffer and SocketSendBuffer set SO_RCVBUF and SO_SNDBUF;
	// 0 leaves the system default.
	SocketRecvBuffer, SocketSendBuffer int
	// TimerResolution is how finely the timer driver wakes up: deadlines
	// within one resolution step fire together, up to one step late.
	// Default 1ms.
	TimerResolution time.Duration
	// DrainInterval is how often a connection closing by LoseConnection
	// checks whether its queued output has gone out (gnet has no
	// "drained" event). Default 5ms.
	DrainInterval time.Duration
	// LingerTimeout is how long LoseConnection waits, after its FIN, for
	// the peer to close its side before closing the socket (data the peer
	// sends meanwhile is read and dropped, so the close does not turn into
	// a reset that could destroy our last bytes in flight). Default 2s;
	// negative closes right after the output drains.
	LingerTimeout time.Duration
	// IdleHold is how long an event loop that has run out of events keeps
	// waiting for more while holding its P (the runtime's right to run Go
	// code) before it blocks in a way that gives the P up. A loop that
	// blocks at once is found "in a system call" by the runtime's sysmon,
	// which takes the P from it and wakes another thread to hold it; under
	// steady traffic that happens around every message. The loop holds only
	// while its idle spells are shorter than the hold, so sparse traffic
	// costs no extra wake-up. Rounded up to a millisecond; default 0 (block
	// at once, as gnet does). Linux only.
	IdleHold time.Duration
	// ListenerFDs are inherited listening descriptors to listen on instead
	// of opening sockets (WithListenerFDs, adopt.go). Default none.
	ListenerFDs []int
}

// Option sets a field of Options.
type Option func(*Options)

func defaultOptions() Options {
	return Options{
		Loops:           runtime.GOMAXPROCS(0),
		Clock:           SystemClock(),
		TimerResolution: time.Millisecond,
		DrainInterval:   5 * time.Millisecond,
		LingerTimeout:   2 * time.Second,
	}
}

// WithLoops sets the number of event loops (n <= 0: runtime.GOMAXPROCS(0)).
func WithLoops(n int) Option { return func(o *Options) { o.Loops = n } }

// WithClock sets the clock (nil: SystemClock()).
func WithClock(c Clock) Option { return func(o *Options) { o.Clock = c } }

// WithLogger sets the logger for gnet's warnings and errors and for
// recovered panics.
func WithLogger(l *log.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithReusePort turns SO_REUSEPORT listening on or off.
func WithReusePort(on bool) Option { return func(o *Options) { o.ReusePort = on } }

// WithReadBufferCap sets each event loop's read buffer size in bytes.
func WithReadBufferCap(n int) Option { return func(o *Options) { o.ReadBufferCap = n } }

// WithIdleHold sets how long an idle event loop waits holding its P
// (Options.IdleHold; 0 blocks at once).
func WithIdleHold(d time.Duration) Option { return func(o *Options) { o.IdleHold = d } }

// WithWriteBufferCap sets the ring size of each connection's outbound queue.
func WithWriteBufferCap(n int) Option { return func(o *Options) { o.WriteBufferCap = n } }

// WithTCPNoDelay sets TCP_NODELAY (the default, true) or enables Nagle's
// algorithm (false).
func WithTCPNoDelay(on bool) Option { return func(o *Options) { o.TCPDelay = !on } }

// WithTCPKeepAlive enables TCP keep-alive probes with the given period.
func WithTCPKeepAlive(d time.Duration) Option { return func(o *Options) { o.TCPKeepAlive = d } }

// WithSocketBuffers sets SO_RCVBUF and SO_SNDBUF (0 keeps the default).
func WithSocketBuffers(recv, send int) Option {
	return func(o *Options) { o.SocketRecvBuffer, o.SocketSendBuffer = recv, send }
}

// WithTimerResolution sets how finely timers are driven.
func WithTimerResolution(d time.Duration) Option {
	return func(o *Options) { o.TimerResolution = d }
}

// WithDrainInterval sets how often LoseConnection re-checks queued output.
func WithDrainInterval(d time.Duration) Option { return func(o *Options) { o.DrainInterval = d } }

// WithLingerTimeout sets how long LoseConnection waits for the peer's FIN
// after its own (d <= 0: close as soon as the output has drained).
func WithLingerTimeout(d time.Duration) Option {
	return func(o *Options) {
		if d <= 0 {
			d = -1
		}
		o.LingerTimeout = d
	}
}

// normalize fills in defaults for zero fields.
func (o *Options) normalize() {
	def := defaultOptions()
	if o.Loops <= 0 {
		o.Loops = def.Loops
	}
	if o.Clock == nil {
		o.Clock = def.Clock
	}
	if o.TimerResolution <= 0 {
		o.TimerResolution = def.TimerResolution
	}
	if o.DrainInterval <= 0 {
		o.DrainInterval = def.DrainInterval
	}
	if o.LingerTimeout == 0 {
		o.LingerTimeout = def.LingerTimeout
	}
}
