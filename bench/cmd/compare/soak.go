package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SoakOptions configure -soak: the issue-4 soak of wsreactor.
type SoakOptions struct {
	Conns    int           // connections, each echoing 1 message/s
	Duration time.Duration // measured window (10 minutes for the documented run)
	Interval time.Duration // sampling period of /proc/PID
}

// Sample is one reading of the server process.
type Sample struct {
	At      time.Duration // since the server started
	RSSKB   int64         // VmRSS
	FDs     int           // entries of /proc/PID/fd
	Threads int           // Threads (wsreactor does not expose its goroutine count)
	CPUPct  float64       // CPU use since the previous sample
}

// readSample reads pid's memory, open files, threads and CPU ticks.
func readSample(pid int) (s Sample, ticks int64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, 0, err
	}
	fmt.Sscanf(field(string(status), "VmRSS:"), "%d", &s.RSSKB)
	fmt.Sscanf(field(string(status), "Threads:"), "%d", &s.Threads)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, 0, err
	}
	s.FDs = len(fds)
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, 0, err
	}
	// Fields after the parenthesised command: state is field 3, utime 14, stime 15.
	rest := string(stat)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) > 12 {
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks = u + st
	}
	return s, ticks, nil
}

// clockTicks is USER_HZ, the unit of utime and stime (100 on Linux).
const clockTicks = 100

// RunSoak starts wsreactor, drives it with wsload at 1 msg/s per connection
// for opt.Duration while sampling the process every opt.Interval, and writes
// soak.md and soak.csv into outDir.
func (r *Runner) RunSoak(opt SoakOptions, rep *Report, outDir string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := startServer(Wsreactor, r.argv[Wsreactor], addr, r.opt.ServerCPU, filepath.Join(r.bin, "wsreactor.log"))
	if err != nil {
		return err
	}
	started := time.Now()
	if err := p.waitAccept(addr, 20*time.Second); err != nil {
		_ = p.stop(time.Second)
		return err
	}
	sc := Scenario{Name: "soak", Mode: "echo", Conns: opt.Conns, Size: 64, Inflight: 1, Rate: 1,
		Duration: opt.Duration, Warmup: 10 * time.Second}
	argv := pinned(r.opt.ClientCPU, loadArgs(r.wsload, sc, r.opt, addr, p.Pid(), false))
	type loadDone struct {
		out []byte
		err error
	}
	done := make(chan loadDone, 1)
	loadStart := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), loadTimeout(sc, r.opt))
		defer cancel()
		out, err := runCmd(ctx, argv, filepath.Join(r.bin, "wsload.log"))
		done <- loadDone{out, err}
	}()

	var samples []Sample
	var lastTicks int64
	lastAt := time.Duration(0)
	take := func() {
		s, ticks, err := readSample(p.Pid())
		if err != nil {
			return
		}
		s.At = time.Since(started)
		if len(samples) > 0 && s.At > lastAt {
			s.CPUPct = float64(ticks-lastTicks) / clockTicks / (s.At - lastAt).Seconds() * 100
		}
		lastTicks, lastAt = ticks, s.At
		samples = append(samples, s)
		r.logf("soak %6.0fs: RSS %s, %d open files, %d threads, CPU %.0f%%", s.At.Seconds(), mib(float64(s.RSSKB)), s.FDs, s.Threads, s.CPUPct)
	}
	take()
	tick := time.NewTicker(opt.Interval)
	var ld loadDone
wait:
	for {
		select {
		case <-tick.C:
			take()
		case ld = <-done:
			break wait
		}
	}
	tick.Stop()
	take()
	stopErr := p.stop(5 * time.Second)
	rep.Finished = time.Now()
	res, parseErr := ParseResult(ld.out)

	var csv strings.Builder
	csv.WriteString("seconds,rss_kb,open_files,threads,cpu_pct\n")
	for _, s := range samples {
		fmt.Fprintf(&csv, "%.0f,%d,%d,%d,%.1f\n", s.At.Seconds(), s.RSSKB, s.FDs, s.Threads, s.CPUPct)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, "soak.csv"), []byte(csv.String()), 0o644); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	md := soakMarkdown(rep, opt, samples, res, loadStart.Sub(started))
	if ld.err != nil || parseErr != nil || stopErr != nil {
		md += fmt.Sprintf("\n## Failures\n\n- wsload: %v\n- parse: %v\n- server: %v\n", ld.err, parseErr, stopErr)
	}
	if err := os.WriteFile(filepath.Join(outDir, "soak.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	switch {
	case stopErr != nil:
		return stopErr
	case parseErr != nil:
		return parseErr
	case ld.err != nil:
		return fmt.Errorf("compare: wsload failed: %v", ld.err)
	case res.Errors > 0 || res.Mismatches > 0:
		return fmt.Errorf("compare: wsload counted %v errors and %v mismatches", res.Errors, res.Mismatches)
	}
	return nil
}

// soakMarkdown renders soak.md: the settings, wsload's summary, whether the
// server stayed flat from minute 1 on, and every sample.
func soakMarkdown(rep *Report, opt SoakOptions, samples []Sample, res Result, loadAt time.Duration) string {
	var b strings.Builder
	b.WriteString("# wsreactor soak\n\n")
	b.WriteString("Written by `bench/cmd/compare -soak`; do not edit by hand.\n\n")
	rep.writeMachine(&b)
	for _, srv := range rep.Servers {
		fmt.Fprintf(&b, "- Server: %s %s, %s\n", srv.Label, srv.Version, srv.Config)
	}
	fmt.Fprintf(&b, "\n%s connections, each echoing one 64 B message per second for %s (after a 10 s warm-up), against wsreactor; "+
		"wsload started %.0f s after the server. Every %s the runner read the server's VmRSS and Threads from /proc/PID/status "+
		"and counted /proc/PID/fd (wsreactor does not expose its goroutine count, so threads stand in for it).\n\n",
		thousands(float64(opt.Conns)), opt.Duration, loadAt.Seconds(), opt.Interval)
	fmt.Fprintf(&b, "wsload: %s msgs/s, p50 %s, p99 %s, p99.9 %s, max %s, %v errors, %v mismatches; server CPU %.0f%%.\n\n",
		thousands(res.MsgsPerSec), micros(res.P50us), micros(res.P99us), micros(res.P999us), micros(res.MaxUs),
		res.Errors, res.Mismatches, res.ServerCPUPct)
	if first, last, ok := soakSpan(samples, loadAt+70*time.Second); ok {
		fmt.Fprintf(&b, "From %.0f s (a minute into the load) to %.0f s: RSS %s → %s (%+.1f%%), open files %d → %d, threads %d → %d.\n\n",
			first.At.Seconds(), last.At.Seconds(), mib(float64(first.RSSKB)), mib(float64(last.RSSKB)),
			100*float64(last.RSSKB-first.RSSKB)/float64(first.RSSKB), first.FDs, last.FDs, first.Threads, last.Threads)
	}
	b.WriteString("| seconds | RSS | open files | threads | CPU |\n|--:|--:|--:|--:|--:|\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "| %.0f | %s | %s | %d | %.0f%% |\n", s.At.Seconds(), mib(float64(s.RSSKB)), thousands(float64(s.FDs)), s.Threads, s.CPUPct)
	}
	return b.String()
}

// soakSpan returns the first sample at or after from and the last sample
// taken while the load still ran (the one before the final, post-load one).
func soakSpan(samples []Sample, from time.Duration) (first, last Sample, ok bool) {
	if len(samples) < 3 {
		return first, last, false
	}
	last = samples[len(samples)-2]
	for _, s := range samples {
		if s.At >= from && s.At < last.At {
			return s, last, true
		}
	}
	return first, last, false
}
