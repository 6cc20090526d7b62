package main

import (
	"os"
	"runtime"
)

// A -procs worker runs with GOMAXPROCS = its -loops (at most the CPU
// count), as the peers in bench/ do, unless GOMAXPROCS is set in the
// environment. With N workers on C cores and the default GOMAXPROCS = C,
// each worker's garbage collector must stop C threads at every
// stop-the-world phase, and on an oversubscribed machine it waits for the
// OS to schedule each of them: measured with GODEBUG=gctrace=1 over 12
// workers on 2 cores, stop-the-world phases of up to 41-88 ms (9-11 of them
// over 5 ms per minute) at GOMAXPROCS 2, none over 3.7 ms at GOMAXPROCS 1
// (README, "200,000 connections"). The event loops are the only goroutines
// that need a core of their own; the timer driver, the budget check and the
// admin server share them.

// workerMaxProcs is the GOMAXPROCS a worker with loops event loops takes on
// a machine of ncpu CPUs, or 0 to leave the runtime's choice: when env (the
// GOMAXPROCS environment variable) is set, or loops is 0 (the reactor's
// default, one loop per CPU).
func workerMaxProcs(loops, ncpu int, env string) int {
	if env != "" || loops <= 0 {
		return 0
	}
	return max(1, min(loops, ncpu))
}

// setWorkerMaxProcs applies workerMaxProcs to this process (a worker, at
// start, before the reactor runs).
func setWorkerMaxProcs(loops int) {
	if n := workerMaxProcs(loops, runtime.NumCPU(), os.Getenv("GOMAXPROCS")); n > 0 {
		runtime.GOMAXPROCS(n)
	}
}
