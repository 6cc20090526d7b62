// Command compare runs wsreactor's benchmark comparison: it builds the load
// generator (bench/cmd/wsload), wsreactor (from the parent module) and the
// Go peer servers into a temporary directory, then runs every scenario
// against every server, one server at a time, for several rounds: the
// server pinned to one CPU with one event loop, wsload pinned to the other.
// It writes the medians as a Markdown table, the raw rounds as JSON and the
// charts into bench/results, and fills the results section of
// bench/README.md.
//
//	go run ./cmd/compare                      # the full comparison (about 40 minutes)
//	go run ./cmd/compare -quick               # a few seconds: wsreactor and the TCP ceiling, for CI
//	go run ./cmd/compare -soak                # issue 4's soak: 15,000 conns at 1 msg/s for 10 minutes
//	go run ./cmd/compare -scenarios c200k     # issue 8: 200,000 conns over -procs workers, 1 msg/10 s each
//	go run ./cmd/compare -scenarios deflate   # issue 10: permessage-deflate on, JSON-like text (about 17 minutes)
//	go run ./cmd/compare -servers wsreactor,nbio -scenarios echo -rounds 1 -out /tmp/r
//
// Run it from the bench directory (or give -bench-dir). A peer that cannot
// run here (Python modules or Node missing) is skipped with a note, unless
// -require-all. The exit status is non-zero when a server failed, wsload
// counted errors or mismatches, or (with -quick or -require-all) a server
// was skipped.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is the whole command; it returns the exit status.
func run(args []string) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var (
		quick      = fs.Bool("quick", false, "a few seconds: wsreactor and the TCP ceiling, two short scenarios, one round, results in a temporary directory")
		soak       = fs.Bool("soak", false, "run the soak against wsreactor instead of the comparison; writes soak.md and soak.csv")
		outDir     = fs.String("out", "", "directory for the results (default: bench/results; with -quick a new temporary directory)")
		rounds     = fs.Int("rounds", 3, "rounds per scenario and server; the tables show medians")
		duration   = fs.Duration("duration", 5*time.Second, "measured window of each run (scenarios may set their own)")
		warmup     = fs.Duration("warmup", time.Second, "warm-up before each measured window (scenarios may set their own)")
		servers    = fs.String("servers", "all", "comma-separated servers: "+strings.Join(serverNames(), ","))
		scenarios  = fs.String("scenarios", "all", "comma-separated scenario names or groups ("+strings.Join(groupOrder, ",")+"), or all")
		requireAll = fs.Bool("require-all", false, "fail instead of skipping a server that cannot run here")
		sources    = fs.Int("sources", 8, "wsload -sources: client addresses 127.0.0.1..N")
		serverCPU  = fs.Int("server-cpu", 0, "CPU to pin the server to (-1: no pinning)")
		clientCPU  = fs.Int("client-cpu", 1, "CPU to pin wsload to (-1: no pinning)")
		benchDir   = fs.String("bench-dir", "", "the bench module's directory (default: found from the working directory)")
		keep       = fs.Bool("keep", false, "keep the temporary directory of binaries and logs")
		wsloadBin  = fs.String("wsload", "", "use this wsload binary instead of building ./cmd/wsload")
		replot     = fs.String("replot", "", "only redraw results.md and the charts (and the section of docs/benchmarks.md) from DIR/results.json")
		chartExt   = fs.String("chart", "svg", "chart format: svg or png")
		readme     = fs.Bool("readme", true, "fill the results sections of docs/benchmarks.md (only when writing to bench/results)")
		soakConns  = fs.Int("soak-conns", 15000, "-soak: connections")
		soakDur    = fs.Duration("soak-duration", 10*time.Minute, "-soak: measured window")
		soakEvery  = fs.Duration("soak-interval", 10*time.Second, "-soak: sampling period")
		c200k      = C200kOptions{}
		c1m        = C1mOptions{}
		srvEnv     = fs.String("server-env", "", "comma-separated NAME=VALUE pairs added to every server's environment, not wsload's (e.g. GODEBUG=gctrace=1,GOGC=100)")
	)
	fs.IntVar(&c1m.Conns, "c1m-conns", 1000000, "-scenarios c1m: connections in all")
	fs.IntVar(&c1m.Procs, "c1m-procs", 0, "-scenarios c1m: server processes (0: one per 17,500 connections, under the open-file limit of 20,000)")
	fs.IntVar(&c1m.Clients, "c1m-clients", 0, "-scenarios c1m: idle wsload processes (0: one per 18,200 connections)")
	fs.IntVar(&c1m.Sources, "c1m-sources", 250, "-scenarios c1m: client source addresses 127.0.0.1..N")
	fs.Float64Var(&c1m.Active, "c1m-active", 0.01, "-scenarios c1m: share of the connections that send")
	fs.Float64Var(&c1m.Rate, "c1m-rate", 1, "-scenarios c1m: messages per second per sending connection")
	fs.DurationVar(&c1m.Storm, "c1m-storm", 120*time.Second, "-scenarios c1m: time the storm may take; the traffic is measured 10 s after it")
	fs.DurationVar(&c1m.Hold, "c1m-hold", 60*time.Second, "-scenarios c1m: measured window of the traffic")
	fs.IntVar(&c1m.MaxPending, "c1m-pending", 256, "-scenarios c1m: connects and handshakes in flight per wsload (its -max-pending)")
	fs.IntVar(&c200k.Conns, "c200k-conns", 200000, "-scenarios c200k: connections in all")
	fs.IntVar(&c200k.Procs, "c200k-procs", 12, "-scenarios c200k: server processes (the open-file limit is 20,000 per process)")
	fs.IntVar(&c200k.Clients, "c200k-clients", 12, "-scenarios c200k: wsload processes")
	fs.IntVar(&c200k.Sources, "c200k-sources", 16, "-scenarios c200k: client source addresses 127.0.0.1..N (about 28,000 ports each)")
	fs.Float64Var(&c200k.Rate, "c200k-rate", 0.1, "-scenarios c200k: messages per second per connection")
	fs.DurationVar(&c200k.Warmup, "c200k-warmup", 45*time.Second, "-scenarios c200k: from the wsloads' start to their common measured window (longer than connecting takes)")
	fs.DurationVar(&c200k.Hold, "c200k-hold", 60*time.Second, "-scenarios c200k: measured window")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, kv := range splitList(*srvEnv) {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			fmt.Fprintf(os.Stderr, "compare: -server-env %q: want NAME=VALUE pairs separated by commas\n", *srvEnv)
			return 2
		}
		serverEnv = append(serverEnv, kv)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "compare: "+format+"\n", a...)
	}

	dir, err := findBenchDir(*benchDir)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if *chartExt != "svg" && *chartExt != "png" {
		logf("-chart %q: use svg or png", *chartExt)
		return 2
	}
	chartFormat = *chartExt
	if *replot != "" {
		return replotDir(*replot, filepath.Join(dir, "results"), *readme, logf)
	}
	allScenarios, allServers := AllScenarios(), AllServers()
	isDeflate := isDeflateSpec(*scenarios)
	if isDeflate {
		allScenarios, allServers = DeflateScenarios(), DeflateServers()
	}
	if *quick {
		allScenarios = QuickScenarios()
		if !set["rounds"] {
			*rounds = 1
		}
		if !set["servers"] {
			*servers = strings.Join(QuickServers, ",")
		}
		*requireAll = true
	}
	if *soak {
		*servers = Wsreactor
		*requireAll = true
	}
	isC200k := *scenarios == "c200k"
	if isC200k {
		if !set["servers"] {
			*servers = strings.Join(c200kServers, ",")
		}
		if c200k.Conns < 1 || c200k.Procs < 1 || c200k.Clients < 1 || c200k.Sources < 1 || c200k.Rate <= 0 {
			logf("-c200k-*: connections, processes, clients and sources need at least 1, the rate more than 0")
			return 2
		}
		*scenarios = "all" // unused below
	}
	isC1m := *scenarios == "c1m"
	if isC1m {
		if !set["servers"] {
			*servers = strings.Join(c1mServers, ",")
		}
		if err := c1m.resolve(); err != nil {
			logf("%v", err)
			return 2
		}
		*scenarios = "all" // unused below
	}
	scs, err := SelectScenarios(allScenarios, *scenarios)
	if isDeflate {
		scs, err = selectDeflate(*scenarios)
	}
	if err != nil {
		logf("%v", err)
		return 2
	}
	srvs, err := SelectServers(allServers, *servers)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if *rounds < 1 {
		logf("-rounds %d: need at least 1", *rounds)
		return 2
	}

	notes := pinning(serverCPU, clientCPU)
	if note := raiseOpenFiles(); note != "" {
		notes = append(notes, note)
	}

	bin, err := os.MkdirTemp("", "wsbench-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	failed := false
	defer func() {
		if *keep || failed {
			logf("binaries and logs kept in %s", bin)
			return
		}
		os.RemoveAll(bin)
	}()

	logf("building wsload and the servers in %s", bin)
	r := &Runner{
		opt: Options{Rounds: *rounds, Duration: *duration, Warmup: *warmup, Sources: *sources,
			ServerCPU: *serverCPU, ClientCPU: *clientCPU, Settle: 500 * time.Millisecond},
		bin: bin, wsload: filepath.Join(bin, "wsload"), argv: map[string][]string{}, logf: logf,
	}
	if *quick {
		r.opt.Settle = 100 * time.Millisecond
	}
	if *wsloadBin != "" {
		if r.wsload, err = filepath.Abs(*wsloadBin); err != nil {
			logf("%v", err)
			return 2
		}
	} else if err := goBuild(dir, r.wsload, "./cmd/wsload"); err != nil {
		logf("%v", err)
		failed = true
		return 1
	}
	skipped, err := r.prepare(srvs, dir, *requireAll)
	if err != nil {
		logf("%v", err)
		failed = true
		return 1
	}
	notes = append(notes, skipped...)

	rep := &Report{
		Command: "go run ./cmd/compare " + strings.Join(args, " "),
		Started: time.Now(), Machine: DescribeMachine(),
		Settings: Settings{Rounds: *rounds, Duration: duration.String(), Warmup: warmup.String(), Sources: *sources,
			ServerCPU: *serverCPU, ClientCPU: *clientCPU, Quick: *quick},
		Servers: srvs, Scenarios: scs, Notes: notes,
	}
	resultsDir := filepath.Join(dir, "results")
	out := *outDir
	switch {
	case out != "":
	case *quick:
		if out, err = os.MkdirTemp("", "wsbench-results-"); err != nil {
			logf("%v", err)
			return 1
		}
	default:
		out = resultsDir
	}

	if isC200k {
		rep.Command = "go run ./cmd/compare " + strings.Join(args, " ")
		rows, err := r.RunC200k(c200k, InSpecOrder(srvs, *servers), rep, out)
		logf("c200k written to %s", filepath.Join(out, "c200k.md"))
		if *readme && sameDir(out, resultsDir) {
			if ferr := fillC200kReadme(benchmarksPage(dir), rep, c200k, rows, srvs); ferr != nil {
				logf("%v", ferr)
			}
		}
		if err != nil {
			logf("%v", err)
			failed = true
			return 1
		}
		return 0
	}
	if isC1m {
		_, err := r.RunC1m(c1m, InSpecOrder(srvs, *servers), rep, out)
		logf("c1m written to %s", filepath.Join(out, "c1m.md"))
		if err != nil {
			logf("%v", err)
			failed = true
			return 1
		}
		return 0
	}
	if *soak {
		err := r.RunSoak(SoakOptions{Conns: *soakConns, Duration: *soakDur, Interval: *soakEvery}, rep, out)
		logf("soak written to %s", filepath.Join(out, "soak.md"))
		if err != nil {
			logf("%v", err)
			failed = true
			return 1
		}
		return 0
	}

	if isDeflate {
		err := r.RunDeflate(scs, srvs, rep, out, dir, *readme && sameDir(out, resultsDir))
		logf("deflate results written to %s", filepath.Join(out, "deflate.md"))
		if err != nil {
			logf("%v", err)
			failed = true
			return 1
		}
		return 0
	}
	rep.Outcomes = r.Run(scs, srvs)
	rep.Finished = time.Now()
	if err := rep.WriteFiles(out); err != nil {
		logf("%v", err)
		failed = true
		return 1
	}
	logf("results written to %s", filepath.Join(out, "results.md"))
	if *readme && !*quick && sameDir(out, resultsDir) {
		if err := fillReadmes(dir, rep); err != nil {
			logf("%v", err)
		}
	}
	for _, o := range rep.Outcomes {
		if o.Failed() {
			failed = true
		}
	}
	if failed {
		logf("FAILED: see the failures in %s", filepath.Join(out, "results.md"))
		return 1
	}
	return 0
}

// replotDir redraws results.md and the charts of dir from its results.json,
// and the results section of docs/benchmarks.md when dir is bench/results.
func replotDir(dir, resultsDir string, readme bool, logf func(string, ...any)) int {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		logf("%v", err)
		return 1
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		logf("%s: %v", filepath.Join(dir, "results.json"), err)
		return 1
	}
	if err := rep.WriteFiles(dir); err != nil {
		logf("%v", err)
		return 1
	}
	if readme && sameDir(dir, resultsDir) {
		if err := fillReadmes(filepath.Dir(resultsDir), &rep); err != nil {
			logf("%v", err)
			return 1
		}
	}
	logf("redrew %s", dir)
	return 0
}

// serverNames lists the names -servers takes.
func serverNames() []string {
	var names []string
	for _, s := range AllServers() {
		names = append(names, s.Name)
	}
	return names
}

// findBenchDir returns dir if given, else the nearest directory at or above
// the working directory whose go.mod declares the bench module.
func findBenchDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("compare: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, cand := range []string{d, filepath.Join(d, "bench")} {
			if b, err := os.ReadFile(filepath.Join(cand, "go.mod")); err == nil &&
				strings.Contains(string(b), "module github.com/wsreactor/wsreactor/bench\n") {
				return cand, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("compare: no bench module at or above %q; give -bench-dir", wd)
		}
	}
}

// benchmarksPage is the page whose marked sections the runs fill: the
// repository's docs/benchmarks.md (bench/README.md keeps the harness).
func benchmarksPage(benchDir string) string {
	return filepath.Join(filepath.Dir(benchDir), "docs", "benchmarks.md")
}

// fillReadmes fills the results section of docs/benchmarks.md (charts
// linked from there as ../bench/results/...).
func fillReadmes(benchDir string, rep *Report) error {
	return FillReadme(benchmarksPage(benchDir), rep, "../bench/results/")
}

// pinning checks that the CPUs can be pinned: without taskset nothing is,
// and with one CPU wsload is not. It returns notes for the report.
func pinning(serverCPU, clientCPU *int) []string {
	if _, err := exec.LookPath("taskset"); err != nil {
		*serverCPU, *clientCPU = -1, -1
		return []string{"taskset not found (apt-get install util-linux): nothing was pinned"}
	}
	if runtime.NumCPU() < 2 && *clientCPU >= 0 {
		*clientCPU = -1
		return []string{"one CPU only: wsload was not pinned and shared it with the server"}
	}
	return nil
}

// raiseOpenFiles lifts this process's open-file limit to its hard limit, so
// that wsload (which inherits it) can hold 15,000 connections; it returns a
// note when the limit stays low.
func raiseOpenFiles() string {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return ""
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Max < 16000 {
		return fmt.Sprintf("open-file limit is %d: scenarios with 10,000+ connections may fail", lim.Max)
	}
	return ""
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// firstLine is the first line of s.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
