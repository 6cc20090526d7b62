package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/wsreactor/wsreactor/admin"
	"github.com/wsreactor/wsreactor/demo"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// running is a started server, as ready sees it.
type running struct {
	r       *reactor.Reactor
	srv     *protocol.Server
	adm     *admin.Server   // nil without -admin-addr
	factory reactor.Factory // the listening port's (a *proxyFactory with -proxy-protocol)
}

// AdminAddr is the admin server's address ("" when it is off).
func (s running) AdminAddr() string { return adminAddr(s.adm) }

// Addr is the address the server listens on.
func (s running) Addr() net.Addr { return s.r.Addr() }

// serve runs the echo server until ctx is cancelled, then shuts it down
// gracefully. ready, when not nil, is called once the server accepts
// connections (tests listen on port 0 and read the address from it).
func serve(ctx context.Context, cfg config, logger *slog.Logger, ready func(running)) error {
	fl := cfg.fileLimit
	if fl.Hard == 0 {
		fl = currentFileLimit()
	}
	maxConns, why := resolveMaxConns(cfg.MaxConns, fl.Soft, cfg.Loops)
	var rootPage []byte
	if cfg.Demo {
		rootPage = demo.Response()
	}
	srv := protocol.NewServer(protocol.Config{
		Subprotocols:     cfg.Subprotocols,
		Origins:          cfg.Origins,
		MaxMessageSize:   cfg.MaxMessage,
		HandshakeTimeout: cfg.HandshakeTimeout,
		PingInterval:     cfg.PingInterval,
		CloseTimeout:     cfg.CloseTimeout,
		WriteBufferLimit: cfg.WriteBufferLimit,
		MaxConns:         maxConns,
		MemoryBudget:     cfg.MemoryBudget,
		Loops:            cfg.Loops,
		RootPage:         rootPage,
		Deflate: protocol.DeflateConfig{
			Enabled:         cfg.Deflate,
			ContextTakeover: cfg.DeflateContextTakeover,
			Level:           cfg.DeflateLevel,
			MinSize:         cfg.DeflateMinSize,
		},
	}, protocol.Echo)

	ropts := []reactor.Option{reactor.WithLoops(cfg.Loops), reactor.WithLogger(stdLogger(logger)), reactor.WithReusePort(cfg.ReusePort || cfg.reusePort)}
	take, err := takeoverFromEnv(cfg, logger) // started by an upgrade (upgrade.go)
	if err != nil {
		return err
	}
	if take != nil {
		fds, err := take.listeners()
		if err != nil {
			return err
		}
		ropts = append(ropts, reactor.WithListenerFDs(fds))
	}
	r := reactor.New(ropts...)
	f := newFactory(srv, cfg, logger)
	if err := r.ListenTCP(cfg.Addr, f); err != nil {
		return err
	}
	mon := newMonitor(r, srv, logger, cfg.Loops)
	um := new(upgradeMetrics)
	metrics := append(factoryMetrics(f), um)
	var adm *admin.Server
	if take == nil {
		if adm, err = startAdmin(cfg, r, srv, mon, metrics...); err != nil {
			return err
		}
	} else if cfg.AdminAddr != "" {
		stopLate := make(chan struct{})
		defer close(stopLate)
		go serveAdminLate(cfg, r, srv, mon, metrics, logger, stopLate)
	}
	defer func() { closeAdmin(adm, logger) }()
	upg := &upgrader{r: r, srv: srv, cfg: cfg, logger: logger, m: um, done: make(chan struct{})}
	stopSig := watchUpgradeSignal(upg)
	defer stopSig()
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run() }()

	select {
	case <-r.Started():
	case err := <-runErr:
		if take != nil {
			take.listening <- nil
		}
		return err
	}
	if take != nil {
		upg.busy.Store(true) // no upgrade of this process until it has taken everything
		take.listening <- &adopter{r: r, srv: srv, logger: logger}
		go take.finish(upg)
	}
	monCtx, stopMon := context.WithCancel(context.Background())
	defer stopMon()
	go mon.run(monCtx, adm != nil)
	setReady(adm, true)
	logger.Info("listening", "addr", r.Addr().String(), "admin_addr", adminAddr(adm), "loops", cfg.Loops,
		slog.Group("open_files", fl.logAttrs()...), "max_conns", maxConnsAttr(maxConns), "max_conns_why", why,
		"go_memory_limit_bytes", goMemoryLimit(), slog.Group("config", attrsAny(cfg.settings)...))
	if b := srv.Budget(); b != nil {
		go checkBudget(r, b, logger)
	}
	if ready != nil {
		ready(running{r, srv, adm, f})
	}

	select {
	case err := <-runErr:
		return err
	case <-ctx.Done():
	case <-upg.done:
		// Upgraded: every movable connection belongs to the new process.
		// Free the admin address for it, close the few left (they could
		// not move in time) as a shutdown would, and leave.
		closeAdmin(adm, logger)
		adm = nil
		return shutdown(r, srv, cfg.ShutdownTimeout, logger, runErr)
	}
	// The drain (README, "Operating it"): not ready at once, keep serving
	// for the drain delay so that a load balancer sees /readyz fail and
	// stops sending clients, then close.
	setReady(adm, false)
	logger.Info("draining", "drain_delay", cfg.DrainDelay.String(), "connections", r.Connections())
	if cfg.DrainDelay > 0 {
		select {
		case err := <-runErr:
			return err
		case <-time.After(cfg.DrainDelay):
		}
	}
	return shutdown(r, srv, cfg.ShutdownTimeout, logger, runErr)
}

// shutdown stops accepting, sends close 1001 to every open connection after
// the echoes it owes, waits up to timeout for the close handshakes to finish,
// then stops the reactor.
func shutdown(r *reactor.Reactor, srv *protocol.Server, timeout time.Duration, logger *slog.Logger, runErr <-chan error) error {
	start := time.Now()
	open := r.Connections()
	logger.Info("shutting down", "connections", open, "timeout", timeout.String())
	deadline := start.Add(timeout)
	r.StopListening()
	srv.Shutdown()
	r.ForEachProtocol(func(p reactor.Protocol) {
		if wp, ok := p.(interface{ GoingAway() }); ok {
			wp.GoingAway() // *wsProtocol, *proxiedProtocol
		}
	})
	for r.Connections() > 0 && time.Now().Before(deadline) {
		select {
		case err := <-runErr:
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
	dropped := r.Connections()
	logger.Info("drained", "connections", open, "closed", open-dropped, "dropped_at_timeout", dropped,
		"seconds", time.Since(start).Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	select {
	case err := <-runErr:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// factory is Twisted's Factory: it builds one protocol per connection.
type factory struct{ srv *protocol.Server }

func (f factory) BuildProtocol(net.Addr) reactor.Protocol {
	p := new(wsProtocol)
	f.srv.InitConn(&p.conn)
	return p
}

// wsProtocol adapts the WebSocket state machine, which knows nothing of the
// reactor, to reactor.Protocol. The state machine and its transport adapter
// live in this one allocation.
type wsProtocol struct {
	conn protocol.Conn
	tr   transport
}

func (p *wsProtocol) ConnectionMade(t reactor.Transport) {
	p.tr.Transport = t
	p.conn.ConnectionMade(&p.tr)
}

func (p *wsProtocol) DataReceived(data []byte)    { p.conn.DataReceived(data) }
func (p *wsProtocol) ConnectionLost(reason error) { p.conn.ConnectionLost(reason) }

// GoingAway starts the connection's part of a graceful shutdown.
func (p *wsProtocol) GoingAway() { p.conn.GoingAway() }

// transport adapts reactor.Transport to protocol.Transport: the two differ
// only in the type CallLater returns.
type transport struct{ reactor.Transport }

func (t *transport) CallLater(d time.Duration, fn func()) protocol.DelayedCall {
	return t.Transport.CallLater(d, fn)
}

// attrsAny converts attrs to the ...any that slog.Group takes.
func attrsAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
