package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// collector exports the server's counters as const metrics, gathered when
// scraped (never touched per message by anything but the event loops).
type collector struct {
	r   *reactor.Reactor
	srv *protocol.Server
}

func newCollector(r *reactor.Reactor, srv *protocol.Server) *collector {
	return &collector{r: r, srv: srv}
}

var (
	descOpen = prometheus.NewDesc("wsreactor_connections_open",
		"Upgraded WebSocket connections open now.", nil, nil)
	descTCPOpen = prometheus.NewDesc("wsreactor_tcp_connections_open",
		"TCP connections open now, upgraded or not (handshakes in progress, closing).", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descOpen
	ch <- descTCPOpen
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(c.srv.Open()))
	ch <- prometheus.MustNewConstMetric(descTCPOpen, prometheus.GaugeValue, float64(c.r.Connections()))
}
