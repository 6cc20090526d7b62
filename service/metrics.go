package service

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// collector exports the server's counters as const metrics, gathered when
// scraped: each event loop's protocol.Stats and lag histogram are copied on
// that loop (monitor.go), then summed here. Nothing on the message path is
// shared between loops or atomic.
type collector struct {
	r   *reactor.Reactor
	srv *protocol.Server
	mon *monitor

	mu      sync.Mutex       // serializes scrapes; guards the fields below
	last    []protocol.Stats // each loop's last copy: kept when a loop cannot be read (stopped, or blocked)
	lag     []lagHist
	pending chan gathered // a gather still running (a loop did not answer in time), or nil
}

// gatherTimeout bounds how long a scrape waits for the event loops: a
// blocked loop must not hang /metrics, which is when it is needed most.
const gatherTimeout = 2 * time.Second

// gathered is one copy of every loop's counters and lag histogram.
type gathered struct {
	per   []protocol.Stats
	ok    []bool
	lags  []lagHist
	lagOK []bool
}

// gather copies every loop's counters on its loop. It waits at most
// gatherTimeout; past it the copy is left to finish for a later scrape (one
// at a time) and ok is false. c.mu is held.
func (c *collector) gather() (g gathered, ok bool) {
	if c.pending == nil {
		ch := make(chan gathered, 1)
		c.pending = ch
		go func() {
			var g gathered
			g.per, g.ok = loopStats(c.r, c.srv)
			g.lags, g.lagOK = c.mon.lagCopies()
			ch <- g
		}()
	}
	select {
	case g = <-c.pending:
		c.pending = nil
		return g, true
	case <-time.After(gatherTimeout):
		return gathered{}, false
	}
}

func newCollector(r *reactor.Reactor, srv *protocol.Server, mon *monitor) *collector {
	return &collector{r: r, srv: srv, mon: mon,
		last: make([]protocol.Stats, r.Loops()), lag: make([]lagHist, r.Loops())}
}

// The metrics: names wsreactor_<what>_<unit>, _total for counters, base
// units (docs/operations.md, "Metrics").
var (
	descOpen = prometheus.NewDesc("wsreactor_connections_open",
		"Upgraded WebSocket connections open now.", nil, nil)
	descMax = prometheus.NewDesc("wsreactor_connections_max",
		"The cap on open WebSocket connections (-max-conns, or derived from the open-file limit); past it upgrades get 503. 0 means no cap.", nil, nil)
	descLoopOpen = prometheus.NewDesc("wsreactor_event_loop_connections_open",
		"Upgraded WebSocket connections open now, by event loop.", []string{"loop"}, nil)
	descTCPOpen = prometheus.NewDesc("wsreactor_tcp_connections_open",
		"TCP connections open now, upgraded or not (handshakes in progress and closing ones too).", nil, nil)
	descAccepted = prometheus.NewDesc("wsreactor_connections_accepted_total",
		"TCP connections accepted and handed to the protocol.", nil, nil)
	descResponses = prometheus.NewDesc("wsreactor_handshake_responses_total",
		"Opening handshakes answered, by HTTP status (101: upgraded; 200: the demo page; other: any status not listed).", []string{"status"}, nil)
	descFailures = prometheus.NewDesc("wsreactor_handshake_failures_total",
		"Opening handshakes that did not open a WebSocket connection, by cause.", []string{"cause"}, nil)
	descMsgIn = prometheus.NewDesc("wsreactor_messages_received_total",
		"Whole WebSocket messages received, by type.", []string{"type"}, nil)
	descMsgOut = prometheus.NewDesc("wsreactor_messages_sent_total",
		"Whole WebSocket messages sent, by type.", []string{"type"}, nil)
	descBytesIn = prometheus.NewDesc("wsreactor_received_bytes_total",
		"Message payload bytes received, after inflating with permessage-deflate (frame headers not counted), by type.", []string{"type"}, nil)
	descBytesOut = prometheus.NewDesc("wsreactor_sent_bytes_total",
		"Message payload bytes sent, before compression with permessage-deflate (frame headers not counted), by type.", []string{"type"}, nil)
	descCloses = prometheus.NewDesc("wsreactor_close_frames_total",
		"Close frames, by side (received from clients, sent by the server) and code (1005: empty body; other: 3000-4999 or a body that does not parse).", []string{"side", "code"}, nil)
	descTimeouts = prometheus.NewDesc("wsreactor_timeouts_total",
		"Connections ended by a timer, by kind: handshake (-handshake-timeout), ping (silent for two -ping-interval), close (-close-timeout).", []string{"kind"}, nil)
	descWriteLimit = prometheus.NewDesc("wsreactor_write_buffer_limit_closes_total",
		"Connections closed with 1008 for leaving more than -write-buffer-limit unread.", nil, nil)
	descShed = prometheus.NewDesc("wsreactor_connections_shed_total",
		"Connections refused at a limit, by limit (max_conns: upgrades answered 503 at -max-conns; open_files: accepted and closed at once for want of a descriptor).", []string{"limit"}, nil)
	descAcceptPauses = prometheus.NewDesc("wsreactor_accept_pauses_total",
		"Times the listener was left unpolled for a backoff because not even the spare descriptor could take a connection off the backlog.", nil, nil)
	descLag = prometheus.NewDesc("wsreactor_event_loop_lag_seconds",
		"How late a function due on the event loop every 500 ms ran, by loop.", []string{"loop"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOpen, descMax, descLoopOpen, descTCPOpen, descAccepted, descResponses, descFailures,
		descMsgIn, descMsgOut, descBytesIn, descBytesOut, descCloses, descTimeouts, descWriteLimit, descShed, descAcceptPauses, descLag} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, fresh := c.gather()
	var s protocol.Stats
	for i := range c.last {
		if fresh && g.ok[i] {
			c.last[i] = g.per[i]
		}
		if fresh && g.lagOK[i] {
			c.lag[i] = g.lags[i]
		}
		s.Add(&c.last[i])
	}

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descOpen, float64(c.srv.Open()))
	gauge(descMax, float64(c.srv.Config().MaxConns))
	gauge(descTCPOpen, float64(c.r.Connections()))
	counter(descAccepted, s.Accepted)
	for i := range c.last {
		loop := strconv.Itoa(i)
		gauge(descLoopOpen, float64(c.last[i].Open), loop)
		if h := c.lag[i]; h.counts != nil {
			ch <- prometheus.MustNewConstHistogram(descLag, h.count, h.sum, cumulative(h.counts), loop)
		}
	}
	for i, v := range s.Responses {
		if st := protocol.ResponseStatus(i); v > 0 || st == 101 {
			label := "other"
			if st != 0 {
				label = strconv.Itoa(st)
			}
			counter(descResponses, v, label)
		}
	}
	for i, v := range s.HandshakeFailures {
		counter(descFailures, v, protocol.HandshakeCause(i).String())
	}
	for i, typ := range protocol.MessageTypes {
		counter(descMsgIn, s.MessagesIn[i], typ)
		counter(descMsgOut, s.MessagesOut[i], typ)
		counter(descBytesIn, s.BytesIn[i], typ)
		counter(descBytesOut, s.BytesOut[i], typ)
	}
	for i := range protocol.NumCloseSlots {
		code := protocol.CloseSlotLabel(i)
		// Codes never seen are left out (17 codes × 2 sides), except the
		// common ones, so that rate() has a start on them.
		if v := s.ClosesIn[i]; v > 0 || code == "1000" || code == "1001" {
			counter(descCloses, v, "received", code)
		}
		if v := s.ClosesOut[i]; v > 0 || code == "1000" || code == "1001" {
			counter(descCloses, v, "sent", code)
		}
	}
	for i, kind := range protocol.TimeoutKinds {
		counter(descTimeouts, s.Timeouts[i], kind)
	}
	counter(descWriteLimit, s.WriteLimitCloses)
	counter(descShed, s.HandshakeFailures[protocol.CauseAtCapacity], "max_conns")
	acc := c.r.AcceptStats()
	counter(descShed, uint64(acc.Shed), "open_files")
	counter(descAcceptPauses, uint64(acc.Pauses))
}

// cumulative turns per-bucket counts into the upper-bound → cumulative
// count map of a Prometheus histogram (the last count is +Inf's, implied).
func cumulative(counts []uint64) map[float64]uint64 {
	out := make(map[float64]uint64, len(lagBuckets))
	var n uint64
	for i, ub := range lagBuckets {
		n += counts[i]
		out[ub] = n
	}
	return out
}
