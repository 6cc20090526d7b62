package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// Options are the runner's settings, one field per flag.
type Options struct {
	Rounds    int
	Duration  time.Duration // measured window of a scenario that sets none
	Warmup    time.Duration // warm-up of a scenario that sets none
	Sources   int           // wsload -sources: client source addresses 127.0.0.1..N
	ServerCPU int           // CPU the server is pinned to; -1 = unpinned
	ClientCPU int           // CPU wsload is pinned to; -1 = unpinned
	Settle    time.Duration // pause after each run, for sockets to drain
}

// Runner runs scenarios against prepared servers.
type Runner struct {
	opt    Options
	bin    string              // temporary directory of binaries and logs
	wsload string              // the built wsload
	argv   map[string][]string // each prepared server's command line
	logf   func(string, ...any)
}

// prepare builds or checks every server and records its command line and
// version. A server that cannot run is marked Skipped, with a note returned
// for the report, or, with requireAll, fails the whole run.
func (r *Runner) prepare(srvs []Server, benchDir string, requireAll bool) (notes []string, err error) {
	for i := range srvs {
		s := &srvs[i]
		argv, err := s.prepare(benchDir, r.bin, r.logf)
		if err != nil {
			if requireAll {
				return nil, fmt.Errorf("compare: %s cannot run: %v", s.Name, err)
			}
			s.Skipped = firstLine(err.Error())
			r.logf("skipping %s: %v", s.Name, err)
			notes = append(notes, fmt.Sprintf("%s skipped: %s", s.Label, s.Skipped))
			continue
		}
		r.argv[s.Name] = argv
		s.Version = version(*s, benchDir)
	}
	return notes, nil
}

// loadArgs is wsload's command line for one run of sc against a server at
// addr with process id pid.
func loadArgs(wsload string, sc Scenario, opt Options, addr string, pid int, raw bool) []string {
	duration, warmup := sc.Duration, sc.Warmup
	if duration == 0 {
		duration = opt.Duration
	}
	if warmup == 0 {
		warmup = opt.Warmup
	}
	args := []string{wsload,
		"-addr", addr, "-path", "/", "-mode", sc.Mode,
		"-conns", strconv.Itoa(sc.Conns), "-size", strconv.Itoa(sc.Size),
		"-inflight", strconv.Itoa(sc.Inflight), "-rate", strconv.FormatFloat(sc.Rate, 'g', -1, 64),
		"-warmup", warmup.String(), "-duration", duration.String(),
		"-sources", strconv.Itoa(opt.Sources), "-server-pid", strconv.Itoa(pid),
		"-loops", "1", "-json",
	}
	if raw {
		args = append(args, "-raw")
	}
	return args
}

// loadTimeout bounds one wsload run: its windows plus time to open (and, for
// slow servers, handshake) every connection.
func loadTimeout(sc Scenario, opt Options) time.Duration {
	d := sc.Duration + sc.Warmup
	if sc.Duration == 0 {
		d += opt.Duration
	}
	if sc.Warmup == 0 {
		d += opt.Warmup
	}
	return d + 90*time.Second + time.Duration(sc.Conns)*5*time.Millisecond
}

// runOnce starts srv, runs sc against it once and stops it.
func (r *Runner) runOnce(sc Scenario, srv Server, round int) (Result, error) {
	addr, err := freeAddr()
	if err != nil {
		return Result{}, err
	}
	serverLog := filepath.Join(r.bin, srv.Name+".log")
	p, err := startServer(srv.Name, r.argv[srv.Name], addr, r.opt.ServerCPU, serverLog)
	if err != nil {
		return Result{}, err
	}
	defer time.Sleep(r.opt.Settle)
	if err := p.waitAccept(addr, 20*time.Second); err != nil {
		_ = p.stop(time.Second)
		return Result{}, err
	}
	argv := pinned(r.opt.ClientCPU, append(loadArgs(r.wsload, sc, r.opt, addr, p.Pid(), srv.Ceiling), srv.clientArgs...))
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout(sc, r.opt))
	out, loadErr := runCmd(ctx, argv, filepath.Join(r.bin, "wsload.log"))
	cancel()
	stopErr := p.stop(5 * time.Second)
	res, parseErr := ParseResult(out)
	switch {
	case stopErr != nil:
		return res, stopErr
	case loadErr != nil && parseErr != nil:
		return Result{}, fmt.Errorf("compare: wsload failed: %v (%v); log %s", loadErr, parseErr, filepath.Join(r.bin, "wsload.log"))
	case parseErr != nil:
		return Result{}, parseErr
	case loadErr != nil && res.Errors == 0 && res.Mismatches == 0:
		return res, fmt.Errorf("compare: wsload failed: %v; log %s", loadErr, filepath.Join(r.bin, "wsload.log"))
	}
	return res, nil
}

// Run runs every scenario against every server that takes part in it, with
// the servers interleaved within each round, and returns the outcomes in
// scenario order, then server order.
func (r *Runner) Run(scenarios []Scenario, servers []Server) []*Outcome {
	var outcomes []*Outcome
	for _, sc := range scenarios {
		var these []*Outcome
		for _, srv := range servers {
			if srv.Skipped == "" && srv.Runs(sc) {
				these = append(these, &Outcome{Scenario: sc.Name, Server: srv.Name})
			}
		}
		for round := 1; round <= r.opt.Rounds; round++ {
			for _, o := range these {
				srv := serverNamed(servers, o.Server)
				start := time.Now()
				res, err := r.runOnce(sc, srv, round)
				if err == nil || res.Mode != "" {
					o.Rounds = append(o.Rounds, res)
				}
				if err != nil {
					o.Failures = append(o.Failures, fmt.Sprintf("round %d: %v", round, err))
				}
				r.logf("%-24s %-11s round %d/%d: %s (%.1fs)", sc.Name, srv.Name, round, r.opt.Rounds,
					summary(sc, res, err), time.Since(start).Seconds())
			}
		}
		for _, o := range these {
			if len(o.Rounds) > 0 {
				m := Median(o.Rounds)
				o.Median = &m
			}
		}
		outcomes = append(outcomes, these...)
	}
	return outcomes
}

// serverNamed finds a server by name.
func serverNamed(servers []Server, name string) Server {
	for _, s := range servers {
		if s.Name == name {
			return s
		}
	}
	panic("compare: no server " + name)
}

// summary is one progress line for a run.
func summary(sc Scenario, r Result, err error) string {
	s := ""
	switch sc.Group {
	case GroupIdle:
		s = fmt.Sprintf("%s B/conn, RSS %s", thousands(r.RSSPerConn), mib(r.ServerRSSKB))
	case GroupConnect:
		s = fmt.Sprintf("%s conns/s", thousands(r.ConnectsPerSec))
	default:
		s = fmt.Sprintf("%s msgs/s %.1f MB/s p50 %s p99 %s p99.9 %s cpu %.0f%%", thousands(r.MsgsPerSec), r.MBPerSec,
			micros(r.P50us), micros(r.P99us), micros(r.P999us), r.ServerCPUPct)
	}
	if r.Errors > 0 || r.Mismatches > 0 {
		s += fmt.Sprintf(" ERRORS %v MISMATCHES %v", r.Errors, r.Mismatches)
	}
	if err != nil {
		s += " FAILED: " + err.Error()
	}
	return s
}
