package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The c200k scenario (issue 8): 200,000 WebSocket connections on this
// machine, more than one process's open-file limit (20,000 here) allows, so
// the server runs as several processes sharing the port with SO_REUSEPORT
// (wsreactor -procs N; the peers that can, started N times with -reuseport)
// and the load comes from several wsload processes over many 127.0.0.x
// source addresses. Every connection echoes a 64 B message every 10 s.

// C200kOptions configure -scenarios c200k.
type C200kOptions struct {
	Conns   int           // connections in all (200,000)
	Procs   int           // server processes
	Clients int           // wsload processes; each holds Conns/Clients connections
	Sources int           // client source addresses 127.0.0.1..N (about 28,000 ports each)
	Rate    float64       // messages per second per connection (0.1: one every 10 s)
	Warmup  time.Duration // from the wsloads' start to their common measured window (wsload -window-at); must cover the connecting
	Hold    time.Duration // measured window, all connections echoing
}

// c200kServers are the servers the scenario runs: those that can listen
// with SO_REUSEPORT from several processes (see c200kCannot for the rest).
var c200kServers = []string{Wsreactor, GobwasGnet, Nbio, UWS}

// c200kCannot says why the other servers do not run it.
var c200kCannot = map[string]string{
	Gorilla: "not run: it could listen with SO_REUSEPORT (net.ListenConfig), but at 26 KB of RSS per idle connection (the idle table) 200,000 connections take about 5 GiB and a goroutine each; left out of this scenario",
	NodeWS:  "cannot: Node.js 20 has no SO_REUSEPORT listen option (`reusePort` arrived in Node 22.12/23.1), and its cluster module hands connections out from one primary process instead",
	Twisted: "cannot as configured: Twisted's listenTCP sets no SO_REUSEPORT (it would need a hand-made socket and adoptStreamPort), and at 64 µs of CPU per message one process could not keep 20,000 msgs/s on this machine anyway",
	GnetTCP: "not a WebSocket server: it runs the echo scenarios only",
}

// C200kRow is one server's outcome.
type C200kRow struct {
	Server       string         `json:"server"`
	Label        string         `json:"label"`
	Procs        int            `json:"procs"`
	Connected    int            `json:"connected"`      // server-side sockets at the peak, summed over processes
	ConnectS     float64        `json:"connect_s"`      // from the first wsload start to all connected
	ConnsPerSec  float64        `json:"conns_per_sec"`  // Connected / ConnectS
	PerProcess   []int          `json:"per_process"`    // connections each server process held
	MsgsPerSec   float64        `json:"msgs_per_sec"`   // sum over wsloads, in their measured windows
	P50us        float64        `json:"p50_us"`         // merged over every wsload's histogram
	P99us        float64        `json:"p99_us"`         //
	P999us       float64        `json:"p999_us"`        //
	MaxUs        float64        `json:"max_us"`         //
	Errors       int64          `json:"errors"`         //
	Mismatches   int64          `json:"mismatches"`     //
	RSSBeforeKB  int64          `json:"rss_before_kb"`  // summed over server processes
	RSSAfterKB   int64          `json:"rss_after_kb"`   // in the middle of the hold
	RSSPerConn   float64        `json:"rss_per_conn_b"` // (after - before) / connections
	SlabPerConn  float64        `json:"slab_per_conn_b"`
	TCPMemPerCon float64        `json:"tcp_mem_per_conn_b"` // sockstat TCP mem (pages) growth / connections
	Slab         map[string]int `json:"slab_growth_kb,omitempty"`
	KernelBefore kernelFigures  `json:"kernel_before"`
	KernelAfter  kernelFigures  `json:"kernel_after"`   // in the middle of the hold
	CPUPct       float64        `json:"cpu_pct"`        // server processes' CPU over the hold, share of one core
	CPUPerMsgUs  float64        `json:"cpu_per_msg_us"` //
	Failures     []string       `json:"failures,omitempty"`
}

// kernelSample is the machine-wide kernel memory that connections use.
type kernelSample struct {
	slabKB    int64            // /proc/meminfo Slab
	tcpPages  int64            // /proc/net/sockstat TCP mem
	tcpInUse  int64            // /proc/net/sockstat TCP inuse
	caches    map[string]int64 // /proc/slabinfo: bytes in use per cache (root only)
	cacheSeen bool
}

// kernelFigures are the machine-wide figures of a kernelSample, for the
// report.
type kernelFigures struct {
	SlabKB      int64 `json:"slab_kb"`       // /proc/meminfo Slab
	TCPInUse    int64 `json:"tcp_inuse"`     // /proc/net/sockstat TCP inuse (both ends)
	TCPMemPages int64 `json:"tcp_mem_pages"` // /proc/net/sockstat TCP mem
}

func (k kernelSample) figures() kernelFigures { return kernelFigures{k.slabKB, k.tcpInUse, k.tcpPages} }

// socketCaches are the slab caches one TCP connection's two ends use.
var socketCaches = []string{"TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq", "skbuff_head_cache", "skbuff_small_head"}

func readKernel() kernelSample {
	var k kernelSample
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		fmt.Sscanf(field(string(b), "Slab:"), "%d", &k.slabKB)
	}
	if b, err := os.ReadFile("/proc/net/sockstat"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && f[0] == "TCP:" {
				for i := 1; i+1 < len(f); i += 2 {
					v, _ := strconv.ParseInt(f[i+1], 10, 64)
					switch f[i] {
					case "inuse":
						k.tcpInUse = v
					case "mem":
						k.tcpPages = v
					}
				}
			}
		}
	}
	if f, err := os.Open("/proc/slabinfo"); err == nil {
		defer f.Close()
		k.caches, k.cacheSeen = map[string]int64{}, true
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 4 {
				continue
			}
			for _, name := range socketCaches {
				if fs[0] == name {
					active, _ := strconv.ParseInt(fs[1], 10, 64)
					size, _ := strconv.ParseInt(fs[3], 10, 64)
					k.caches[name] = active * size
				}
			}
		}
	}
	return k
}

// serverPIDs are the processes serving: for wsreactor the parent's
// children (its workers), for the peers the processes started.
func serverPIDs(name string, procs []*proc) []int {
	if name != Wsreactor {
		var pids []int
		for _, p := range procs {
			pids = append(pids, p.Pid())
		}
		return pids
	}
	parent := procs[0].Pid()
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(parent) && f[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// procsSample sums RSS and CPU ticks over pids and lists their open files.
func procsSample(pids []int) (rssKB, ticks int64, fds []int) {
	for _, pid := range pids {
		s, t, err := readSample(pid)
		if err != nil {
			fds = append(fds, 0)
			continue
		}
		rssKB += s.RSSKB
		ticks += t
		fds = append(fds, s.FDs)
	}
	return rssKB, ticks, fds
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// RunC200k runs the scenario against each server in turn and writes
// c200k.md and c200k.json into outDir.
func (r *Runner) RunC200k(opt C200kOptions, srvs []Server, rep *Report, outDir string) ([]C200kRow, error) {
	var rows []C200kRow
	for _, srv := range srvs {
		if srv.Skipped != "" {
			continue
		}
		row := r.c200kOne(opt, srv)
		r.logf("c200k %s: %d connected in %.1fs, %s msgs/s, p99 %s, %v errors, %v mismatches, %.0f B RSS/conn, CPU %.0f%%",
			srv.Name, row.Connected, row.ConnectS, thousands(row.MsgsPerSec), micros(row.P99us), row.Errors, row.Mismatches, row.RSSPerConn, row.CPUPct)
		rows = append(rows, row)
		time.Sleep(5 * time.Second) // TIME_WAIT and memory settle between servers
	}
	rep.Finished = time.Now()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return rows, fmt.Errorf("compare: %v", err)
	}
	js, _ := json.MarshalIndent(struct {
		Options C200kOptions `json:"options"`
		Machine Machine      `json:"machine"`
		Rows    []C200kRow   `json:"rows"`
	}{opt, rep.Machine, rows}, "", "  ")
	if err := os.WriteFile(filepath.Join(outDir, "c200k.json"), js, 0o644); err != nil {
		return rows, fmt.Errorf("compare: %v", err)
	}
	md := "# 200,000 connections\n\nWritten by `bench/cmd/compare -scenarios c200k`; do not edit by hand.\n\n" + c200kMarkdown(rep, opt, rows, srvs, "##")
	if err := os.WriteFile(filepath.Join(outDir, "c200k.md"), []byte(md), 0o644); err != nil {
		return rows, fmt.Errorf("compare: %v", err)
	}
	for _, row := range rows {
		if len(row.Failures) > 0 || row.Errors > 0 || row.Mismatches > 0 {
			return rows, fmt.Errorf("compare: c200k: %s failed: %v errors, %v mismatches, %q", row.Server, row.Errors, row.Mismatches, row.Failures)
		}
	}
	return rows, nil
}

// c200kOne runs the scenario against one server.
func (r *Runner) c200kOne(opt C200kOptions, srv Server) C200kRow {
	row := C200kRow{Server: srv.Name, Label: srv.Label, Procs: opt.Procs}
	fail := func(format string, a ...any) { row.Failures = append(row.Failures, fmt.Sprintf(format, a...)) }
	addr, err := freeAddr()
	if err != nil {
		fail("%v", err)
		return row
	}
	logPath := filepath.Join(r.bin, srv.Name+"-c200k.log")
	var procs []*proc
	stopAll := func() {
		for _, p := range procs {
			if err := p.stop(20 * time.Second); err != nil {
				fail("%v", err)
			}
		}
	}
	defer stopAll()
	pids, err := startScaleServers(r.argv[srv.Name], srv.Name, opt.Procs, addr, logPath, &procs, 30*time.Second, 2*time.Second)
	if err != nil {
		fail("%v", err)
		return row
	}
	rss0, _, fds0 := procsSample(pids)
	k0 := readKernel()
	row.RSSBeforeKB = rss0

	// The clients, all at once.
	type loadOut struct {
		res Result
		err error
	}
	outs := make([]loadOut, opt.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	// Every wsload measures the same window, from start+Warmup, so none
	// closes its connections (a storm of closes) while another measures.
	windowAt := start.Add(opt.Warmup)
	per := opt.Conns / opt.Clients
	for i := 0; i < opt.Clients; i++ {
		n := per
		if i < opt.Conns%opt.Clients {
			n++
		}
		hist := filepath.Join(r.bin, fmt.Sprintf("%s-c200k-hist-%d.json", srv.Name, i))
		os.Remove(hist)
		args := []string{r.wsload, "-addr", addr, "-path", "/", "-mode", "echo", "-conns", strconv.Itoa(n),
			"-size", "64", "-inflight", "1", "-rate", strconv.FormatFloat(opt.Rate, 'g', -1, 64),
			"-window-at", strconv.FormatInt(windowAt.UnixMilli(), 10), "-duration", opt.Hold.String(), "-sources", strconv.Itoa(opt.Sources),
			"-loops", "1", "-timeout", "30s", "-json", "-hist", hist}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+opt.Warmup+opt.Hold)
			defer cancel()
			out, err := runCmd(ctx, args, filepath.Join(r.bin, "wsload-c200k.log"))
			res, perr := ParseResult(out)
			if err == nil {
				err = perr
			}
			outs[i] = loadOut{res, err}
		}(i)
	}

	// Connected: the server processes hold every connection.
	var connected time.Duration
	deadline := start.Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		_, _, fds := procsSample(pids)
		if sum(fds)-sum(fds0) >= opt.Conns {
			connected = time.Since(start)
			break
		}
		time.Sleep(500 * time.Millisecond) // each pass lists every server socket
	}
	if connected == 0 {
		_, _, fds := procsSample(pids)
		fail("only %d of %d connections reached the servers within 4 minutes", sum(fds)-sum(fds0), opt.Conns)
	} else {
		row.ConnectS = connected.Seconds()
		row.ConnsPerSec = float64(opt.Conns) / connected.Seconds()
	}
	r.logf("c200k %s: connected after %v", srv.Name, connected.Round(100*time.Millisecond))

	// The hold, measured on our own clock over the wsloads' common window
	// (which starts at once if the connecting took longer than the warm-up).
	time.Sleep(max(5*time.Second, time.Until(windowAt)))
	_, ticks0, _ := procsSample(pids)
	t0 := time.Now()
	time.Sleep(opt.Hold / 2)
	rss1, _, fds1 := procsSample(pids)
	k1 := readKernel()
	time.Sleep(opt.Hold / 2)
	_, ticks1, _ := procsSample(pids)
	held := time.Since(t0)

	for i := range fds1 {
		row.PerProcess = append(row.PerProcess, fds1[i]-fds0[i])
	}
	row.Connected = sum(fds1) - sum(fds0)
	row.RSSAfterKB = rss1
	row.KernelBefore, row.KernelAfter = k0.figures(), k1.figures()
	if row.Connected > 0 {
		c := float64(row.Connected)
		row.RSSPerConn = float64(rss1-rss0) * 1024 / c
		row.SlabPerConn = float64(k1.slabKB-k0.slabKB) * 1024 / c
		row.TCPMemPerCon = float64(k1.tcpPages-k0.tcpPages) * float64(os.Getpagesize()) / c
	}
	if k0.cacheSeen && k1.cacheSeen {
		row.Slab = map[string]int{}
		for _, name := range socketCaches {
			row.Slab[name] = int((k1.caches[name] - k0.caches[name]) / 1024)
		}
	}
	row.CPUPct = float64(ticks1-ticks0) / clockTicks / held.Seconds() * 100

	wg.Wait()
	merged := hdrhistogram.New(1, 100e9, 3)
	var maxNs int64
	for i, o := range outs {
		if o.err != nil {
			fail("wsload %d: %v", i, o.err)
		}
		row.MsgsPerSec += o.res.MsgsPerSec
		row.Errors += int64(o.res.Errors)
		row.Mismatches += int64(o.res.Mismatches)
		b, err := os.ReadFile(filepath.Join(r.bin, fmt.Sprintf("%s-c200k-hist-%d.json", srv.Name, i)))
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
		maxNs = max(maxNs, int64(o.res.MaxUs*1e3))
	}
	if merged.TotalCount() > 0 {
		q := func(p float64) float64 { return float64(min(merged.ValueAtQuantile(p), maxNs)) / 1e3 }
		row.P50us, row.P99us, row.P999us, row.MaxUs = q(50), q(99), q(99.9), float64(maxNs)/1e3
	}
	if row.MsgsPerSec > 0 {
		row.CPUPerMsgUs = row.CPUPct / 100 / row.MsgsPerSec * 1e6
	}
	return row
}

// c200kMarkdown renders the rows side by side, with the settings and what
// each column means.
func c200kMarkdown(rep *Report, opt C200kOptions, rows []C200kRow, srvs []Server, h string) string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "- Run: %s, %s, `%s`\n", rep.Started.UTC().Format("2006-01-02 15:04 UTC"),
		rep.Finished.Sub(rep.Started).Round(time.Second), rep.Command)
	fmt.Fprintf(&b, "- Machine: %s\n", m.Line())
	fmt.Fprintf(&b, "- %s connections from %d wsload processes (one event loop each) over %d source addresses 127.0.0.1..%d, against %d server processes on one port (SO_REUSEPORT), one event loop each, nothing pinned. "+
		"All wsloads start at once; each connects its share, then sends one 64 B message per connection every %.0f s (%s msgs/s in all); all measure the same %s, starting %s after the start (wsload -window-at), and close only after it.\n",
		thousands(float64(opt.Conns)), opt.Clients, opt.Sources, opt.Sources, opt.Procs, 1/opt.Rate, thousands(float64(opt.Conns)*opt.Rate), opt.Hold, opt.Warmup)
	b.WriteString("- connect: from the start of the wsloads until the server processes hold every connection (their /proc/PID/fd). " +
		"RSS/conn: growth of the server processes' summed VmRSS over the connections, read in the middle of the hold (user space: heap, stacks, gnet's buffers). " +
		"slab/conn: growth of /proc/meminfo Slab over the connections: kernel objects of *both* ends (client and server are on this machine), so a server alone pays about half; " +
		"TCP buffers/conn: growth of /proc/net/sockstat TCP mem (pages of socket buffers, both ends). " +
		"CPU: the server processes' utime+stime over the hold, as a share of one core. Latency: from each message's intended send time to its whole echo, every wsload's HdrHistogram merged.\n\n")
	fmt.Fprintf(&b, "%s Results\n\n", h)
	b.WriteString("| server | procs | connected | connect | conns/s | msgs/s | p50 | p99 | p99.9 | errors | mismatches | RSS/conn | slab/conn (both ends) | TCP buffers/conn | server CPU | CPU per msg | conns per process (min–max) |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		lo, hi := 0, 0
		for i, n := range r.PerProcess {
			if i == 0 || n < lo {
				lo = n
			}
			hi = max(hi, n)
		}
		mark := ""
		if len(r.Failures) > 0 || r.Errors > 0 || r.Mismatches > 0 {
			mark = " ⚠"
		}
		fmt.Fprintf(&b, "| %s%s | %d | %s | %.1f s | %s | %s | %s | %s | %s | %d | %d | %s B | %s B | %s B | %.0f%% | %.1f µs | %s–%s |\n",
			r.Label, mark, r.Procs, thousands(float64(r.Connected)), r.ConnectS, thousands(r.ConnsPerSec), thousands(r.MsgsPerSec),
			micros(r.P50us), micros(r.P99us), micros(r.P999us), r.Errors, r.Mismatches,
			thousands(r.RSSPerConn), thousands(r.SlabPerConn), thousands(r.TCPMemPerCon), r.CPUPct, r.CPUPerMsgUs,
			thousands(float64(lo)), thousands(float64(hi)))
	}
	b.WriteString("\n")
	for _, r := range rows {
		if len(r.Slab) > 0 {
			fmt.Fprintf(&b, "- %s, slab caches grown (KiB, both ends):", r.Label)
			for _, name := range socketCaches {
				fmt.Fprintf(&b, " %s %s;", name, thousands(float64(r.Slab[name])))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "- %s, before → during the hold: Slab %s → %s KiB, sockstat TCP inuse %s → %s, TCP mem %s → %s pages; server RSS %s → %s\n",
			r.Label, thousands(float64(r.KernelBefore.SlabKB)), thousands(float64(r.KernelAfter.SlabKB)),
			thousands(float64(r.KernelBefore.TCPInUse)), thousands(float64(r.KernelAfter.TCPInUse)),
			thousands(float64(r.KernelBefore.TCPMemPages)), thousands(float64(r.KernelAfter.TCPMemPages)),
			mib(float64(r.RSSBeforeKB)), mib(float64(r.RSSAfterKB)))
		fmt.Fprintf(&b, "- %s, connections per process: %v\n", r.Label, r.PerProcess)
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "- %s ⚠ %s\n", r.Label, f)
		}
	}
	ran := map[string]bool{}
	for _, r := range rows {
		ran[r.Server] = true
	}
	for _, s := range AllServers() {
		if why, ok := c200kCannot[s.Name]; ok && !ran[s.Name] {
			fmt.Fprintf(&b, "- %s: %s\n", s.Label, why)
		}
	}
	return b.String()
}

// c200kBegin and c200kEnd mark the section of docs/benchmarks.md the run fills.
const (
	c200kBegin = "<!-- c200k:begin -->"
	c200kEnd   = "<!-- c200k:end -->"
)

// fillC200kReadme replaces the c200k section of the page at path, if it
// has the markers.
func fillC200kReadme(path string, rep *Report, opt C200kOptions, rows []C200kRow, srvs []Server) error {
	return fillBetween(path, c200kBegin, c200kEnd, c200kMarkdown(rep, opt, rows, srvs, "###"), false)
}

// startScaleServers starts server name as n processes on addr: wsreactor
// as one -procs n supervisor, a peer as n processes sharing the port with
// SO_REUSEPORT. Every process started is appended to *procs at once, so
// that the caller's deferred stop sees it even when a later one fails. It
// waits up to acceptWait for the port to accept and settle more for every
// process to listen (and start-up garbage to be collected), and returns
// the pids of the serving processes.
func startScaleServers(argv []string, name string, n int, addr, logPath string, procs *[]*proc, acceptWait, settle time.Duration) ([]int, error) {
	if name == Wsreactor {
		argv = append(append([]string{}, argv...), "-procs", strconv.Itoa(n), "-admin-addr", "")
		p, err := startServer(name, argv, addr, -1, logPath)
		if err != nil {
			return nil, err
		}
		*procs = append(*procs, p)
	} else {
		argv = append(append([]string{}, argv...), "-reuseport")
		for range n {
			p, err := startServer(name, argv, addr, -1, logPath)
			if err != nil {
				return nil, err
			}
			*procs = append(*procs, p)
		}
	}
	if err := (*procs)[0].waitAccept(addr, acceptWait); err != nil {
		return nil, err
	}
	time.Sleep(settle)
	pids := serverPIDs(name, *procs)
	if len(pids) != n {
		return nil, fmt.Errorf("%d server processes serving; want %d", len(pids), n)
	}
	return pids, nil
}
