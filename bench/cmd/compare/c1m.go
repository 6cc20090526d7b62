package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The c1m scenario (issue 18): a million connections on this machine, made
// from zero at once (a reconnect storm), then held while 1% of them send a
// 64 B message every second. Like c200k, the server runs as several
// processes on one port (SO_REUSEPORT), as no process may hold more than
// 20,000 descriptors here, and the clients are many wsload processes (event
// driven: one epoll loop each, IP_BIND_ADDRESS_NO_PORT, no keep-alive) over
// many loopback source addresses. Every second of the storm the runner reads
// the kernel's counters (connections established, accept-queue overflows,
// loopback drops, CPU by kind) and the CPU of the server and load processes,
// so the report can say what saturated first.

// C1mOptions configure -scenarios c1m.
type C1mOptions struct {
	Conns      int           `json:"conns"`       // connections in all, active ones included
	Procs      int           `json:"procs"`       // server processes (0: Conns / 17,500 rounded up)
	Clients    int           `json:"clients"`     // idle wsload processes (0: Conns / 18,200 rounded up)
	Sources    int           `json:"sources"`     // client source addresses 127.0.0.1..N
	Active     float64       `json:"active"`      // share of the connections that send
	Rate       float64       `json:"rate"`        // messages per second per sending connection
	Storm      time.Duration `json:"storm"`       // the time the storm may take; the traffic is measured after it
	Hold       time.Duration `json:"hold"`        // measured window of the traffic
	MaxPending int           `json:"max_pending"` // connects and handshakes in flight per wsload
}

// resolve fills the automatic counts.
func (o *C1mOptions) resolve() error {
	if o.Conns < 100 || o.Sources < 1 || o.Active <= 0 || o.Active > 1 || o.Rate <= 0 || o.Storm <= 0 || o.Hold <= 0 || o.MaxPending < 1 {
		return fmt.Errorf("compare: -c1m-*: at least 100 connections, 1 source and 1 pending connect, an active share in (0, 1], a rate, storm and hold above 0")
	}
	if o.Procs == 0 {
		o.Procs = (o.Conns + c1mPerProc - 1) / c1mPerProc
	}
	if o.Clients == 0 {
		o.Clients = (o.idle() + c1mPerClient - 1) / c1mPerClient
	}
	if o.Procs < 1 || o.Clients < 1 {
		return fmt.Errorf("compare: -c1m-procs %d, -c1m-clients %d: want at least 1", o.Procs, o.Clients)
	}
	return nil
}

// Per-process shares that keep every process under the open-file limit of
// 20,000 with room for the kernel hash's unevenness (±2% at these counts).
const (
	c1mPerProc   = 17500
	c1mPerClient = 18200
)

func (o C1mOptions) active() int { return int(math.Round(float64(o.Conns) * o.Active)) }
func (o C1mOptions) idle() int   { return o.Conns - o.active() }

// activeClients is how many echo wsloads hold the sending connections.
func (o C1mOptions) activeClients() int { return (o.active() + c1mPerClient - 1) / c1mPerClient }

// c1mServers are the servers of the scenario: those that run as several
// processes on one port (as in c200k).
var c1mServers = []string{Wsreactor, GobwasGnet, Nbio, UWS}

// C1mSample is one second of the storm and hold.
type C1mSample struct {
	T            float64 `json:"t"`             // seconds since the loads started
	Established  int64   `json:"established"`   // server-side TCP connections: /proc/net/snmp CurrEstab growth / 2
	Accepted     int64   `json:"accepted"`      // PassiveOpens since the start (TCP handshakes completed to the server)
	PerSec       float64 `json:"per_sec"`       // Accepted growth over the last sample
	ServerCPU    float64 `json:"server_cpu"`    // server processes' CPU, in cores
	LoadCPU      float64 `json:"load_cpu"`      // wsload processes' CPU, in cores
	SoftirqCPU   float64 `json:"softirq_cpu"`   // the machine's softirq time, in cores
	IdleCPU      float64 `json:"idle_cpu"`      // the machine's idle time, in cores
	ListenOvf    int64   `json:"listen_ovf"`    // TcpExt ListenOverflows since the start
	ListenDrops  int64   `json:"listen_drops"`  // TcpExt ListenDrops since the start
	SoftnetDrops int64   `json:"softnet_drops"` // /proc/net/softnet_stat column 2 since the start
}

// C1mRow is one server's outcome.
type C1mRow struct {
	Server      string         `json:"server"`
	Label       string         `json:"label"`
	Procs       int            `json:"procs"`
	Connected   int            `json:"connected"`     // server-side sockets in the hold, summed over processes
	StormS      float64        `json:"storm_s"`       // from the loads' start to all connections held by the servers
	ConnsPerSec float64        `json:"conns_per_sec"` // Conns / StormS
	PeakPerSec  float64        `json:"peak_per_sec"`  // the best one-second TCP accept rate
	Opened      int64          `json:"opened"`        // handshakes completed, summed over wsloads
	Retries     int64          `json:"retries"`       // connects or handshakes retried after a refusal, reset or timeout
	Errors      int64          `json:"errors"`        // connections that failed (any phase)
	Mismatches  int64          `json:"mismatches"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	MsgsPerSec  float64        `json:"msgs_per_sec"`
	P50us       float64        `json:"p50_us"`
	P99us       float64        `json:"p99_us"`
	P999us      float64        `json:"p999_us"`
	MaxUs       float64        `json:"max_us"`
	RSSBeforeKB int64          `json:"rss_before_kb"`
	RSSAfterKB  int64          `json:"rss_after_kb"`
	RSSPerConn  float64        `json:"rss_per_conn_b"`
	SlabPerConn float64        `json:"slab_per_conn_b"`
	SlabPeakKB  int64          `json:"slab_peak_kb"`
	MemAvailKB  int64          `json:"mem_available_kb"` // /proc/meminfo MemAvailable in the hold
	HoldCPU     float64        `json:"hold_cpu_pct"`     // server processes over the hold, share of one core
	PerProcess  []int          `json:"per_process"`
	// The kernel's counters over the whole run (storm, hold, close).
	SoftnetBefore int64 `json:"softnet_drops_before"` // /proc/net/softnet_stat column 2, summed over CPUs
	SoftnetAfter  int64 `json:"softnet_drops_after"`
	ListenOvf     int64 `json:"listen_overflows"`
	ListenDrops   int64 `json:"listen_drops"`
	// During the storm.
	StormServerCPU float64     `json:"storm_server_cpu"` // mean cores
	StormLoadCPU   float64     `json:"storm_load_cpu"`
	StormSoftirq   float64     `json:"storm_softirq_cpu"`
	StormIdle      float64     `json:"storm_idle_cpu"`
	StormSoftnet   int64       `json:"storm_softnet_drops"`
	StormOvf       int64       `json:"storm_listen_overflows"`
	Saturated      string      `json:"saturated"`
	Samples        []C1mSample `json:"samples"`
	Failures       []string    `json:"failures,omitempty"`
}

// c1mLoadResult is what the runner reads of a wsload's JSON line beyond Result.
type c1mLoadResult struct {
	Result
	Opened     int64          `json:"opened"`
	Retries    int64          `json:"retries"`
	ErrorKinds map[string]int `json:"error_kinds"`
}

// netCounters are the machine's TCP and packet counters the storm reads.
type netCounters struct {
	currEstab, passiveOpens int64
	listenOvf, listenDrops  int64
	softnetDrops            int64
	cpu                     [8]int64 // /proc/stat cpu: user nice system idle iowait irq softirq steal
}

func readNet() netCounters {
	var n netCounters
	n.currEstab = snmpField("/proc/net/snmp", "Tcp:", "CurrEstab")
	n.passiveOpens = snmpField("/proc/net/snmp", "Tcp:", "PassiveOpens")
	n.listenOvf = snmpField("/proc/net/netstat", "TcpExt:", "ListenOverflows")
	n.listenDrops = snmpField("/proc/net/netstat", "TcpExt:", "ListenDrops")
	n.softnetDrops = softnetDrops()
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i := 0; i < len(n.cpu) && i+1 < len(f); i++ {
			n.cpu[i], _ = strconv.ParseInt(f[i+1], 10, 64)
		}
	}
	return n
}

// snmpField reads one counter of /proc/net/snmp or /proc/net/netstat, which
// list each group as a line of names followed by a line of values.
func snmpField(path, group, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return parseSnmp(string(b), group, name)
}

func parseSnmp(s, group, name string) int64 {
	lines := strings.Split(s, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], group) || !strings.HasPrefix(lines[i+1], group) {
			continue
		}
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j := range names {
			if names[j] == name && j < len(values) {
				v, _ := strconv.ParseInt(values[j], 10, 64)
				return v
			}
		}
	}
	return 0
}

// softnetDrops sums column 2 (packets dropped because the per-CPU backlog
// was full, in hex) of /proc/net/softnet_stat over the CPUs.
func softnetDrops() int64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	return parseSoftnetDrops(string(b))
}

func parseSoftnetDrops(s string) int64 {
	var total int64
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 {
			v, _ := strconv.ParseInt(f[1], 16, 64)
			total += v
		}
	}
	return total
}

// RunC1m runs the scenario against each server in turn and writes c1m.md
// and c1m.json into outDir, again after each server, so a run stopped
// half-way keeps the servers it finished.
func (r *Runner) RunC1m(opt C1mOptions, srvs []Server, rep *Report, outDir string) ([]C1mRow, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("compare: %v", err)
	}
	var rows []C1mRow
	for _, srv := range srvs {
		if srv.Skipped != "" {
			continue
		}
		row := r.c1mOne(opt, srv)
		r.logf("c1m %s: %d connected in %.1fs (%s/s, peak %s/s), %d retries, %d errors; %s msgs/s p50 %s p99 %s p99.9 %s; %.0f B RSS/conn; saturated: %s",
			srv.Name, row.Connected, row.StormS, thousands(row.ConnsPerSec), thousands(row.PeakPerSec), row.Retries, row.Errors,
			thousands(row.MsgsPerSec), micros(row.P50us), micros(row.P99us), micros(row.P999us), row.RSSPerConn, row.Saturated)
		rows = append(rows, row)
		rep.Finished = time.Now()
		if err := writeC1m(opt, rep, rows, outDir); err != nil {
			return rows, err
		}
		time.Sleep(10 * time.Second) // TIME_WAIT and memory settle between servers
	}
	for _, row := range rows {
		if len(row.Failures) > 0 || row.Errors > 0 || row.Mismatches > 0 {
			return rows, fmt.Errorf("compare: c1m: %s failed: %v errors, %v mismatches, %q", row.Server, row.Errors, row.Mismatches, row.Failures)
		}
	}
	return rows, nil
}

// writeC1m writes c1m.json and c1m.md for the rows so far.
func writeC1m(opt C1mOptions, rep *Report, rows []C1mRow, outDir string) error {
	js, _ := json.MarshalIndent(struct {
		Options C1mOptions `json:"options"`
		Machine Machine    `json:"machine"`
		Kernel  []string   `json:"kernel_settings"`
		Rows    []C1mRow   `json:"rows"`
	}{opt, rep.Machine, kernelSettings(), rows}, "", "  ")
	if err := os.WriteFile(filepath.Join(outDir, "c1m.json"), js, 0o644); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	md := "# A million connections: reconnect storm and traffic (issue 18)\n\nWritten by `bench/cmd/compare -scenarios c1m`; do not edit by hand.\n\n" + c1mMarkdown(rep, opt, rows)
	if err := os.WriteFile(filepath.Join(outDir, "c1m.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	return nil
}

// kernelSettings are the sysctls the storm meets, read (never changed) so
// the report says what they were.
func kernelSettings() []string {
	var out []string
	for _, name := range []string{"net/core/somaxconn", "net/ipv4/tcp_max_syn_backlog", "net/core/netdev_max_backlog",
		"net/ipv4/ip_local_port_range", "net/ipv4/tcp_syncookies", "fs/nr_open"} {
		b, err := os.ReadFile("/proc/sys/" + name)
		v := strings.Join(strings.Fields(string(b)), " ")
		if err != nil {
			v = "?"
		}
		out = append(out, strings.ReplaceAll(name, "/", ".")+" = "+v)
	}
	return out
}

// c1mLoad is a started wsload.
type c1mLoad struct {
	cmd    *exec.Cmd
	out    strings.Builder
	done   chan struct{}
	err    error
	active bool
	hist   string
}

func (r *Runner) startLoad(args []string, active bool, hist string) (*c1mLoad, error) {
	l := &c1mLoad{active: active, hist: hist, done: make(chan struct{})}
	logFile, err := os.OpenFile(filepath.Join(r.bin, "wsload-c1m.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("compare: %v", err)
	}
	fmt.Fprintf(logFile, "\n=== %s %q\n", time.Now().Format(time.RFC3339), args)
	l.cmd = exec.Command(args[0], args[1:]...)
	l.cmd.Stdout, l.cmd.Stderr = &syncWriter{b: &l.out}, logFile
	if err := l.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("compare: start wsload: %v", err)
	}
	go func() {
		l.err = l.cmd.Wait()
		logFile.Close()
		close(l.done)
	}()
	return l, nil
}

// syncWriter guards a strings.Builder written by exec's copying goroutine.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// c1mOne runs the scenario against one server.
func (r *Runner) c1mOne(opt C1mOptions, srv Server) C1mRow {
	row := C1mRow{Server: srv.Name, Label: srv.Label, Procs: opt.Procs}
	fail := func(format string, a ...any) { row.Failures = append(row.Failures, fmt.Sprintf(format, a...)) }
	addr, err := freeAddr()
	if err != nil {
		fail("%v", err)
		return row
	}
	logPath := filepath.Join(r.bin, srv.Name+"-c1m.log")
	var procs []*proc
	var loads []*c1mLoad
	defer func() {
		for _, l := range loads {
			select {
			case <-l.done:
			default:
				_ = l.cmd.Process.Kill()
				<-l.done
			}
		}
		for _, p := range procs {
			if err := p.stop(60 * time.Second); err != nil {
				fail("%v", err)
			}
		}
	}()
	pids, err := startScaleServers(r.argv[srv.Name], srv.Name, opt.Procs, addr, logPath, &procs, 60*time.Second, 3*time.Second)
	if err != nil {
		fail("%v", err)
		return row
	}
	rss0, _, fds0 := procsSample(pids)
	k0 := readKernel()
	n0 := readNet()
	row.RSSBeforeKB = rss0
	row.SoftnetBefore = n0.softnetDrops

	// The storm: every wsload at once. The sending connections' wsloads
	// measure after the storm's budget; the idle ones hold until after that
	// window and then check that every connection still echoes.
	warmup := opt.Storm + 10*time.Second
	idleHold := warmup + opt.Hold + 20*time.Second
	windowAt := time.Now().Add(warmup) // the sending wsloads' common window (wsload -window-at)
	common := []string{"-addr", addr, "-path", "/", "-size", "64", "-inflight", "1", "-sources", strconv.Itoa(opt.Sources),
		"-loops", "1", "-timeout", "60s", "-max-pending", strconv.Itoa(opt.MaxPending), "-json"}
	split := func(total, parts, i int) int {
		n := total / parts
		if i < total%parts {
			n++
		}
		return n
	}
	for i := 0; i < opt.Clients; i++ {
		args := append([]string{r.wsload, "-mode", "idle", "-conns", strconv.Itoa(split(opt.idle(), opt.Clients, i)),
			"-duration", idleHold.String()}, common...)
		l, err := r.startLoad(args, false, "")
		if err != nil {
			fail("%v", err)
			return row
		}
		loads = append(loads, l)
	}
	for i := 0; i < opt.activeClients(); i++ {
		hist := filepath.Join(r.bin, fmt.Sprintf("%s-c1m-hist-%d.json", srv.Name, i))
		os.Remove(hist)
		args := append([]string{r.wsload, "-mode", "echo", "-conns", strconv.Itoa(split(opt.active(), opt.activeClients(), i)),
			"-rate", strconv.FormatFloat(opt.Rate, 'g', -1, 64), "-window-at", strconv.FormatInt(windowAt.UnixMilli(), 10),
			"-traffic-at", strconv.FormatInt(windowAt.Add(-10*time.Second).UnixMilli(), 10), "-duration", opt.Hold.String(),
			"-hist", hist}, common...)
		l, err := r.startLoad(args, true, hist)
		if err != nil {
			fail("%v", err)
			return row
		}
		loads = append(loads, l)
	}
	start := time.Now()
	var loadPIDs []int
	for _, l := range loads {
		loadPIDs = append(loadPIDs, l.cmd.Process.Pid)
	}

	// One sample a second until the hold ends.
	prev, prevT := n0, start
	prevS, prevL := cpuTicks(pids), cpuTicks(loadPIDs)
	var stormEnd time.Duration
	atBudget := -1 // connections held when the storm's time ran out, if it did
	holdStart := windowAt
	holdMid := holdStart.Add(opt.Hold / 2)
	holdEnd := holdStart.Add(opt.Hold)
	var holdTicks0 int64
	midDone := false
	for time.Now().Before(holdEnd) {
		time.Sleep(time.Second - time.Since(prevT)%time.Second)
		now := time.Now()
		n := readNet()
		sTicks, lTicks := cpuTicks(pids), cpuTicks(loadPIDs)
		dt := now.Sub(prevT).Seconds()
		cores := func(d int64) float64 { return float64(d) / clockTicks / dt }
		s := C1mSample{
			T:            now.Sub(start).Seconds(),
			Established:  (n.currEstab - n0.currEstab) / 2,
			Accepted:     n.passiveOpens - n0.passiveOpens,
			PerSec:       float64(n.passiveOpens-prev.passiveOpens) / dt,
			ServerCPU:    cores(sTicks - prevS),
			LoadCPU:      cores(lTicks - prevL),
			SoftirqCPU:   cores(n.cpu[6] - prev.cpu[6]),
			IdleCPU:      cores(n.cpu[3] + n.cpu[4] - prev.cpu[3] - prev.cpu[4]),
			ListenOvf:    n.listenOvf - n0.listenOvf,
			ListenDrops:  n.listenDrops - n0.listenDrops,
			SoftnetDrops: n.softnetDrops - n0.softnetDrops,
		}
		row.Samples = append(row.Samples, s)
		row.PeakPerSec = max(row.PeakPerSec, s.PerSec)
		prev, prevT, prevS, prevL = n, now, sTicks, lTicks
		if k := readKernel(); k.slabKB > row.SlabPeakKB {
			row.SlabPeakKB = k.slabKB
		}
		// CurrEstab is the machine's: other work's connections closing can
		// keep it just under the count, so look at the servers' own
		// descriptors once it is near, and every fifth second anyway.
		if stormEnd == 0 && (s.Established >= int64(float64(opt.Conns)*0.99) || len(row.Samples)%5 == 0) {
			// Are they the servers' (accepted and upgraded, each a
			// descriptor of a server process)?
			if _, _, fds := procsSample(pids); sum(fds)-sum(fds0) >= opt.Conns {
				stormEnd = now.Sub(start)
				r.logf("c1m %s: %d connections held after %v", srv.Name, opt.Conns, stormEnd.Round(100*time.Millisecond))
			}
		}
		if stormEnd == 0 && atBudget < 0 && now.Sub(start) >= opt.Storm {
			_, _, fds := procsSample(pids)
			atBudget = sum(fds) - sum(fds0)
		}
		if holdTicks0 == 0 && now.After(holdStart) {
			holdTicks0 = sTicks
		}
		if !midDone && now.After(holdMid) {
			midDone = true
			rss1, _, fds1 := procsSample(pids)
			k1 := readKernel()
			for i := range fds1 {
				row.PerProcess = append(row.PerProcess, fds1[i]-fds0[i])
			}
			row.Connected = sum(fds1) - sum(fds0)
			row.RSSAfterKB = rss1
			if row.Connected > 0 {
				row.RSSPerConn = float64(rss1-rss0) * 1024 / float64(row.Connected)
				row.SlabPerConn = float64(k1.slabKB-k0.slabKB) * 1024 / float64(row.Connected)
			}
			if b, err := os.ReadFile("/proc/meminfo"); err == nil {
				fmt.Sscanf(field(string(b), "MemAvailable:"), "%d", &row.MemAvailKB)
			}
		}
	}
	sTicks1 := cpuTicks(pids)
	if holdTicks0 > 0 {
		row.HoldCPU = float64(sTicks1-holdTicks0) / clockTicks / opt.Hold.Seconds() * 100
	}
	if stormEnd == 0 {
		_, _, fds := procsSample(pids)
		fail("only %d of %d connections reached the servers within the storm's %v (-c1m-storm), %d by the end of the window", max(atBudget, 0), opt.Conns, opt.Storm, sum(fds)-sum(fds0))
	} else {
		row.StormS = stormEnd.Seconds()
		row.ConnsPerSec = float64(opt.Conns) / row.StormS
	}
	row.summarizeStorm()

	// The loads end on their own: the sending ones after their window, the
	// idle ones after checking every connection.
	// An idle wsload holds for idleHold from its own last connection, which
	// may come as late as the storm's budget.
	deadline := start.Add(opt.Storm + idleHold + 3*time.Minute)
	merged := hdrhistogram.New(1, 100e9, 3)
	var maxNs int64
	row.ErrorKinds = map[string]int{}
	for i, l := range loads {
		select {
		case <-l.done:
		case <-time.After(time.Until(deadline)):
			fail("wsload %d did not finish in time; killed", i)
			_ = l.cmd.Process.Kill()
			<-l.done
		}
		var res c1mLoadResult
		line := strings.TrimSpace(l.out.String())
		if j := strings.LastIndexByte(line, '\n'); j >= 0 {
			line = line[j+1:]
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			fail("wsload %d: %v; no result (%v)", i, l.err, err)
			continue
		}
		if l.err != nil {
			fail("wsload %d: %v", i, l.err)
		}
		row.Opened += res.Opened
		row.Retries += res.Retries
		row.Errors += int64(res.Errors)
		row.Mismatches += int64(res.Mismatches)
		for k, v := range res.ErrorKinds {
			row.ErrorKinds[k] += v
		}
		if !l.active {
			continue
		}
		row.MsgsPerSec += res.MsgsPerSec
		b, err := os.ReadFile(l.hist)
		if err != nil {
			fail("wsload %d: no histogram: %v", i, err)
			continue
		}
		var snap hdrhistogram.Snapshot
		if err := json.Unmarshal(b, &snap); err != nil {
			fail("wsload %d: histogram: %v", i, err)
			continue
		}
		merged.Merge(hdrhistogram.Import(&snap))
		maxNs = max(maxNs, int64(res.MaxUs*1e3))
	}
	if merged.TotalCount() > 0 {
		q := func(p float64) float64 { return float64(min(merged.ValueAtQuantile(p), maxNs)) / 1e3 }
		row.P50us, row.P99us, row.P999us, row.MaxUs = q(50), q(99), q(99.9), float64(maxNs)/1e3
	}
	n1 := readNet()
	row.SoftnetAfter = n1.softnetDrops
	row.ListenOvf, row.ListenDrops = n1.listenOvf-n0.listenOvf, n1.listenDrops-n0.listenDrops
	return row
}

// summarizeStorm averages the samples up to the storm's end and names what
// saturated first.
func (row *C1mRow) summarizeStorm() {
	var n float64
	for _, s := range row.Samples {
		if row.StormS > 0 && s.T > row.StormS+1 {
			break
		}
		n++
		row.StormServerCPU += s.ServerCPU
		row.StormLoadCPU += s.LoadCPU
		row.StormSoftirq += s.SoftirqCPU
		row.StormIdle += s.IdleCPU
		row.StormSoftnet, row.StormOvf = s.SoftnetDrops, s.ListenOvf
	}
	if n == 0 {
		return
	}
	row.StormServerCPU /= n
	row.StormLoadCPU /= n
	row.StormSoftirq /= n
	row.StormIdle /= n
	row.Saturated = saturation(numCPU(), row.StormServerCPU, row.StormLoadCPU, row.StormSoftirq, row.StormIdle, row.StormOvf, row.StormSoftnet)
}

// saturation names what limited the storm, from its mean figures: the CPUs
// (when under a tenth of a core was idle; then who used them), else the
// accept queues or the loopback backlog when they overflowed, else nothing
// this runner sees.
func saturation(cpus int, server, load, softirq, idle float64, overflows, softnet int64) string {
	var parts []string
	if idle < 0.1*float64(cpus) {
		who := "server processes"
		if load > server {
			who = "load processes"
		}
		parts = append(parts, fmt.Sprintf("CPU (%.2f of %d cores idle; server processes %.2f, load processes %.2f, softirq %.2f cores; most: %s)",
			idle, cpus, server, load, softirq, who))
	}
	if overflows > 0 {
		parts = append(parts, fmt.Sprintf("accept queues (%d ListenOverflows)", overflows))
	}
	if softnet > 0 {
		parts = append(parts, fmt.Sprintf("loopback backlog (%d softnet drops)", softnet))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("nothing measured here (%.2f cores idle, no overflows or drops): the load's pace (-c1m-pending)", idle)
	}
	return strings.Join(parts, "; ")
}

func numCPU() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}

// c1mMarkdown renders the rows, the storm's time line and the settings.
func c1mMarkdown(rep *Report, opt C1mOptions, rows []C1mRow) string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "- Run: %s, %s, `%s`\n", rep.Started.UTC().Format("2006-01-02 15:04 UTC"),
		rep.Finished.Sub(rep.Started).Round(time.Second), rep.Command)
	fmt.Fprintf(&b, "- Machine: %s\n", m.Line())
	fmt.Fprintf(&b, "- Kernel settings as found (the run changes none): %s\n", strings.Join(kernelSettings(), ", "))
	fmt.Fprintf(&b, "- %s connections against %d server processes on one port (SO_REUSEPORT, one event loop each, nothing pinned), from %d idle wsload processes and %d sending ones (one epoll loop each, at most %d connects+handshakes in flight each, IP_BIND_ADDRESS_NO_PORT, no keep-alive) over %d source addresses 127.0.0.1..%d. "+
		"**Storm**: every wsload starts at once and connects its share from zero. **Traffic**: %s connections (%.0f%%) send one 64 B message %.0f times a second (%s msgs/s), measured for %s starting %s after the start; the others stay idle and, after the window, each is checked to still echo.\n",
		thousands(float64(opt.Conns)), opt.Procs, opt.Clients, opt.activeClients(), opt.MaxPending, opt.Sources, opt.Sources,
		thousands(float64(opt.active())), opt.Active*100, opt.Rate, thousands(float64(opt.active())*opt.Rate), opt.Hold, opt.Storm+10*time.Second)
	b.WriteString("- storm: from the wsloads' start until the server processes hold every connection (their /proc/PID/fd); conns/s: connections / storm; peak: the best one-second rate of TCP handshakes completed to the servers (/proc/net/snmp PassiveOpens). " +
		"retries: connects or handshakes wsload retried after a refusal, reset or timeout (a failed handshake after its retries is an error). " +
		"RSS/conn: growth of the server processes' summed VmRSS over the connections, read in the middle of the traffic window; slab/conn: growth of /proc/meminfo Slab (both ends). " +
		"softnet drops: /proc/net/softnet_stat column 2 summed over CPUs (loopback packets dropped at the per-CPU backlog), before → after the server's whole run; overflows: /proc/net/netstat ListenOverflows over the run.\n\n")
	b.WriteString("## Results\n\n")
	b.WriteString("| server | procs | connected | storm | conns/s | peak conns/s | retries | errors | mismatches | msgs/s | p50 | p99 | p99.9 | RSS/conn | slab/conn (both ends) | server CPU in the window | softnet drops (before → after) | accept overflows |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		mark := ""
		if len(r.Failures) > 0 || r.Errors > 0 || r.Mismatches > 0 {
			mark = " ⚠"
		}
		fmt.Fprintf(&b, "| %s%s | %d | %s | %.1f s | %s | %s | %d | %d | %d | %s | %s | %s | %s | %s B | %s B | %.0f%% | %d → %d | %d |\n",
			r.Label, mark, r.Procs, thousands(float64(r.Connected)), r.StormS, thousands(r.ConnsPerSec), thousands(r.PeakPerSec),
			r.Retries, r.Errors, r.Mismatches, thousands(r.MsgsPerSec), micros(r.P50us), micros(r.P99us), micros(r.P999us),
			thousands(r.RSSPerConn), thousands(r.SlabPerConn), r.HoldCPU, r.SoftnetBefore, r.SoftnetAfter, r.ListenOvf)
	}
	b.WriteString("\n## What the storm saturated\n\n")
	b.WriteString("Means over the storm's seconds, in cores of the machine's " + strconv.Itoa(numCPU()) + ".\n\n")
	b.WriteString("other: what is left of the machine's cores (other processes on a shared machine, interrupts, system time not charged to a process).\n\n")
	b.WriteString("| server | server processes | load processes | softirq | other | idle | accept overflows | softnet drops | saturated first |\n|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		other := max(0, float64(numCPU())-r.StormServerCPU-r.StormLoadCPU-r.StormSoftirq-r.StormIdle)
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d | %s |\n", r.Label, r.StormServerCPU, r.StormLoadCPU, r.StormSoftirq, other, r.StormIdle, r.StormOvf, r.StormSoftnet, r.Saturated)
	}
	b.WriteString("\n## The storm, second by second\n\nConnections the servers' kernel side had established, and per second, with the CPU (cores) of each party; every second until all were held, then every tenth.\n\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "### %s\n\n| t | established | accepted/s | server CPU | load CPU | softirq | idle | overflows | softnet drops |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n", r.Label)
		for i, s := range r.Samples {
			if r.StormS > 0 && s.T > r.StormS+2 && i%10 != 0 {
				continue
			}
			fmt.Fprintf(&b, "| %.0f s | %s | %s | %.2f | %.2f | %.2f | %.2f | %d | %d |\n", s.T, thousands(float64(s.Established)), thousands(s.PerSec),
				s.ServerCPU, s.LoadCPU, s.SoftirqCPU, s.IdleCPU, s.ListenOvf, s.SoftnetDrops)
		}
		b.WriteString("\n")
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "- %s: server RSS %s → %s, Slab peak %s KiB, MemAvailable in the window %s KiB, connections per process %v", r.Label,
			mib(float64(r.RSSBeforeKB)), mib(float64(r.RSSAfterKB)), thousands(float64(r.SlabPeakKB)), thousands(float64(r.MemAvailKB)), r.PerProcess)
		if len(r.ErrorKinds) > 0 {
			fmt.Fprintf(&b, ", errors by kind %v", r.ErrorKinds)
		}
		b.WriteString("\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "- %s ⚠ %s\n", r.Label, f)
		}
	}
	return b.String()
}

// cpuTicks sums utime+stime over pids from /proc/PID/stat only: the
// per-second samples must not list a million descriptors each time.
func cpuTicks(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		if f := strings.Fields(rest); len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			total += u + st
		}
	}
	return total
}
