package main

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// config is the command's configuration, one field per flag.
type config struct {
	Addr             string
	Loops            int
	Subprotocols     []string
	Origins          []string
	MaxMessage       int64
	HandshakeTimeout time.Duration
	PingInterval     time.Duration
	CloseTimeout     time.Duration
	WriteBufferLimit int
	MaxConns         int  // 0: derive from the open-file limit (fdlimit.go); -1: no cap
	ReusePort        bool // SO_REUSEPORT: a listener per event loop
	ShutdownTimeout  time.Duration
	CPUProfile       string // file for a pprof CPU profile of the whole run; "" none
}

// newFlagSet returns an empty flag set for parseFlags, for tests.
func newFlagSet() *flag.FlagSet { return flag.NewFlagSet("wsreactor", flag.ContinueOnError) }

// parseFlags reads the command line into a config. The flag names are part
// of the command's interface: scripts and the benchmark harness use them.
func parseFlags(fs *flag.FlagSet, args []string) (config, error) {
	var (
		cfg                   config
		subprotocols, origins string
	)
	fs.StringVar(&cfg.Addr, "addr", ":8080", "TCP address to listen on")
	fs.IntVar(&cfg.Loops, "loops", runtime.NumCPU(), "number of event loops")
	fs.StringVar(&subprotocols, "subprotocols", "chat,superchat", "comma-separated subprotocols the server supports, in no particular order (the client's order of preference wins)")
	fs.StringVar(&origins, "origins", "", "comma-separated allow-list of Origin values; empty allows every origin")
	fs.Int64Var(&cfg.MaxMessage, "max-message", 64<<20, "largest message in bytes (close 1009 past it); 0 means no limit")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", 10*time.Second, "time a client has to complete the opening handshake; 0 means none")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 30*time.Second, "ping a connection silent this long, close it if still silent after another interval; 0 turns it off")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", 5*time.Second, "time to wait for the client's close frame after the server's, before dropping TCP")
	fs.IntVar(&cfg.WriteBufferLimit, "write-buffer-limit", 1<<20, "bytes of unsent output a connection may have before it is closed with 1008")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "most open WebSocket connections; past it upgrades get 503 with Retry-After (0 derives it from the open-file limit, -1 means no cap)")
	fs.BoolVar(&cfg.ReusePort, "reuse-port", false, "listen with SO_REUSEPORT, one listening socket per event loop (the kernel spreads connections) instead of one acceptor")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, time to wait for close handshakes before exiting")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a pprof CPU profile of the run to this file (written at exit: stop the server with SIGINT or SIGTERM)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("wsreactor: unexpected arguments %q", fs.Args())
	}
	cfg.Subprotocols = splitList(subprotocols)
	cfg.Origins = splitList(origins)
	switch {
	case cfg.Loops < 1:
		return cfg, fmt.Errorf("wsreactor: -loops %d: need at least 1", cfg.Loops)
	case cfg.MaxMessage < 0:
		return cfg, fmt.Errorf("wsreactor: -max-message %d: must not be negative", cfg.MaxMessage)
	case cfg.WriteBufferLimit < 1:
		return cfg, fmt.Errorf("wsreactor: -write-buffer-limit %d: need at least 1", cfg.WriteBufferLimit)
	case cfg.MaxConns < -1:
		return cfg, fmt.Errorf("wsreactor: -max-conns %d: need -1 (no cap), 0 (from the open-file limit) or a positive count", cfg.MaxConns)
	case cfg.HandshakeTimeout < 0, cfg.PingInterval < 0, cfg.CloseTimeout < 0, cfg.ShutdownTimeout < 0:
		return cfg, fmt.Errorf("wsreactor: durations must not be negative")
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
