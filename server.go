package main

import (
	"context"
	"errors"
	"log"
	"net"
	"time"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// running is a started server, as ready sees it.
type running struct {
	r   *reactor.Reactor
	srv *protocol.Server
}

// Addr is the address the server listens on.
func (s running) Addr() net.Addr { return s.r.Addr() }

// serve runs the echo server until ctx is cancelled, then shuts it down
// gracefully. ready, when not nil, is called once the server accepts
// connections (tests listen on port 0 and read the address from it).
func serve(ctx context.Context, cfg config, logger *log.Logger, ready func(running)) error {
	maxConns, note := resolveMaxConns(cfg.MaxConns, currentFileLimit(), cfg.Loops)
	logger.Printf("max connections: %s", note)
	srv := protocol.NewServer(protocol.Config{
		Subprotocols:     cfg.Subprotocols,
		Origins:          cfg.Origins,
		MaxMessageSize:   cfg.MaxMessage,
		HandshakeTimeout: cfg.HandshakeTimeout,
		PingInterval:     cfg.PingInterval,
		CloseTimeout:     cfg.CloseTimeout,
		WriteBufferLimit: cfg.WriteBufferLimit,
		MaxConns:         maxConns,
	}, protocol.Echo)

	r := reactor.New(reactor.WithLoops(cfg.Loops), reactor.WithLogger(logger), reactor.WithReusePort(cfg.ReusePort))
	if err := r.ListenTCP(cfg.Addr, factory{srv}); err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run() }()

	select {
	case <-r.Started():
	case err := <-runErr:
		return err
	}
	logger.Printf("listening on %s (%d event loops)", r.Addr(), cfg.Loops)
	if ready != nil {
		ready(running{r, srv})
	}

	select {
	case err := <-runErr:
		return err
	case <-ctx.Done():
	}
	return shutdown(r, srv, cfg.ShutdownTimeout, logger, runErr)
}

// shutdown stops accepting, sends close 1001 to every open connection after
// the echoes it owes, waits up to timeout for the close handshakes to finish,
// then stops the reactor.
func shutdown(r *reactor.Reactor, srv *protocol.Server, timeout time.Duration, logger *log.Logger, runErr <-chan error) error {
	logger.Printf("shutting down: %d connections open", r.Connections())
	deadline := time.Now().Add(timeout)
	r.StopListening()
	srv.Shutdown()
	r.ForEachProtocol(func(p reactor.Protocol) {
		if wp, ok := p.(*wsProtocol); ok {
			wp.GoingAway()
		}
	})
	for r.Connections() > 0 && time.Now().Before(deadline) {
		select {
		case err := <-runErr:
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
	if n := r.Connections(); n > 0 {
		logger.Printf("shutdown timeout: dropping %d connections", n)
	}
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
