package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

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
	addr, release, err := reactor.ReservePort(cfg.Addr)
	if err != nil {
		return err
	}
	defer release()
	if cfg.workerAdminDir, err = makeWorkerAdminDir(cfg); err != nil { // procs_admin.go
		return err
	}
	if cfg.workerAdminDir != "" {
		defer os.RemoveAll(cfg.workerAdminDir)
	}
	sup, err := supervisor.New(supervisor.Config{
		Workers:     cfg.Procs,
		Args:        func(i int) []string { return workerArgs(args, cfg, addr, i) },
		Logger:      logger,
		StopTimeout: cfg.DrainDelay + cfg.CloseSpread + cfg.ShutdownTimeout + 5*time.Second, // the workers' drain, then their reactor's stop
	})
	if err != nil {
		return err
	}
	adm, err := startProcsAdmin(cfg, sup)
	if err != nil {
		return err
	}
	defer closeAdmin(adm, logger)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sup.Ready():
			adm.SetReady(true)
			logger.Info("listening", "addr", addr, "admin_addr", adm.AddrString(), "procs", cfg.Procs, "loops", cfg.Loops,
				slog.Group("config", attrsAny(cfg.StartAttrs)...))
			if started != nil {
				started(sup)
			}
		case <-ctx.Done():
		}
		select {
		case <-ctx.Done():
			adm.SetReady(false) // the workers drain from now
		case <-done:
		}
	}()
	return sup.Run(ctx)
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
	defer refuseUpgrades(logger)() // upgrade.go
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
	return service.Run(ctx, cfg.Config, func(*service.Server) {
		if err := link.Ready(); err != nil {
			logger.Error(err.Error())
		}
	})
}

// checkProcs validates -procs against the other flags.
func checkProcs(cfg config) error {
	switch {
	case cfg.Procs < 1 || cfg.Procs > maxProcs:
		return fmt.Errorf("wsreactor: -procs %d: want 1 to %d", cfg.Procs, maxProcs)
	case cfg.Procs > 1 && cfg.MaxConns > 0 && cfg.MaxConns < cfg.Procs:
		return fmt.Errorf("wsreactor: -max-conns %d with -procs %d: the limit is split over the workers, so it needs at least one per worker", cfg.MaxConns, cfg.Procs)
	}
	return nil
}

// maxProcs bounds -procs: far past any useful count (workers beyond the
// cores only help to pass the per-process open-file limit), low enough that
// a typo cannot start thousands of processes.
const maxProcs = 256
