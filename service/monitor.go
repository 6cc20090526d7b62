package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// The monitor samples event-loop lag (only with the admin server: the
// samples are for /metrics) and logs limit events. It posts one function to
// every event loop per lagInterval (or per limitInterval without the admin
// server) and reads no counter on the message path: what it reads, it
// reads on the loop that writes it.

const (
	lagInterval   = 500 * time.Millisecond // how often each loop's lag is sampled
	limitInterval = 10 * time.Second       // how often limit events are checked and logged
)

// lagBuckets are the upper bounds, in seconds, of the lag histogram.
var lagBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

// lagHist is one loop's lag histogram: plain fields written by that loop.
type lagHist struct {
	counts []uint64 // per bucket, not cumulative; the last one is +Inf
	count  uint64
	sum    float64 // seconds
}

func (h *lagHist) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(lagBuckets) && s > lagBuckets[i] {
		i++
	}
	h.counts[i]++
	h.count++
	h.sum += s
}

// clone copies h (its counts too).
func (h *lagHist) clone() lagHist {
	return lagHist{counts: append([]uint64(nil), h.counts...), count: h.count, sum: h.sum}
}

// monitor samples the loops of r: lag for the metrics, limit counters for
// the log.
type monitor struct {
	r      *reactor.Reactor
	srv    *protocol.Server
	logger *slog.Logger
	lag    []lagHist // per loop, each written and read on its loop only

	// limit counts at the last check: the monitor goroutine only.
	lastWriteLimit, lastAtCap uint64
}

func newMonitor(r *reactor.Reactor, srv *protocol.Server, logger *slog.Logger, loops int) *monitor {
	m := &monitor{r: r, srv: srv, logger: logger, lag: make([]lagHist, loops)}
	for i := range m.lag {
		m.lag[i].counts = make([]uint64, len(lagBuckets)+1)
	}
	return m
}

// run samples until ctx ends: lag every lagInterval when sampleLag (the
// admin server is on), limit events every limitInterval. The lag of a loop
// is how late a function it was due to run (at the ticker's tick) actually
// ran on it: timer wake-up, queueing behind the loop's I/O, and the loop's
// own callbacks.
func (m *monitor) run(ctx context.Context, sampleLag bool) {
	every, perCheck := limitInterval, 1
	if sampleLag {
		every, perCheck = lagInterval, int(limitInterval/lagInterval)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case due := <-tick.C:
			if sampleLag {
				m.r.ForEachLoop(func(loop int) {
					if loop < len(m.lag) {
						m.lag[loop].observe(time.Since(due))
					}
				})
			}
		}
		if n%perCheck == 0 {
			m.logLimits()
		}
	}
}

// logLimits logs, at most once per check, the limit events since the last
// check: connections closed for the write-buffer limit and upgrades shed at
// -max-conns.
func (m *monitor) logLimits() {
	s := gatherStats(m.r, m.srv)
	wl, cap := s.WriteLimitCloses, s.HandshakeFailures[protocol.CauseAtCapacity]
	if wl > m.lastWriteLimit {
		m.logger.Warn("write buffer limit: connections closed 1008", "count", wl-m.lastWriteLimit,
			"seconds", limitInterval.Seconds())
	}
	if cap > m.lastAtCap {
		m.logger.Warn("max-conns reached: upgrades answered 503", "count", cap-m.lastAtCap,
			"seconds", limitInterval.Seconds())
	}
	m.lastWriteLimit, m.lastAtCap = wl, cap
}

// lagCopies returns a copy of each loop's lag histogram, read on its loop;
// ok[i] is false for a loop that did not run the read (no connection yet,
// or the reactor stopped).
func (m *monitor) lagCopies() (lags []lagHist, ok []bool) {
	lags, ok = make([]lagHist, len(m.lag)), make([]bool, len(m.lag))
	m.r.ForEachLoop(func(loop int) {
		if loop < len(m.lag) {
			lags[loop], ok[loop] = m.lag[loop].clone(), true
		}
	})
	return lags, ok
}

// gatherStats sums the Stats of every loop, each read on its own loop.
func gatherStats(r *reactor.Reactor, srv *protocol.Server) protocol.Stats {
	per, _ := loopStats(r, srv)
	var sum protocol.Stats
	for i := range per {
		sum.Add(&per[i])
	}
	return sum
}

// loopStats copies each loop's Stats, read on its loop; ok[i] is false for
// a loop that did not run the read: one that has had no connection (its
// Stats are all zero, and so is the copy) or any loop once the reactor has
// stopped (the copy is zero, not the Stats).
func loopStats(r *reactor.Reactor, srv *protocol.Server) (per []protocol.Stats, ok []bool) {
	per, ok = make([]protocol.Stats, r.Loops()), make([]bool, r.Loops())
	r.ForEachLoop(func(loop int) {
		if loop < len(per) {
			per[loop], ok[loop] = *srv.LoopStats(loop), true
		}
	})
	return per, ok
}
