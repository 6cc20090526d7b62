package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/wsreactor/wsreactor/internal/bytesize"
	"github.com/wsreactor/wsreactor/internal/envflag"
	"github.com/wsreactor/wsreactor/internal/supervisor"
	"github.com/wsreactor/wsreactor/protocol/handshake"
	"github.com/wsreactor/wsreactor/service"
)

// config is the command's configuration: the server's (service.Config,
// one field per flag) and the flags that only the command reads.
type config struct {
	service.Config
	CPUProfile string // file for a pprof CPU profile of the whole run; "" none
	LogFormat  string // text or json
	LogLevel   string // debug, info, warn or error
	Procs      int    // worker processes on one port (procs.go); 1: this process serves
	Version    bool   // -version: print the version and exit

	workerAdminDir string          // -procs parent: directory of the workers' admin sockets (admin.go), not a flag
	strayEnv       []envflag.Stray // WSREACTOR_* variables that name no flag: warned about at start
	adminAddrGiven bool            // -admin-addr set on the command line or in the environment: a failure to listen is fatal
}

// envPrefix starts the environment variable of every flag: -max-message is
// also read from WSREACTOR_MAX_MESSAGE (see package envflag).
const envPrefix = "WSREACTOR"

// notFlagEnv are the WSREACTOR_* variables that are no flag's: the program
// sets them for itself (the worker index of -procs, the handoff socket of
// an upgrade's new process). Every other
// WSREACTOR_* variable that names no flag is warned about at start
// (envflag.Strays): a misspelled one would be ignored without a word. A new
// internal variable must be added here.
var notFlagEnv = []string{supervisor.EnvWorker, service.HandoffEnv}

// newFlagSet returns an empty flag set for parseFlags, for tests.
func newFlagSet() *flag.FlagSet { return flag.NewFlagSet("wsreactor", flag.ContinueOnError) }

// parseFlags reads the command line into a config. The flag names are part
// of the command's interface: scripts and the benchmark harness use them.
func parseFlags(fs *flag.FlagSet, args []string) (config, error) {
	var (
		cfg                   config
		subprotocols, origins string
		proxyFrom             string
	)
	fs.StringVar(&cfg.Addr, "addr", ":8080", "TCP address to listen on")
	fs.IntVar(&cfg.Loops, "loops", runtime.GOMAXPROCS(0), "number of event loops")
	fs.StringVar(&subprotocols, "subprotocols", "chat,superchat", "comma-separated subprotocols the server supports, in no particular order (the client's order of preference wins)")
	fs.StringVar(&origins, "origins", "", "comma-separated allow-list of origins as browsers send them, scheme://host[:port] (https://example.com, http://localhost:8080) or null; empty allows every origin")
	bytesize.Int64Var(fs, &cfg.MaxMessage, "max-message", 64<<20, "largest message, a `size` in bytes or with a unit of 1024 (512KiB, 64MiB, 1GiB; close 1009 past it); 0 means no limit")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", 10*time.Second, "time a client has to complete the opening handshake; 0 means none")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 30*time.Second, "ping a connection silent this long, close it if still silent after another interval; 0 turns it off")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", 5*time.Second, "time to wait for the client's close frame after the server's, before dropping TCP")
	bytesize.IntVar(fs, &cfg.WriteBufferLimit, "write-buffer-limit", 1<<20, "unsent output a connection may have before it is closed with 1008 (a `size`, like -max-message)")
	fs.DurationVar(&cfg.IdleHold, "idle-hold", service.DefaultIdleHold, "how long an event loop out of events waits for more while keeping its P (the Go runtime's right to run code), before it blocks and lets the runtime hand the P to another thread; it holds only while its idle spells are shorter than this; 0 blocks at once (rounded up to 1ms, at most 1s)")
	bytesize.IntVar(fs, &cfg.ReadBuffer, "read-buffer", service.DefaultReadBuffer, "each event loop's read buffer, the most one read takes from a socket (a `size`, rounded up to a power of two, at least 1KiB); one per loop, shared by its connections")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "most open WebSocket connections; past it upgrades get 503 with Retry-After (0 derives it from the open-file limit, -1 means no cap)")
	fs.BoolVar(&cfg.ReusePort, "reuse-port", false, "listen with SO_REUSEPORT, one listening socket per event loop (the kernel spreads connections) instead of one acceptor")
	bytesize.Int64Var(fs, &cfg.MemoryBudget, "memory-budget", service.DefaultMemoryBudget(), "output, echo slack and partial input that clients may make the server hold, over all connections (a `size`); 0 means no budget; the default is a quarter of physical or cgroup memory")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, time to wait for close handshakes before exiting")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a pprof CPU profile of the run to this file (written at exit: stop the server with SIGINT or SIGTERM)")
	fs.BoolVar(&cfg.Demo, "demo", true, `serve the demo page to a plain GET of "/" (without Upgrade); false answers it 426 like any other plain GET`)
	fs.StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:9090", "address of the admin HTTP server (/metrics, /healthz, /readyz, /debug/pprof/); empty turns it off")
	fs.DurationVar(&cfg.CloseSpread, "close-spread", 0, "on SIGINT/SIGTERM, after -drain-delay, close the connections with 1012 (Service Restart) spread evenly over this long instead of with 1001 all at once, so clients reconnect over a window; -shutdown-timeout counts from its end")
	fs.DurationVar(&cfg.UpgradeTimeout, "upgrade-timeout", 30*time.Second, "on SIGUSR2 (binary upgrade), time for the new binary to start and be ready, for it to take each batch of connections, and for connections in a handshake, a close or a compressed message to become movable; past it the upgrade fails (or those few are closed with 1001) and this process keeps serving")
	fs.DurationVar(&cfg.DrainDelay, "drain-delay", 0, "on SIGINT/SIGTERM, keep serving this long with /readyz answering 503 (so a load balancer stops sending clients) before closing")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log line format: text (key=value) or json")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "least severe log level written: debug, info, warn or error")
	fs.BoolVar(&cfg.ProxyProtocol, "proxy-protocol", false, "every connection starts with a PROXY protocol header (v1 or v2) from a load balancer, whose client address becomes the peer's; connections without a valid one are refused")
	fs.StringVar(&proxyFrom, "proxy-from", service.DefaultProxyFrom, "with -proxy-protocol: comma-separated CIDR prefixes or addresses of the balancers allowed to connect; others are refused")
	fs.IntVar(&cfg.Procs, "procs", 1, "worker processes listening on the address with SO_REUSEPORT, supervised by this one; 1 serves in this process")
	fs.BoolVar(&cfg.Deflate, "deflate", false, "negotiate permessage-deflate (RFC 7692) with clients that offer it")
	fs.BoolVar(&cfg.DeflateContextTakeover, "deflate-context-takeover", false, "with -deflate, keep the compression window between messages where the client allows it (measured: about 200 KiB more per idle connection at level 1, 720 KiB at level 9)")
	fs.IntVar(&cfg.DeflateLevel, "deflate-level", 1, "with -deflate, compression level 1 (fastest) to 9 (smallest)")
	bytesize.IntVar(fs, &cfg.DeflateMinSize, "deflate-min-size", 128, "with -deflate, whole messages shorter than this `size` are sent uncompressed (0 compresses all)")
	envflag.CommandLineBool(fs, &cfg.Version, "version", "print the version (module version, VCS revision and time, Go version) and exit")
	// Define every flag above this line: each gets its WSREACTOR_* variable
	// (but -version).
	src, err := envflag.Parse(fs, envPrefix, args, nil)
	if err != nil {
		return cfg, fmt.Errorf("wsreactor: %w", err)
	}
	if cfg.Version {
		return cfg, nil // the other settings do not matter
	}
	fs.Visit(func(f *flag.Flag) { cfg.adminAddrGiven = cfg.adminAddrGiven || f.Name == "admin-addr" }) // command line or environment
	cfg.strayEnv = envflag.Strays(fs, envPrefix, os.Environ(), notFlagEnv...)
	fs.VisitAll(func(f *flag.Flag) { cfg.StartAttrs = append(cfg.StartAttrs, slog.String(f.Name, f.Value.String())) })
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("wsreactor: unexpected arguments %q", fs.Args())
	}
	cfg.Subprotocols = splitList(subprotocols)
	cfg.Origins = splitList(origins)
	for _, o := range cfg.Origins {
		var oe *handshake.OriginError
		if err := handshake.CheckOrigin(o); errors.As(err, &oe) {
			return cfg, fmt.Errorf("wsreactor: %s: %q is not an origin: %s", src.Describe("origins"), oe.Origin, oe.Reason)
		}
	}
	switch {
	case cfg.Loops < 1:
		return cfg, fmt.Errorf("wsreactor: %s: need at least 1", src.Describe("loops"))
	case cfg.WriteBufferLimit < 1:
		return cfg, fmt.Errorf("wsreactor: %s: need at least 1", src.Describe("write-buffer-limit"))
	case cfg.ReadBuffer < 1<<10 || cfg.ReadBuffer > 64<<20:
		return cfg, fmt.Errorf("wsreactor: %s: want 1KiB to 64MiB", src.Describe("read-buffer"))
	case cfg.IdleHold > time.Second:
		return cfg, fmt.Errorf("wsreactor: %s: at most 1s", src.Describe("idle-hold"))
	case cfg.MaxConns < -1:
		return cfg, fmt.Errorf("wsreactor: %s: need -1 (no cap), 0 (from the open-file limit) or a positive count", src.Describe("max-conns"))
	case cfg.DeflateLevel < 1 || cfg.DeflateLevel > 9:
		return cfg, fmt.Errorf("wsreactor: %s: want 1 to 9", src.Describe("deflate-level"))
	}
	for _, name := range []string{"handshake-timeout", "ping-interval", "close-timeout", "shutdown-timeout", "drain-delay", "close-spread", "upgrade-timeout", "idle-hold"} {
		if d := fs.Lookup(name).Value.(flag.Getter).Get().(time.Duration); d < 0 {
			return cfg, fmt.Errorf("wsreactor: %s: must not be negative", src.Describe(name))
		}
	}
	if err := cfg.parseProxyFlags(fs, proxyFrom); err != nil {
		return cfg, err
	}
	if err := checkLogFormat(cfg.LogFormat); err != nil {
		return cfg, fmt.Errorf("wsreactor: %s: %w", src.Describe("log-format"), err)
	}
	if _, err := parseLogLevel(cfg.LogLevel); err != nil {
		return cfg, fmt.Errorf("wsreactor: %s: %w", src.Describe("log-level"), err)
	}
	if err := checkProcs(cfg, src); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// splitList splits a comma-separated flag value, dropping empty items and
// the spaces around each.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseProxyFlags checks -proxy-protocol and -proxy-from (given on the
// command line or in the environment) and fills cfg.ProxyFrom.
func (cfg *config) parseProxyFlags(fs *flag.FlagSet, proxyFrom string) error {
	fromSet := false
	fs.Visit(func(f *flag.Flag) { fromSet = fromSet || f.Name == "proxy-from" })
	if fromSet && !cfg.ProxyProtocol {
		return fmt.Errorf("wsreactor: -proxy-from %q without -proxy-protocol: it names who may send PROXY headers, which only -proxy-protocol reads", proxyFrom)
	}
	if !cfg.ProxyProtocol {
		return nil
	}
	var err error
	cfg.ProxyFrom, err = service.ParseProxyFrom(proxyFrom)
	if err != nil {
		return fmt.Errorf("wsreactor: -proxy-from %q: %w", proxyFrom, err)
	}
	return nil
}

// warnStrayEnv logs a warning for each WSREACTOR_* variable that names no
// flag, with the flag variable it may be a misspelling of.
func warnStrayEnv(logger *slog.Logger, strays []envflag.Stray) {
	for _, s := range strays {
		attrs := []any{"var", s.Name}
		if s.Nearest != "" {
			attrs = append(attrs, "did_you_mean", s.Nearest)
		}
		logger.Warn("environment variable names no flag: ignored", attrs...)
	}
}

// adminUnavailable is service.Config.AdminUnavailable for an -admin-addr
// left at its default: another program, or another wsreactor, may hold
// 127.0.0.1:9090, and the admin server is auxiliary, so the command warns
// and serves WebSockets anyway. An address given explicitly stays fatal.
func adminUnavailable(logger *slog.Logger, addr string) func(error) {
	return func(err error) {
		logger.Warn("admin server not started: its default address is taken; serving WebSockets without /metrics, /healthz and /readyz",
			"admin_addr", addr, "err", err,
			"hint", "-admin-addr 127.0.0.1:0 picks a free port (the start line says which), -admin-addr '' turns the admin server off")
	}
}
