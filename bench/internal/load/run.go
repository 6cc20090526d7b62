//go:build linux

package load

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrFailed is returned (wrapped) by Run, with a complete Result, when a
// connection failed or an echoed byte differed.
var ErrFailed = errors.New("load: run failed")

// runner is one run's shared state: configuration, precomputed frames, the
// loops, and the progress counters the coordinator waits on.
type runner struct {
	cfg     Config
	fs      *frameSet
	sa      unix.Sockaddr
	family  int
	sources [][4]byte
	period  float64 // fixed rate: nanoseconds between a connection's sends
	base    time.Time
	loops   []*loop
	wg      sync.WaitGroup

	measuring atomic.Bool
	settled   atomic.Int64 // echo, idle: targets opened or given up
	opened    atomic.Int64
	finished  atomic.Int64 // opened connections that ended
	checked   atomic.Int64 // idle: checks ended (echoed or failed)
	workers   atomic.Int64 // connect: workers still cycling

	errMu     sync.Mutex
	firstErrs []string

	window  time.Duration
	srv0    procSample
	srv1    procSample
	cli0    procSample
	cli1    procSample
	rssPre  int64
	rssPost int64
}

// Run performs one load run as cfg describes and returns its report. The
// error wraps ErrFailed when connections failed or bytes mismatched (the
// Result is complete then too); other errors mean the run could not be made.
func Run(cfg Config) (Result, error) {
	if err := cfg.Normalize(); err != nil {
		return Result{}, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return Result{}, err
	}
	switch cfg.Mode {
	case ModeEcho:
		err = r.runEcho()
	case ModeIdle:
		err = r.runIdle()
	case ModeConnect:
		err = r.runConnect()
	}
	res := r.stop()
	if err != nil {
		return res, err
	}
	if res.Failed() {
		return res, fmt.Errorf("%w: %d errors, %d mismatches", ErrFailed, res.Errors, res.Mismatches)
	}
	return res, nil
}

func newRunner(cfg Config) (*runner, error) {
	addr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("load: resolve %q: %v", cfg.Addr, err)
	}
	r := &runner{cfg: cfg, base: time.Now()}
	if ip4 := addr.IP.To4(); ip4 != nil {
		r.family = unix.AF_INET
		r.sa = &unix.SockaddrInet4{Port: addr.Port, Addr: [4]byte(ip4)}
	} else {
		r.family = unix.AF_INET6
		r.sa = &unix.SockaddrInet6{Port: addr.Port, Addr: [16]byte(addr.IP.To16())}
	}
	if cfg.Sources > 1 {
		if ip4 := addr.IP.To4(); ip4 == nil || !ip4.IsLoopback() {
			return nil, fmt.Errorf("load: -sources %d needs an IPv4 loopback server address, not %q", cfg.Sources, cfg.Addr)
		}
		for i := 1; i <= cfg.Sources; i++ {
			r.sources = append(r.sources, [4]byte{127, 0, 0, byte(i)})
		}
	}
	if cfg.Rate > 0 {
		r.period = 1e9 / cfg.Rate
	}
	var lim unix.Rlimit
	if cfg.Mode != ModeConnect && unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && uint64(cfg.Conns)+32 > lim.Cur {
		return nil, fmt.Errorf("load: %d connections need more than this process's open-file limit (%d): run several wsload processes of at most %d connections each",
			cfg.Conns, lim.Cur, lim.Cur-32)
	}
	var seed [32]byte
	crand.Read(seed[:])
	rng := rand.New(rand.NewChaCha8(seed))
	kind := payloadBinary
	switch {
	case cfg.JSON:
		kind = payloadJSON
	case cfg.Text:
		kind = payloadText
	}
	r.fs = buildFrameSet(cfg.Size, cfg.Inflight, cfg.Conns, kind, cfg.Deflate, cfg.BatchMemory, rng)
	for i := 0; i < cfg.Loops; i++ {
		crand.Read(seed[:])
		l, err := newLoop(r, i, seed)
		if err != nil {
			for _, l := range r.loops {
				l.closeFds()
			}
			return nil, err
		}
		r.loops = append(r.loops, l)
	}
	for _, l := range r.loops {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); l.run() }()
	}
	return r, nil
}

// note keeps the first few distinct error messages for the report. Goroutine-safe.
func (r *runner) note(msg string) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if len(r.firstErrs) >= 10 || slices.Contains(r.firstErrs, msg) {
		return
	}
	r.firstErrs = append(r.firstErrs, msg)
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "wsload: "+format+"\n", args...)
	}
}

// waitFor polls cond every few milliseconds until it holds or limit passes.
func (r *runner) waitFor(what string, limit time.Duration, cond func() bool, progress func() string) error {
	deadline := time.Now().Add(limit)
	nextLog := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("load: %s: not done after %v", what, limit)
		}
		if progress != nil && time.Now().After(nextLog) {
			r.logf("%s: %s", what, progress())
			nextLog = nextLog.Add(time.Second)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// phaseLimit bounds a phase in which every connection has its own deadlines
// (Timeout per attempt, Retries attempts, backoff up to 1s): a safety net only.
func (r *runner) phaseLimit() time.Duration {
	return time.Duration(r.cfg.Retries+2)*(r.cfg.Timeout+time.Second) + time.Duration(r.cfg.Conns/1000)*time.Second
}

// connectAll opens cfg.Conns connections spread round-robin over the loops.
func (r *runner) connectAll() error {
	n := r.cfg.Conns
	per := make([][]int32, len(r.loops))
	for i := 0; i < n; i++ {
		per[i%len(per)] = append(per[i%len(per)], int32(i))
	}
	for i, l := range r.loops {
		idx := per[i]
		l.execute(func() { l.connectTargets(idx) })
	}
	start := time.Now()
	err := r.waitFor("connecting", r.phaseLimit(), func() bool { return r.settled.Load() >= int64(n) },
		func() string { return fmt.Sprintf("%d of %d open", r.opened.Load(), n) })
	r.logf("%d of %d connections open in %v", r.opened.Load(), n, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return err
	}
	if r.opened.Load() == 0 {
		return fmt.Errorf("load: no connection to %s opened: %v", r.cfg.Addr, r.errorsSoFar())
	}
	return nil
}

func (r *runner) errorsSoFar() []string {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return append([]string(nil), r.firstErrs...)
}

// measure runs the measured window: CPU (and RSS) of the server and of this
// process at both ends, the measuring flag the loops check on every read.
func (r *runner) measure(d time.Duration) {
	pid := strconv.Itoa(r.cfg.ServerPID)
	if r.cfg.ServerPID > 0 {
		r.srv0 = sampleProc(pid)
	}
	r.cli0 = sampleProc("self")
	t0 := time.Now()
	r.measuring.Store(true)
	time.Sleep(d)
	r.measuring.Store(false)
	r.window = time.Since(t0)
	r.cli1 = sampleProc("self")
	if r.cfg.ServerPID > 0 {
		r.srv1 = sampleProc(pid)
	}
}

// closeAll drains and closes every open connection and waits for them.
func (r *runner) closeAll() error {
	for _, l := range r.loops {
		l.execute(l.drain)
	}
	return r.waitFor("closing", 2*r.cfg.Timeout+2*time.Second,
		func() bool { return r.finished.Load() >= r.opened.Load() },
		func() string { return fmt.Sprintf("%d of %d closed", r.finished.Load(), r.opened.Load()) })
}

func (r *runner) runEcho() error {
	if err := r.connectAll(); err != nil {
		return err
	}
	if !r.cfg.TrafficAt.IsZero() {
		time.Sleep(time.Until(r.cfg.TrafficAt))
	}
	t0 := int64(time.Since(r.base))
	for _, l := range r.loops {
		l.execute(func() { l.startTraffic(t0) })
	}
	if !r.cfg.WindowAt.IsZero() {
		time.Sleep(time.Until(r.cfg.WindowAt))
	} else {
		time.Sleep(r.cfg.Warmup)
	}
	r.measure(r.cfg.Duration)
	return r.closeAll()
}

func (r *runner) runIdle() error {
	pid := strconv.Itoa(r.cfg.ServerPID)
	if r.cfg.ServerPID > 0 {
		rss, err := procRSS(pid)
		if err != nil {
			return err
		}
		r.rssPre = rss
	}
	if err := r.connectAll(); err != nil {
		return err
	}
	if err := r.checkAll(); err != nil {
		return err
	}
	time.Sleep(r.cfg.Settle)
	if r.cfg.ServerPID > 0 {
		rss, err := procRSS(pid)
		if err != nil {
			return err
		}
		r.rssPost = rss
	}
	// Hold the connections for the window (server CPU while idle), then
	// check every one still echoes; the check's echoes are the measured ones.
	r.measure(r.cfg.Duration)
	r.measuring.Store(true)
	err := r.checkAll()
	r.measuring.Store(false)
	if err != nil {
		return err
	}
	return r.closeAll()
}

// checkAll sends one message on every open connection and waits for each to
// echo it, fail or reach its deadline.
func (r *runner) checkAll() error {
	r.checked.Store(0)
	var total atomic.Int64
	for _, l := range r.loops {
		l.call(func() { total.Add(int64(l.check())) })
	}
	return r.waitFor("checking", r.cfg.Timeout+2*time.Second,
		func() bool { return r.checked.Load() >= total.Load() },
		func() string { return fmt.Sprintf("%d of %d echoed", r.checked.Load(), total.Load()) })
}

func (r *runner) runConnect() error {
	n := r.cfg.Conns
	per := make([][]int32, len(r.loops))
	for i := 0; i < n; i++ {
		per[i%len(per)] = append(per[i%len(per)], int32(i))
	}
	r.workers.Store(int64(n))
	for i, l := range r.loops {
		idx := per[i]
		l.execute(func() { l.connectTargets(idx) })
	}
	time.Sleep(r.cfg.Warmup)
	r.measure(r.cfg.Duration)
	for _, l := range r.loops {
		l.execute(l.stopWorkers)
	}
	return r.waitFor("stopping workers", r.phaseLimit(), func() bool { return r.workers.Load() <= 0 }, nil)
}
