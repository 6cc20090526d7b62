// Package admin is the operator's HTTP server, on an address of its own
// apart from the WebSocket port (-admin-addr):
//
//	/metrics       Prometheus exposition of a prometheus.Gatherer
//	/healthz       200 while the process runs
//	/readyz        200 while the server accepts and wants new clients,
//	               503 before it starts and from the moment a drain starts
//	/debug/pprof/  net/http/pprof
//
// It knows nothing of WebSocket or the reactor: the command hands it a
// registry and flips its readiness. A Federation serves several admin
// servers' metrics as one (the workers of a -procs parent, each on a Unix
// socket: Listen takes "unix:PATH").
package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the admin HTTP server. Its methods are safe for concurrent use.
type Server struct {
	ready atomic.Bool
	ln    net.Listener
	http  *http.Server
	done  chan error
}

// Listen binds addr and serves in a goroutine of its own until Close: a
// TCP address ("127.0.0.1:0" picks a free port: see Addr), or "unix:PATH"
// for a Unix socket (a stale socket file at PATH is replaced). metrics is
// what /metrics exposes; nil serves an empty exposition. The server starts
// not ready.
func Listen(addr string, metrics prometheus.Gatherer) (*Server, error) {
	network, address := splitAddr(addr)
	if network == "unix" {
		if fi, err := os.Lstat(address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(address) // left by a process that died
		}
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("admin: listen on %q: %w", addr, err)
	}
	s := &Server{ln: ln, done: make(chan error, 1)}
	s.http = &http.Server{
		Handler:           s.Handler(metrics),
		ReadHeaderTimeout: 10 * time.Second,
		// pprof's profile and trace run for ?seconds= (30 by default).
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  time.Minute,
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// Handler returns the server's routes, for tests and for mounting elsewhere.
func (s *Server) Handler(metrics prometheus.Gatherer) http.Handler {
	if metrics == nil {
		metrics = prometheus.NewRegistry()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// AddrString is the address in Listen's form: host:port, or unix:PATH;
// "" for a nil Server (no admin server).
func (s *Server) AddrString() string {
	if s == nil {
		return ""
	}
	if a := s.ln.Addr(); a.Network() == "unix" {
		return "unix:" + a.String()
	}
	return s.ln.Addr().String()
}

// splitAddr splits Listen's address into a network and an address.
func splitAddr(addr string) (network, address string) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", path
	}
	return "tcp", addr
}

// SetReady sets what /readyz answers: 200 when ready, 503 when not. The
// command sets it once the WebSocket listener accepts and clears it when a
// drain starts. On a nil Server (no admin server) it does nothing.
func (s *Server) SetReady(ready bool) {
	if s != nil {
		s.ready.Store(ready)
	}
}

// Ready reports what /readyz answers.
func (s *Server) Ready() bool { return s.ready.Load() }

// Close stops the server: it stops accepting and waits, until ctx ends, for
// requests in flight (a scrape; a running profile is cut short by ctx).
// Closing a nil Server (no admin server) does nothing.
func (s *Server) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = s.http.Close()
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
