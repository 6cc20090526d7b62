// Package peer holds what every Go peer server of the benchmark shares: the
// common command line (-addr, -loops, -max-message) and stopping on a signal.
package peer

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Config is the command line every Go peer takes.
type Config struct {
	Addr       string // -addr: TCP address to listen on
	Loops      int    // -loops: event loops, and GOMAXPROCS
	MaxMessage int64  // -max-message: largest message in bytes
	ReusePort  bool   // -reuseport: listen with SO_REUSEPORT, so several processes share the port
}

// Parse defines the common flags on flag.CommandLine (after the caller has
// defined its own), parses the command line, checks -loops and sets
// GOMAXPROCS to it. name prefixes error messages.
func Parse(name string) Config {
	var c Config
	flag.StringVar(&c.Addr, "addr", "127.0.0.1:9001", "TCP address to listen on")
	flag.IntVar(&c.Loops, "loops", 1, "event loops (pollers) and GOMAXPROCS")
	flag.Int64Var(&c.MaxMessage, "max-message", 64<<20, "largest message in bytes")
	flag.BoolVar(&c.ReusePort, "reuseport", false, "listen with SO_REUSEPORT (several processes on one port)")
	flag.Parse()
	if c.Loops < 1 {
		fmt.Fprintf(os.Stderr, "%s: -loops %d: need at least 1\n", name, c.Loops)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(c.Loops)
	return c
}

// Listen is net.Listen, with SO_REUSEPORT set before bind when reusePort.
func Listen(network, addr string, reusePort bool) (net.Listener, error) {
	var lc net.ListenConfig
	if reusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	return lc.Listen(context.Background(), network, addr)
}

// OnSignal runs stop on its own goroutine when SIGINT or SIGTERM arrives.
func OnSignal(stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		stop()
	}()
}

// Fail prints an error prefixed with name and exits with status 2, for a bad
// flag value.
func Fail(name, format string, args ...any) {
	fmt.Fprintf(os.Stderr, name+": "+format+"\n", args...)
	os.Exit(2)
}
