package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wsreactor/wsreactor/handoff"
	"github.com/wsreactor/wsreactor/internal/admin"
	"github.com/wsreactor/wsreactor/internal/buildinfo"
	"github.com/wsreactor/wsreactor/internal/envflag"
	"github.com/wsreactor/wsreactor/internal/supervisor"
	"github.com/wsreactor/wsreactor/reactor"
	"github.com/wsreactor/wsreactor/service"
)

// -procs N: the command as a parent of N worker processes on one port.
//
// The parent does no WebSocket work: it resolves the address once, starts
// N copies of this program (supervisor.EnvWorker tells each it is a worker)
// that listen on it with SO_REUSEPORT, restarts those that die, tags their
// output, and on SIGINT/SIGTERM has them all drain. Each worker is the
// one-process server of serve, with its share of the per-server limits.

// runProcs runs the parent of cfg.Procs workers until ctx is done and they
// have all drained, or until a worker cannot start. args are the command's
// own arguments, passed on to every worker (see workerArgs). started, when
// not nil, is called once with the supervisor once every worker serves: the
// set of live workers (index, pid) is its Workers method.
func runProcs(ctx context.Context, cfg config, args []string, logger *slog.Logger, started func(*supervisor.Supervisor)) error {
	upTimeout := cfg.UpgradeTimeout
	if upTimeout <= 0 {
		upTimeout = service.DefaultUpgradeTimeout
	}
	succ, err := supervisor.SuccessorFromEnv(logger, upTimeout) // started by an upgrade
	if err != nil {
		return err
	}
	if a := os.Getenv(envProcsAddr); succ != nil && a != "" {
		cfg.Addr = a // the address the old supervisor resolved (its port may have been 0)
	}
	os.Unsetenv(envProcsAddr)
	addr, release, err := reactor.ReservePort(cfg.Addr)
	if err != nil {
		return &service.StartError{Err: err}
	}
	defer release()
	if cfg.workerAdminDir, err = makeWorkerAdminDir(cfg); err != nil { // procs_admin.go
		return &service.StartError{Err: err}
	}
	if cfg.workerAdminDir != "" {
		defer os.RemoveAll(cfg.workerAdminDir)
	}
	scfg := supervisor.Config{
		Workers:     cfg.Procs,
		Args:        func(i int) []string { return workerArgs(args, cfg, addr, i) },
		Logger:      logger,
		StopTimeout: cfg.DrainDelay + cfg.CloseSpread + cfg.ShutdownTimeout + 5*time.Second, // the workers' drain, then their reactor's stop
	}
	if succ != nil {
		succ.Configure(&scfg, service.HandoffEnv) // each worker takes over from its predecessor
	}
	sup, err := supervisor.New(scfg)
	if err != nil {
		return &service.StartError{Err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	up := watchProcsUpgrades(sup, addr, upTimeout, logger, cancel)
	defer up.stop()
	var adm *admin.Server
	if succ == nil {
		adm, err = startProcsAdmin(cfg, sup)
		if err != nil && cfg.AdminUnavailable != nil {
			cfg.AdminUnavailable(err) // the default address is taken: serve without it
		} else if err != nil {
			return &service.StartError{Err: err}
		}
	}
	admc := make(chan *admin.Server, 1) // the admin server, once it listens
	defer func() { closeAdmin(<-admc, logger) }()
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer func() { admc <- adm }()
		select {
		case <-sup.Ready():
			if succ != nil {
				// Every worker serves here: the old supervisor exits,
				// freeing the admin address.
				if err := succ.Finish(); err != nil {
					logger.Error("upgrade: telling the old supervisor to exit", "err", err.Error())
				}
				sdNotify(logger, "MAINPID="+strconv.Itoa(os.Getpid())+"\nREADY=1")
				adm = startProcsAdminLate(cfg, sup, logger, done)
				logger.Info("upgrade: took over", "pid", os.Getpid(), "procs", cfg.Procs)
			} else {
				sdNotify(logger, "READY=1")
			}
			up.serving()
			adm.SetReady(true)
			logger.Info("listening", "addr", addr, "admin_addr", adm.AddrString(), "procs", cfg.Procs, "loops", cfg.Loops,
				"version", buildinfo.Read().Version, slog.Group("config", attrsAny(cfg.StartAttrs)...))
			if started != nil {
				started(sup)
			}
		case <-ctx.Done():
		case <-done: // Run gave up before every worker was ready
			return
		}
		select {
		case <-ctx.Done():
			adm.SetReady(false) // the workers drain from now
		case <-done:
		}
	}()
	err = sup.Run(ctx)
	if up.upgraded() {
		return nil // every worker handed over (or drained)
	}
	return err
}

// envProcsAddr gives a supervisor started by an upgrade the address its
// predecessor resolved (with -addr :0 the port it picked).
const envProcsAddr = "WSREACTOR_PROCS_ADDR"

// startProcsAdminLate starts the admin server of a supervisor started by
// an upgrade once its address is free (the old supervisor exits once every
// worker has moved); nil when there is none, or when stop is closed first.
func startProcsAdminLate(cfg config, sup *supervisor.Supervisor, logger *slog.Logger, stop <-chan struct{}) *admin.Server {
	for {
		adm, err := startProcsAdmin(cfg, sup)
		if err == nil {
			if adm != nil {
				logger.Info("admin listening", "admin_addr", adm.AddrString())
			}
			return adm
		}
		select {
		case <-stop:
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// procsUpgrades runs an upgrade of the supervisor and its workers on each
// SIGUSR2 (supervisor.Upgrade): the executable now at its path, with the
// same arguments, becomes the new supervisor, and each worker hands its
// connections to its replacement. On success the old supervisor ends.
type procsUpgrades struct {
	ready   atomic.Bool
	done    atomic.Bool
	sup     *supervisor.Supervisor
	addr    string
	timeout time.Duration
	logger  *slog.Logger
	end     func()
	stop    func()
}

func watchProcsUpgrades(sup *supervisor.Supervisor, addr string, timeout time.Duration, logger *slog.Logger, end func()) *procsUpgrades {
	u := &procsUpgrades{sup: sup, addr: addr, timeout: timeout, logger: logger, end: end}
	u.stop = onUSR2(func() { go u.run() }) // upgrade.go
	return u
}

// serving: every worker serves (and, in a supervisor started by an
// upgrade, has taken over): SIGUSR2 upgrades from now on.
func (u *procsUpgrades) serving()       { u.ready.Store(true) }
func (u *procsUpgrades) upgraded() bool { return u.done.Load() }

func (u *procsUpgrades) run() {
	if !u.ready.Load() {
		u.logger.Warn("SIGUSR2 ignored: not serving yet (workers starting, or taking over)")
		return
	}
	start := time.Now()
	cmd := exec.Command(exePath, os.Args[1:]...)
	cmd.Env = append(os.Environ(), envProcsAddr+"="+u.addr)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	u.logger.Info("upgrade started", "exe", cmd.Path, "args", cmd.Args[1:], "procs", len(u.sup.Workers()), "timeout", u.timeout.String())
	res, err := u.sup.Upgrade(cmd, u.timeout)
	switch {
	case errors.Is(err, supervisor.ErrUpgradeInProgress):
		u.logger.Warn("upgrade already in progress; SIGUSR2 ignored")
	case err != nil:
		u.logger.Error("upgrade failed; this process keeps serving", "err", err.Error(), "new_pid", res.PID,
			"workers_handed_over", res.HandedOver, "seconds", time.Since(start).Seconds())
	default:
		u.logger.Info("upgrade completed", "new_pid", res.PID, "workers_handed_over", res.HandedOver,
			"workers_retired", res.Retired, "seconds", time.Since(start).Seconds())
		u.done.Store(true)
		u.end()
	}
}

// workerArgs is worker i's command line: the parent's own arguments, so
// every flag reaches the workers as given, followed by the per-worker
// overrides (the flag package keeps the last value of a repeated flag): the
// resolved address, one process, its share of the per-server limits
// (workerLimits), its own CPU profile file, and a private admin server on a
// Unix socket that the parent's admin server scrapes (admin.go).
func workerArgs(args []string, cfg config, addr string, i int) []string {
	out := append(slices.Clip(args), "-addr", addr, "-procs", "1")
	out = append(out, workerLimits(cfg, i)...)
	if cfg.workerAdminDir != "" {
		out = append(out, "-admin-addr", workerAdminAddr(cfg.workerAdminDir, i)) // the parent scrapes it: procs_admin.go
	}
	if cfg.CPUProfile != "" {
		out = append(out, "-cpuprofile", cfg.CPUProfile+".worker"+strconv.Itoa(i))
	}
	return out
}

// workerLimits returns the flags that give worker i its share of the limits
// that bound the whole server. They are split evenly, not shared: each
// worker is a process with its own heap and its own open-file limit, so a
// split needs no communication between workers and keeps each one inside
// the resources it really has. The cost is that a worker can refuse at its
// share while another still has room; SO_REUSEPORT hashes connections over
// the listeners, so at large counts the shares fill evenly to within a few
// percent. A limit left at its default stays per worker (-max-conns 0:
// each worker derives its cap from its own open-file limit).
func workerLimits(cfg config, i int) []string {
	var out []string
	if cfg.MaxConns > 0 {
		out = append(out, "-max-conns", strconv.Itoa(share(cfg.MaxConns, cfg.Procs, i)))
	}
	if cfg.MemoryBudget > 0 {
		out = append(out, "-memory-budget", strconv.Itoa(share(int(cfg.MemoryBudget), cfg.Procs, i)))
	}
	return out
}

// share is worker i's part of total split over n: total/n, plus one for the
// first total%n workers, so the parts add up to total.
func share(total, n, i int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

// attachWorker is the worker's side: when this process is a worker of a
// -procs parent it listens with SO_REUSEPORT and as one process, and the
// returned link (nil when not a worker) says when it serves and when the
// parent is gone.
func attachWorker(cfg *config) (*supervisor.Link, error) {
	link, ok, err := supervisor.Attach()
	if err != nil || !ok {
		return nil, err
	}
	cfg.Procs, cfg.ReusePort = 1, true
	return link, nil
}

// serveWorker runs the server (service.Run) as worker link (or as the only
// process when link is nil), shutting down when ctx is done or the parent
// is gone.
func serveWorker(ctx context.Context, cfg config, logger *slog.Logger, link *supervisor.Link) error {
	cfg.Logger = logger
	if link == nil {
		up := watchUpgrades(logger) // SIGUSR2 (upgrade.go)
		defer up.stop()
		ch, err := service.HandoffFromEnv() // started by an upgrade
		if err != nil {
			return err
		}
		cfg.Handoff = ch
		return service.Run(ctx, cfg.Config, func(s *service.Server) { up.serving(s, ch != nil) })
	}
	defer refuseUpgrades(logger)()      // upgrade.go: the supervisor upgrades its workers
	ch, err := service.HandoffFromEnv() // a replacement, started by a new supervisor
	if err != nil {
		return err
	}
	cfg.Handoff = ch
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-link.Gone():
			logger.Warn("parent gone", "worker", link.Index())
			cancel()
		case <-ctx.Done():
		}
	}()
	return service.Run(ctx, cfg.Config, func(s *service.Server) {
		go handOverOnRequest(s, link, logger)
		if ch == nil {
			if err := link.Ready(); err != nil {
				logger.Error(err.Error())
			}
			return
		}
		go func() { // ready once every connection of the predecessor is here
			if err := <-s.TookOver(); err != nil {
				logger.Error("taking over from the old worker failed", "err", err.Error())
				return // the old worker stops this one, or the new supervisor's start timeout does
			}
			if err := link.Ready(); err != nil {
				logger.Error(err.Error())
			}
		}()
	})
}

// handOverOnRequest hands the server over to the peer of each handoff
// channel the supervisor sends (supervisor.Link.Handoffs): on success the
// server finishes and the worker exits 0; on failure it serves on, and
// says so.
func handOverOnRequest(s *service.Server, link *supervisor.Link, logger *slog.Logger) {
	for fd := range link.Handoffs() {
		start := time.Now()
		ch, err := handoff.FromFD(fd)
		var res handoff.GiveResult
		if err == nil {
			res, err = s.UpgradeTo(ch)
		} else {
			handoff.CloseFDs([]int{fd})
		}
		if err != nil {
			logger.Error("upgrade failed; this worker keeps serving", "err", err.Error(), "handed_over", res.HandedOver,
				"connections", s.Reactor().Connections(), "seconds", time.Since(start).Seconds())
			if err := link.HandOverFailed(); err != nil {
				logger.Error(err.Error())
			}
			continue
		}
		logger.Info("upgrade completed", "new_pid", res.PID, "handed_over", res.HandedOver, "batches", res.Batches,
			"left", res.Left, "longest_pause_seconds", res.LongestWait.Seconds(), "seconds", time.Since(start).Seconds())
		return
	}
}

// checkProcs validates -procs against the other flags.
func checkProcs(cfg config, src *envflag.Sources) error {
	switch {
	case cfg.Procs < 1 || cfg.Procs > maxProcs:
		return fmt.Errorf("wsreactor: %s: want 1 to %d", src.Describe("procs"), maxProcs)
	case cfg.Procs > 1 && cfg.MaxConns > 0 && cfg.MaxConns < cfg.Procs:
		return fmt.Errorf("wsreactor: %s with %s: the limit is split over the workers, so it needs at least one per worker", src.Describe("max-conns"), src.Describe("procs"))
	}
	return nil
}

// maxProcs bounds -procs: far past any useful count (workers beyond the
// cores only help to pass the per-process open-file limit), low enough that
// a typo cannot start thousands of processes.
const maxProcs = 256
