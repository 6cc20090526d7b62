package service

import (
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsreactor/wsreactor/reactor"
)

// What the package's external tests (package service_test, which run
// servers with internal/testkit) may see of its insides.

// NewTestRegistry is what /metrics would expose for s, with a monitor of
// its own.
func NewTestRegistry(s *Server) *prometheus.Registry {
	return newRegistry(s.r, s.srv, newMonitor(s.r, s.srv, nil, s.cfg.Loops))
}

// Monitor is the event-loop monitor, for tests that drive its checks.
type Monitor = monitor

// NewTestMonitor is a monitor of s's loops that logs to logger.
func NewTestMonitor(s *Server, logger *slog.Logger) *Monitor {
	return newMonitor(s.r, s.srv, logger, s.cfg.Loops)
}

// LogLimits runs one check of the limit events.
func (m *monitor) LogLimits() { m.logLimits() }

// ProxiedPeers returns RemoteAddr of every open proxied connection, as the
// WebSocket state machine sees it.
func ProxiedPeers(s *Server) []string {
	var mu sync.Mutex
	var out []string
	s.r.ForEachProtocol(func(p reactor.Protocol) {
		if pp, ok := p.(*proxiedProtocol); ok {
			a := pp.conn.RemoteAddr().String()
			mu.Lock()
			out = append(out, a)
			mu.Unlock()
		}
	})
	return out
}

// ProxyRefusedBy is the PROXY refusal count by reason label.
func ProxyRefusedBy(s *Server) map[string]int64 {
	f := s.factory.(*proxyFactory)
	out := make(map[string]int64)
	for i := range f.byReason {
		out[refusalLabels[i]] = f.byReason[i].Load()
	}
	return out
}

// GatherTimeout bounds how long a scrape waits for the event loops.
const GatherTimeout = gatherTimeout

// DetachAndResume takes up to max movable connections off s's event loops
// as an upgrade's batch would, then puts them back as after a batch the
// new process did not take; it returns how many were taken and how many
// were left on the loops.
func DetachAndResume(s *Server, max int) (taken, left int, err error) {
	src := &upgradeSource{s}
	fds, recs, left, err := src.Detach(max)
	if err != nil {
		return 0, 0, err
	}
	src.Resume(fds, recs)
	return len(fds), left, nil
}
