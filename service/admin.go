package service

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wsreactor/wsreactor/internal/admin"
	"github.com/wsreactor/wsreactor/internal/buildinfo"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// startAdmin starts the admin HTTP server on cfg.AdminAddr with the
// server's metrics, not ready yet; nil (and no error) when the address is
// empty. extra are more collectors to expose (the PROXY protocol's
// refusals).
func startAdmin(cfg Config, r *reactor.Reactor, srv *protocol.Server, mon *monitor, extra ...prometheus.Collector) (*admin.Server, error) {
	if cfg.AdminAddr == "" {
		return nil, nil
	}
	reg := newRegistry(r, srv, mon)
	reg.MustRegister(extra...)
	return admin.Listen(cfg.AdminAddr, reg)
}

// newRegistry is what /metrics exposes: the Go runtime and process
// collectors, the server's own series and wsreactor_build_info.
func newRegistry(r *reactor.Reactor, srv *protocol.Server, mon *monitor) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(r, srv, mon),
		budgetCollector{srv.Budget()},
		buildinfo.Read().Collector(),
	)
	return reg
}
