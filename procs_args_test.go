package main

import (
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/service"
)

// TestShareAddsUp: the per-worker shares of a limit differ by at most one
// and add up to the limit.
func TestShareAddsUp(t *testing.T) {
	for _, tc := range []struct{ total, n int }{{10, 3}, {3, 3}, {200000, 12}, {7, 1}, {100, 7}} {
		sum, lo, hi := 0, tc.total, 0
		for i := 0; i < tc.n; i++ {
			s := share(tc.total, tc.n, i)
			sum += s
			lo, hi = min(lo, s), max(hi, s)
		}
		if sum != tc.total || hi-lo > 1 || lo < 1 {
			t.Errorf("share(%d, %d, ·): sum %d, min %d, max %d; want sum %d, shares within 1, none 0", tc.total, tc.n, sum, lo, hi, tc.total)
		}
	}
}

// TestWorkerArgs: a worker's command line, read back by parseFlags, is the
// parent's configuration with the resolved address, one process, its share
// of -max-conns and its own profile file.
func TestWorkerArgs(t *testing.T) {
	args := []string{"-addr", "127.0.0.1:0", "-procs", "3", "-loops", "1", "-max-conns", "10", "-origins", "https://a.example,null", "-cpuprofile", "cpu.pprof", "-admin-addr", "127.0.0.1:9090"}
	parent, err := parseFlags(newFlagSet(), args)
	if err != nil {
		t.Fatal(err)
	}
	parent.workerAdminDir = "/tmp/admin-dir" // as runProcs sets it when -admin-addr is not empty
	for i, wantConns := range []int{4, 3, 3} {
		wa := workerArgs(args, parent, "127.0.0.1:4321", i)
		w, err := parseFlags(newFlagSet(), wa)
		if err != nil {
			t.Fatalf("worker %d args %q: %v", i, wa, err)
		}
		if w.Addr != "127.0.0.1:4321" || w.Procs != 1 || w.MaxConns != wantConns || w.Loops != 1 ||
			strings.Join(w.Origins, ",") != "https://a.example,null" || w.CPUProfile != "cpu.pprof.worker"+string(rune('0'+i)) ||
			w.AdminAddr != "unix:/tmp/admin-dir/worker"+string(rune('0'+i))+".sock" {
			t.Errorf("worker %d: args %q gave %+v", i, wa, w)
		}
	}
	if len(args) != 14 || args[1] != "127.0.0.1:0" {
		t.Errorf("workerArgs changed the parent's args: %q", args)
	}
}

// TestWorkerMemoryBudget: the memory budget bounds the whole server, so
// each worker gets its share of it, the default included.
func TestWorkerMemoryBudget(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []int64
	}{
		{[]string{"-procs", "3", "-memory-budget", "1000"}, []int64{334, 333, 333}},
		{[]string{"-procs", "2"}, []int64{service.DefaultMemoryBudget() - service.DefaultMemoryBudget()/2, service.DefaultMemoryBudget() / 2}},
		{[]string{"-procs", "2", "-memory-budget", "0"}, []int64{0, 0}},
	} {
		parent, err := parseFlags(newFlagSet(), tc.args)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range tc.want {
			w, err := parseFlags(newFlagSet(), workerArgs(tc.args, parent, "127.0.0.1:4321", i))
			if err != nil || w.MemoryBudget != want {
				t.Errorf("%q: worker %d has -memory-budget %d, %v; want %d", tc.args, i, w.MemoryBudget, err, want)
			}
		}
	}
}

// TestProcsFlagLimits: -procs is 1 to 256, and a -max-conns to split needs
// one connection per worker.
func TestProcsFlagLimits(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-procs", "1"}, true},
		{[]string{"-procs", "256"}, true},
		{[]string{"-procs", "0"}, false},
		{[]string{"-procs", "257"}, false},
		{[]string{"-procs", "4", "-max-conns", "4"}, true},
		{[]string{"-procs", "4", "-max-conns", "3"}, false},
		{[]string{"-procs", "4", "-max-conns", "0"}, true},
	} {
		_, err := parseFlags(newFlagSet(), tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("parseFlags(%q) = %v; want ok=%v", tc.args, err, tc.ok)
		}
	}
}
