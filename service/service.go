// Package service runs one complete WebSocket server on a reactor: the
// piece a library user imports to serve WebSocket without copying the
// command. It joins the parts the other packages keep apart:
//
//   - the adapter between the WebSocket state machine (package protocol,
//     which knows nothing of the reactor) and reactor.Protocol;
//   - the listening port's factory, plain or reading a PROXY protocol
//     header first (package proxyproto), with its refusal counts;
//   - the connection cap derived from the open-file limit, the memory
//     budget's periodic check, the event-loop lag monitor;
//   - the admin HTTP server (/metrics, /healthz, /readyz, /debug/pprof/);
//   - the drain: readiness off, serve on for DrainDelay, then close 1001
//     after every owed echo, wait up to ShutdownTimeout.
//
// One setting, Config.Loops, sizes both the reactor and the protocol
// server, so the two cannot disagree.
//
//	cfg := service.DefaultConfig()
//	cfg.Addr = ":8080"
//	cfg.Handler = protocol.Echo
//	err := service.Run(ctx, cfg, nil) // until ctx is cancelled, then drains
//
// The wsreactor command is flags and process-wide settings over this
// package; examples/wschat is a chat room on it.
package service

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsreactor/wsreactor/handoff"
	"github.com/wsreactor/wsreactor/internal/admin"
	"github.com/wsreactor/wsreactor/internal/buildinfo"
	"github.com/wsreactor/wsreactor/internal/demo"
	"github.com/wsreactor/wsreactor/internal/osprobe"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// Config is one server's configuration. The wsreactor command fills it from
// its flags (the flag of each field is named in its comment); DefaultConfig
// has the command's defaults.
type Config struct {
	Addr             string        // TCP address to listen on (-addr)
	Loops            int           // event loops, for the reactor and the protocol server alike (-loops)
	ReusePort        bool          // SO_REUSEPORT: a listener per event loop, or several processes on one port (-reuse-port)
	Subprotocols     []string      // subprotocols supported (-subprotocols)
	Origins          []string      // Origin allow-list, empty allows all (-origins)
	MaxMessage       int64         // largest message in bytes, 0 no limit (-max-message)
	HandshakeTimeout time.Duration // time to complete the opening handshake (-handshake-timeout)
	PingInterval     time.Duration // ping a connection silent this long (-ping-interval)
	CloseTimeout     time.Duration // wait for the client's close frame (-close-timeout)
	WriteBufferLimit int           // unsent output before 1008 (-write-buffer-limit)
	// ReadBuffer is the size of each event loop's read buffer (-read-buffer):
	// the most one read(2) takes from a socket, shared by all of the loop's
	// connections. 0 means DefaultReadBuffer; gnet rounds it up to a power of
	// two (at least 1 KiB).
	ReadBuffer int
	// IdleHold is how long an event loop out of events waits for more
	// holding its P before it blocks and gives it up (-idle-hold; 0 blocks
	// at once): DefaultIdleHold in DefaultConfig.
	IdleHold time.Duration
	// MaxConns caps the open WebSocket connections (-max-conns): 0 derives
	// the cap from the open-file limit (ResolveMaxConns), -1 means no cap.
	MaxConns int
	// FileLimit is the open-file limit the cap is derived from, as the
	// command found and raised it (osprobe.RaiseFileLimit); zero reads the
	// limit in effect at Start.
	FileLimit       osprobe.FileLimit
	MemoryBudget    int64         // bytes clients may make the server hold, over all connections; 0 none (-memory-budget)
	ShutdownTimeout time.Duration // time to wait for close handshakes when shutting down (-shutdown-timeout)
	DrainDelay      time.Duration // serve this long with /readyz at 503 before closing (-drain-delay)
	// CloseSpread, when positive, closes the connections at shutdown with
	// 1012 (Service Restart) spread evenly over this long instead of with
	// 1001 all at once, so that their clients reconnect over a window
	// rather than in one storm (-close-spread). ShutdownTimeout counts
	// from the end of the spread.
	CloseSpread time.Duration
	Demo        bool   // serve the demo page to a plain GET of "/" (-demo)
	AdminAddr   string // admin HTTP server's address, "" none (-admin-addr)
	// AdminUnavailable, when set, makes a failure to listen on AdminAddr
	// not fatal: Start calls it with the error and serves without the admin
	// server. The command sets it when -admin-addr is left at its default,
	// which another program (or another wsreactor) may hold: the admin
	// server is auxiliary, an address given explicitly stays fatal.
	AdminUnavailable func(err error)
	ProxyProtocol    bool // every connection starts with a PROXY header (-proxy-protocol)
	ProxyFrom        []netip.Prefix

	Deflate                bool // negotiate permessage-deflate (-deflate)
	DeflateContextTakeover bool // allow context takeover (-deflate-context-takeover)
	DeflateLevel           int  // compression level 1..9 (-deflate-level)
	DeflateMinSize         int  // messages shorter than this are not compressed (-deflate-min-size)

	// Handler builds each connection's application when its handshake
	// succeeds: protocol.Echo (the echo server) when nil.
	Handler func() protocol.Handler
	// Upgrade, when set, sees each opening handshake before it is
	// answered, and may refuse it, choose the subprotocol or build the
	// connection's Handler itself (protocol.Config.Upgrade).
	Upgrade func(*protocol.UpgradeRequest) error
	// Logger gets the start line, drain and limit events; nil discards them.
	Logger *slog.Logger
	// StartAttrs are added to the start line (the command's flag values).
	StartAttrs []slog.Attr

	// UpgradeTimeout bounds a binary upgrade (Server.Upgrade) on both
	// sides: the new process's start, each batch, the wait for connections
	// that cannot move yet; 0 means DefaultUpgradeTimeout (-upgrade-timeout).
	UpgradeTimeout time.Duration
	// Handoff, when not nil, makes Start take over from the process that
	// started this one by Upgrade (HandoffFromEnv): it listens on that
	// process's listening socket and adopts its connections, instead of
	// opening Addr. The admin server starts once the old process has freed
	// its address.
	Handoff *handoff.Chan
}

// DefaultReadBuffer is the default read buffer of each event loop
// (Config.ReadBuffer, -read-buffer): 512 KiB, the size uWebSockets reads
// with. It is one buffer per loop, not per connection, and the kernel backs
// only the pages a read has touched. gnet's own default, 64 KiB, takes a
// 1 MiB message in 16 or more reads, each a wake-up and a system call: with
// 50 connections echoing 1 MiB messages the server made 36-41 system calls
// and 8-12 context switches per message with 64 KiB, 12-13 and 5-7 with
// 512 KiB, and echoed 1.3-1.7 times as many (docs/benchmarks.md, "The read
// buffer").
const DefaultReadBuffer = 512 << 10

// DefaultIdleHold is the default idle hold of each event loop
// (Config.IdleHold, -idle-hold): out of events, a loop waits this long for
// more in a raw epoll_wait that keeps its P before it blocks in an ordinary
// one, where the runtime's sysmon takes the P and wakes another thread to
// hold it; it holds only while its idle spells are shorter than this. One
// loop pinned to a core, 100 connections at 5,000 msgs/s: 3.6-4.0 system
// calls and 0.8-1.0 context switches per message with it, 8.1-8.9 and
// 4.2-4.8 without (uWebSockets 3.2-4.0 and 0.6-1.0); closed-loop echo and
// 58 sparse workers were level, and at 200,000 connections it spent 37.9
// and 40.4 us per message against gobwas/ws on gnet's 41.1 and 41.9
// (docs/benchmarks.md, "The idle hold"). Other goroutines of the process wait at most until the
// runtime preempts the holding loop (10 ms).
const DefaultIdleHold = 2 * time.Millisecond

// DefaultConfig is the wsreactor command's default configuration: every
// flag at its default.
func DefaultConfig() Config {
	p := protocol.DefaultConfig()
	return Config{
		Addr:             ":8080",
		Loops:            runtime.GOMAXPROCS(0),
		Subprotocols:     []string{"chat", "superchat"},
		MaxMessage:       p.MaxMessageSize,
		HandshakeTimeout: p.HandshakeTimeout,
		PingInterval:     p.PingInterval,
		CloseTimeout:     p.CloseTimeout,
		WriteBufferLimit: p.WriteBufferLimit,
		ReadBuffer:       DefaultReadBuffer,
		IdleHold:         DefaultIdleHold,
		MemoryBudget:     DefaultMemoryBudget(),
		ShutdownTimeout:  10 * time.Second,
		Demo:             true,
		AdminAddr:        "127.0.0.1:9090",
		ProxyFrom:        mustParseProxyFrom(DefaultProxyFrom),
		DeflateLevel:     protocol.DefaultDeflateLevel,
		DeflateMinSize:   p.Deflate.MinSize,
		UpgradeTimeout:   DefaultUpgradeTimeout,
	}
}

// Server is a started server. Its methods are safe from any goroutine.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	r       *reactor.Reactor
	srv     *protocol.Server
	adm     *admin.Server   // nil without Config.AdminAddr
	factory reactor.Factory // the listening port's (a *proxyFactory with ProxyProtocol)
	mon     *monitor
	stopped chan struct{} // closed when the reactor's Run has returned
	runErr  error         // what it returned; read after stopped is closed
	stopMon context.CancelFunc

	um        *upgradeMetrics
	upgrading atomic.Bool   // an upgrade (or this process's takeover) is running
	upgraded  chan struct{} // closed when an Upgrade has succeeded
	tookOver  chan error    // Config.Handoff: the takeover's result, once
	stopLate  chan struct{} // closed to stop a late admin server (serveAdminLate)
	closeOnce sync.Once
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.r.Addr() }

// AdminAddr is the admin server's address ("" when it is off).
func (s *Server) AdminAddr() string { return s.adm.AddrString() }

// Reactor is the server's reactor (for its connection and timer counts).
func (s *Server) Reactor() *reactor.Reactor { return s.r }

// Protocol is the server's protocol.Server (open connections, stats).
func (s *Server) Protocol() *protocol.Server { return s.srv }

// ProxyRefused is the number of connections refused for want of a valid
// PROXY header from an allowed peer (0 without Config.ProxyProtocol).
func (s *Server) ProxyRefused() int64 {
	if f, ok := s.factory.(*proxyFactory); ok {
		return f.Refused()
	}
	return 0
}

// fileLimit is Config.FileLimit, or the limit in effect now when the
// command did not fill it (a library user, a test).
func (cfg *Config) fileLimit() osprobe.FileLimit {
	if cfg.FileLimit.Hard == 0 {
		return osprobe.CurrentFileLimit()
	}
	return cfg.FileLimit
}

// protocolConfig is the protocol.Server's share of cfg, with maxConns as
// resolved from the open-file limit.
func (cfg *Config) protocolConfig(maxConns int) protocol.Config {
	var rootPage []byte
	if cfg.Demo {
		rootPage = demo.Response()
	}
	return protocol.Config{
		Subprotocols:     cfg.Subprotocols,
		Origins:          cfg.Origins,
		MaxMessageSize:   cfg.MaxMessage,
		HandshakeTimeout: cfg.HandshakeTimeout,
		PingInterval:     cfg.PingInterval,
		CloseTimeout:     cfg.CloseTimeout,
		WriteBufferLimit: cfg.WriteBufferLimit,
		MaxConns:         maxConns,
		MemoryBudget:     cfg.MemoryBudget,
		Loops:            cfg.Loops, // the reactor's too: one setting
		RootPage:         rootPage,
		Upgrade:          cfg.Upgrade,
		Deflate: protocol.DeflateConfig{
			Enabled:         cfg.Deflate,
			ContextTakeover: cfg.DeflateContextTakeover,
			Level:           cfg.DeflateLevel,
			MinSize:         cfg.DeflateMinSize,
		},
	}
}

// Start listens on cfg.Addr and serves until Shutdown or Drain; it returns
// once the server accepts connections (and the admin server, if any,
// answers /readyz 200).
func Start(cfg Config) (*Server, error) {
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	fl := cfg.fileLimit()
	maxConns, why := ResolveMaxConns(cfg.MaxConns, fl.Soft, cfg.Loops)
	srv := protocol.NewServer(cfg.protocolConfig(maxConns), cfg.Handler)

	ropts := []reactor.Option{reactor.WithLoops(cfg.Loops), reactor.WithLogger(slog.NewLogLogger(logger.Handler(), slog.LevelWarn)),
		reactor.WithReusePort(cfg.ReusePort), reactor.WithReadBufferCap(cmp.Or(cfg.ReadBuffer, DefaultReadBuffer)),
		reactor.WithIdleHold(cfg.IdleHold)}
	var take *takeover
	if cfg.Handoff != nil {
		take = startTakeover(cfg.Handoff, cfg.UpgradeTimeout)
		fds, err := take.listeners()
		if err != nil {
			return nil, err
		}
		ropts = append(ropts, reactor.WithListenerFDs(fds))
	}
	r := reactor.New(ropts...)
	f := newFactory(srv, cfg, logger)
	if err := r.ListenTCP(cfg.Addr, f); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger, r: r, srv: srv, factory: f, stopped: make(chan struct{}),
		um: new(upgradeMetrics), upgraded: make(chan struct{}), stopLate: make(chan struct{}), tookOver: make(chan error, 1)}
	s.mon = newMonitor(r, srv, logger, cfg.Loops)
	metrics := append(factoryMetrics(f), s.um)
	var err error
	if take == nil {
		if s.adm, err = startAdmin(cfg, r, srv, s.mon, metrics...); err != nil {
			if cfg.AdminUnavailable == nil {
				return nil, err
			}
			cfg.AdminUnavailable(err)
			s.adm = nil
		}
	}
	go func() {
		s.runErr = r.Run()
		close(s.stopped)
	}()

	select {
	case <-r.Started():
	case <-s.stopped:
		s.adm.Close(context.Background())
		if take != nil {
			take.listening <- nil
		}
		return nil, s.runErr
	}
	if take != nil {
		s.upgrading.Store(true) // no upgrade of this process until it has taken everything
		take.listening <- &adopter{r: r, srv: srv, logger: logger}
		go take.finish(s)
		if cfg.AdminAddr != "" {
			go s.serveAdminLate(metrics, s.stopLate)
		}
	}
	monCtx, stopMon := context.WithCancel(context.Background())
	s.stopMon = stopMon
	go s.mon.run(monCtx, s.adm != nil)
	s.adm.SetReady(true)
	logger.Info("listening", "addr", r.Addr().String(), "admin_addr", s.adm.AddrString(), "loops", cfg.Loops,
		slog.Group("open_files", fl.LogAttrs()...), "max_conns", maxConnsAttr(maxConns), "max_conns_why", why,
		"go_memory_limit_bytes", goMemoryLimit(), "gomaxprocs", runtime.GOMAXPROCS(0), "version", buildinfo.Read().Version, slog.Group("config", attrsAny(cfg.StartAttrs)...))
	if b := srv.Budget(); b != nil {
		go checkBudget(r, b, logger)
	}
	return s, nil
}

// Run starts a server with cfg and serves until ctx is cancelled, then
// drains it (Drain) and returns; a failure to start is a *StartError.
// ready, when not nil, is called once the
// server accepts connections (tests listen on port 0 and read the address
// from it).
func Run(ctx context.Context, cfg Config, ready func(*Server)) error {
	s, err := Start(cfg)
	if err != nil {
		return &StartError{Err: err}
	}
	if ready != nil {
		ready(s)
	}
	select {
	case <-s.stopped:
		s.close()
		return s.runErr
	case <-ctx.Done():
	case <-s.upgraded:
		// Every movable connection belongs to the new process: free the
		// admin address for it, close the few left (they could not move in
		// time) as a shutdown would, and return.
		s.closeAdmin()
		return s.shutdown(0)
	}
	return s.Drain()
}

// StartError is Run's error when the server could not start (Start's
// error), as opposed to one that ended it once it served.
type StartError struct{ Err error }

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Wait blocks until the reactor has stopped (on its own, an engine error,
// or by Drain or Shutdown) and returns what its Run returned.
func (s *Server) Wait() error {
	<-s.stopped
	return s.runErr
}

// Drain is the graceful end for a load-balanced server: /readyz turns 503
// at once, the server keeps serving for Config.DrainDelay so that the
// balancer stops sending clients, then shuts down (Shutdown).
func (s *Server) Drain() error {
	s.adm.SetReady(false)
	s.logger.Info("draining", "drain_delay", s.cfg.DrainDelay.String(), "connections", s.r.Connections())
	if s.cfg.DrainDelay > 0 {
		select {
		case <-s.stopped:
			s.close()
			return s.runErr
		case <-time.After(s.cfg.DrainDelay):
		}
	}
	return s.Shutdown()
}

// Shutdown stops accepting, sends close 1001 to every open connection after
// the echoes it owes (or, with Config.CloseSpread, 1012 to each at its turn
// over the spread), waits up to Config.ShutdownTimeout for the close
// handshakes to finish, then stops the reactor and the admin server.
func (s *Server) Shutdown() error { return s.shutdown(s.cfg.CloseSpread) }

// shutdown is Shutdown with the close spread over spread (0: all at once,
// for the few connections an upgrade leaves behind).
func (s *Server) shutdown(spread time.Duration) error {
	defer s.close()
	start := time.Now()
	open := s.r.Connections()
	s.logger.Info("shutting down", "connections", open, "timeout", s.cfg.ShutdownTimeout.String(),
		"close_spread", spread.String())
	s.r.StopListening()
	s.srv.Shutdown()
	if spread > 0 {
		if err := s.spreadCloses(spread); err != nil {
			return err
		}
	} else {
		s.r.ForEachProtocol(func(p reactor.Protocol) {
			if wp, ok := p.(goingAway); ok {
				wp.GoingAway()
			}
		})
	}
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	for s.r.Connections() > 0 && time.Now().Before(deadline) {
		select {
		case <-s.stopped:
			return s.runErr
		case <-time.After(10 * time.Millisecond):
		}
	}
	dropped := s.r.Connections()
	s.logger.Info("drained", "connections", open, "closed", open-dropped, "dropped_at_timeout", dropped,
		"seconds", time.Since(start).Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.r.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	select {
	case <-s.stopped:
		return s.runErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeSpreadTick is how often a spread close wakes to close the
// connections whose turn has come.
const closeSpreadTick = 10 * time.Millisecond

// spreadCloses sends 1012 to every open connection, connection i of n at
// i/n of the way through spread (in a random order, so that every event
// loop closes some all along), each on its own loop; it returns at the end
// of the spread, or with the reactor's error if it stops.
func (s *Server) spreadCloses(spread time.Duration) error {
	var (
		mu    sync.Mutex
		conns []goingAway
	)
	s.r.ForEachProtocol(func(p reactor.Protocol) {
		if wp, ok := p.(goingAway); ok {
			mu.Lock()
			conns = append(conns, wp)
			mu.Unlock()
		}
	})
	rand.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
	s.logger.Info("closing connections spread over time", "connections", len(conns), "close_spread", spread.String(), "code", 1012)
	start := time.Now()
	tick := time.NewTicker(closeSpreadTick)
	defer tick.Stop()
	for next := 0; next < len(conns); {
		// Connection i is due at start + i*spread/n.
		due := min(len(conns), int(float64(len(conns))*float64(time.Since(start))/float64(spread))+1)
		for ; next < due; next++ {
			c := conns[next]
			c.reactorTransport().CallFromThread(c.Restarting)
		}
		if next == len(conns) {
			break
		}
		select {
		case <-s.stopped:
			return s.runErr
		case <-tick.C:
		}
	}
	if rest := spread - time.Since(start); rest > 0 { // the last one's turn is at the end of the window
		time.Sleep(rest)
	}
	return nil
}

// close stops the monitor and, last, the admin server, so that /healthz
// answers through the whole drain.
func (s *Server) close() {
	s.stopMon()
	s.closeAdmin()
}

// closeAdmin stops the admin server (the late one too); again does nothing.
func (s *Server) closeAdmin() {
	s.closeOnce.Do(func() {
		close(s.stopLate)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.adm.Close(ctx); err != nil {
			s.logger.Warn("admin server close", "err", err)
		}
	})
}

// attrsAny converts attrs to the ...any that slog.Group takes.
func attrsAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
