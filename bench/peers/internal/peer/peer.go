// Package peer holds what every Go peer server of the benchmark shares: the
// common command line (-addr, -loops, -max-message) and stopping on a signal.
package peer

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// Config is the command line every Go peer takes.
type Config struct {
	Addr       string // -addr: TCP address to listen on
	Loops      int    // -loops: event loops, and GOMAXPROCS
	MaxMessage int64  // -max-message: largest message in bytes
}

// Parse defines the common flags on flag.CommandLine (after the caller has
// defined its own), parses the command line, checks -loops and sets
// GOMAXPROCS to it. name prefixes error messages.
func Parse(name string) Config {
	var c Config
	flag.StringVar(&c.Addr, "addr", "127.0.0.1:9001", "TCP address to listen on")
	flag.IntVar(&c.Loops, "loops", 1, "event loops (pollers) and GOMAXPROCS")
	flag.Int64Var(&c.MaxMessage, "max-message", 64<<20, "largest message in bytes")
	flag.Parse()
	if c.Loops < 1 {
		fmt.Fprintf(os.Stderr, "%s: -loops %d: need at least 1\n", name, c.Loops)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(c.Loops)
	return c
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
