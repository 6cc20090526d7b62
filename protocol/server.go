package protocol

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Server holds what the connections of one listening server share: the
// configuration, the application and the count of open connections. Its
// methods are safe for concurrent use from any goroutine.
type Server struct {
	cfg      Config
	app      func() Handler
	open     atomic.Int64 // upgraded connections not yet lost
	shutting atomic.Bool
	budget   *Budget  // nil without Config.MemoryBudget
	stats    []*Stats // one per event loop (Config.Loops), each written by its loop only

	loopPools  []deflatePool // one per event loop (deflate_pool.go)
	sharedPool deflatePool   // for transports that do not say their loop
}

// NewServer returns a Server with cfg (taken as given, see DefaultConfig,
// but for Loops 0 and Deflate.Level 0, which get their defaults, and values
// out of range, which are clamped: Config returns the result) and app,
// which builds the application handler of each connection when its opening
// handshake succeeds (Echo when app is nil). cfg must not change
// afterwards.
func NewServer(cfg Config, app func() Handler) *Server {
	if app == nil {
		app = Echo
	}
	if cfg.MaxMessageSize < 0 {
		cfg.MaxMessageSize = 0
	}
	if cfg.Deflate.Level == 0 {
		cfg.Deflate.Level = DefaultDeflateLevel
	}
	cfg.Deflate.Level = min(max(cfg.Deflate.Level, 1), 9)
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0) // reactor.Options' default
	}
	cfg.Loops = min(cfg.Loops, 1<<16) // Conn.loop is a uint16
	s := &Server{cfg: cfg, app: app, loopPools: make([]deflatePool, cfg.Loops)}
	s.stats = make([]*Stats, cfg.Loops)
	for i := range s.stats {
		s.stats[i] = new(Stats) // apart, so that two loops' counters share no cache line
	}
	if cfg.MemoryBudget > 0 {
		s.budget = newBudget(cfg.MemoryBudget, len(s.stats))
	}
	s.sharedPool.mu = new(sync.Mutex)
	return s
}

// Budget returns the server's memory budget, nil when Config.MemoryBudget
// is 0. Call its Check every BudgetCheckInterval; read its Stats from any
// goroutine.
func (s *Server) Budget() *Budget { return s.budget }

// LoopStats returns the counters of the connections on event loop i (below
// Config.Loops; a Transport without a Loop method counts as loop 0). They
// are written by that loop's goroutine only: read them there (for example
// with reactor.Reactor.ForEachLoop) and copy them out.
func (s *Server) LoopStats(i int) *Stats { return s.stats[i] }

// loopOf is the Stats index of a connection on t: t's Loop(), when it has
// one, else 0. A loop at or past Config.Loops is an error: folding it onto
// another loop's Stats would have two goroutines write the same plain
// counters (a data race and silently wrong counts).
func (s *Server) loopOf(t Transport) (uint16, error) {
	l, ok := t.(looper)
	if !ok {
		return 0, nil
	}
	if i := l.Loop(); i < 0 || i >= len(s.stats) {
		return 0, fmt.Errorf("protocol: connection on event loop %d, but Config.Loops is %d: set it to the reactor's Loops()", i, len(s.stats))
	}
	return uint16(l.Loop()), nil
}

// stats is the connection's event loop's Stats.
func (c *Conn) stats() *Stats { return c.srv.stats[c.loop] }

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// NewConn returns the state machine of a new connection, ready for
// ConnectionMade. It is small (see Conn) and allocates nothing else until
// data arrives.
func (s *Server) NewConn() *Conn { return &Conn{srv: s} }

// InitConn readies a zero Conn that lives inside a larger struct (one
// allocation per connection instead of two): the same as NewConn, in place.
func (s *Server) InitConn(c *Conn) { *c = Conn{srv: s} }

// Open returns the number of open (upgraded, not yet lost) connections.
func (s *Server) Open() int64 { return s.open.Load() }

// Shutdown marks the server as shutting down: from now on upgrade requests
// get 503 with Retry-After. Open connections are untouched; call
// Conn.GoingAway on each (on its own event loop) to close them.
func (s *Server) Shutdown() { s.shutting.Store(true) }

// ShuttingDown reports whether Shutdown has been called.
func (s *Server) ShuttingDown() bool { return s.shutting.Load() }

// acquire counts a new open connection, or reports false when MaxConns are
// already open.
func (s *Server) acquire() bool {
	n := s.open.Add(1)
	if max := s.cfg.MaxConns; max > 0 && n > int64(max) {
		s.open.Add(-1)
		return false
	}
	return true
}

// release uncounts an open connection counted by acquire.
func (s *Server) release() { s.open.Add(-1) }
