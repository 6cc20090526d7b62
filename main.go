// Command wsreactor is a WebSocket (RFC 6455) echo server on the gnet event
// loop, shaped like Twisted's reactor.
//
//	go run .                      # listens on :8080
//	go run . -addr 127.0.0.1:9001 -loops 2 -max-message 0
//	go run . -loops 1 -cpuprofile cpu.pprof   # then: go tool pprof cpu.pprof
//	WSREACTOR_MAX_MESSAGE=0 go run . -log-format json
//
// Every flag is also read from WSREACTOR_<FLAG> (upper case, '-' as '_');
// the command line wins. Logs are log/slog lines on stderr.
//
// Every message a client sends comes back to it, streamed: each piece of
// message data goes back as soon as it has arrived (and, for text, has been
// validated as UTF-8), as fragments of the same message type.
//
// On SIGINT or SIGTERM the server stops accepting, flushes every echo it
// owes, sends close 1001 to every client, waits up to -shutdown-timeout for
// the close handshakes and exits 0.
//
// With -procs N it starts N worker processes (this program again) that
// listen on the same address with SO_REUSEPORT, restarts those that die,
// and on SIGINT or SIGTERM has every one drain as above (procs.go).
//
// The server itself is package service; this command is its flags
// (flags.go), logs (logging.go), process-wide settings and -procs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/wsreactor/wsreactor/internal/buildinfo"
	"github.com/wsreactor/wsreactor/internal/osprobe"
	"github.com/wsreactor/wsreactor/service"
)

func main() {
	cfg, err := parseFlags(newFlagSet(), os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0) // the usage is written
	case err != nil:
		// The one error, not the whole usage in which it would be lost.
		fmt.Fprintf(os.Stderr, "%v\nrun 'wsreactor -h' for every flag and its WSREACTOR_* variable\n", err)
		os.Exit(2)
	case cfg.Version:
		fmt.Println(buildinfo.Read())
		os.Exit(0)
	}
	// A log reader that goes away (a pipe's reader exits, or the process
	// whose stderr an upgrade's successor inherited is gone) must not take
	// the server and its clients with it: with SIGPIPE ignored a write to
	// the broken pipe fails and the log line is lost, as systemd's
	// IgnoreSIGPIPE=yes (its default for services) has it.
	signal.Ignore(syscall.SIGPIPE)
	logger := newLogger(os.Stderr, cfg)
	link, err := attachWorker(&cfg) // nil unless a worker of -procs
	if err != nil {
		logger.Error(err.Error())
		os.Exit(1)
	}
	if link == nil { // a worker's parent has warned already
		warnStrayEnv(logger, cfg.strayEnv)
	}
	if !cfg.adminAddrGiven && link == nil {
		cfg.AdminUnavailable = adminUnavailable(logger, cfg.AdminAddr)
	}
	if os.Getenv("GOGC") == "" {
		// The echo path allocates nothing, so garbage comes only from
		// connection set-up; collecting it sooner keeps the heap close to
		// what the open connections really hold (memory per connection is
		// the point of a server like this) at little CPU cost.
		debug.SetGCPercent(25)
	}
	if os.Getenv("GOMAXPROCS") == "" && (cfg.Procs == 1 || link != nil) {
		runtime.GOMAXPROCS(procsForLoops(cfg.Loops))
	}
	if cfg.FileLimit, err = osprobe.RaiseFileLimit(); err != nil {
		logger.Warn(err.Error()) // the start line says the limit in effect
	}
	if lim := service.GoMemoryLimit(cfg.Config); lim > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// The collector works harder as the heap nears what the memory
		// budget allows rather than let it grow by GOGC past it.
		debug.SetMemoryLimit(lim)
	}

	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		logger.Error(err.Error())
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	if cfg.Procs > 1 {
		err = runProcs(ctx, cfg, os.Args[1:], logger, nil) // SIGUSR2 upgrades it (procs.go)
	} else {
		err = serveWorker(ctx, cfg, logger, link)
	}
	stop()
	stopProfile()
	var startErr *service.StartError
	switch {
	case errors.As(err, &startErr):
		logger.Error("start failed", "err", err)
		os.Exit(1)
	case err != nil:
		logger.Error("stopped", "err", err)
		os.Exit(1)
	}
	logger.Info("stopped")
}

// startCPUProfile starts a pprof CPU profile into the file at path (none
// when path is empty); the returned function stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wsreactor: -cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("wsreactor: -cpuprofile %q: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// procsForLoops is the GOMAXPROCS for a process running loops event
// loops: one P per loop, as every event-loop server of the comparison runs
// (the runtime's own choice is the CPUs it may use). A P more than the
// loops costs an idle loop dearly: a loop waits for I/O blocked in
// epoll_wait holding its P, and while any P is held the runtime's sysmon
// polls every 20 µs, backing off to 10 ms, for as long as the wait lasts
// (with a P idle it does not retake the loop's P for 10 ms; with none it
// retakes it at once and sleeps); and gnet yields before each blocking
// wait, which with a P idle wakes another thread to look for work.
// Measured on 2 CPUs with 58 one-loop workers, 50,000 connections and
// 500 msgs/s (docs/benchmarks-c1m.md#one-p-per-loop): server CPU 59% with
// two Ps against 15% with one, p99 21.4 ms against 0.45 ms, and the storm
// 26 s against 12 s.
func procsForLoops(loops int) int { return max(loops, 1) }
