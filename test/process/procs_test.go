package process

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// The -procs tests run the built command as the parent of worker processes
// and tell which worker holds a connection the way an operator would: the
// server side of the TCP connection is a socket inode in /proc/net/tcp, and
// the worker that has it open lists it under /proc/PID/fd.

// startProcs runs the command with -procs n and waits until the parent says
// every worker listens; it returns the parent and the workers' pids.
func startProcs(t *testing.T, n int, args ...string) (*testkit.Proc, []int) {
	t.Helper()
	p := testkit.StartProc(t, append([]string{"-procs", strconv.Itoa(n)}, args...)...)
	if !testkit.Eventually(20*time.Second, func() bool { return procsRE.MatchString(p.LogText()) }) {
		t.Fatalf("the workers did not all start; log:\n%s", p.LogText())
	}
	pids := childPIDs(t, p.PID())
	if len(pids) != n {
		t.Fatalf("%d worker processes (%v); want %d", len(pids), pids, n)
	}
	return p, pids
}

// procsRE matches the parent's start line, logged once every worker serves.
var procsRE = regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=listening addr=\S+ admin_addr="" procs=`)

// victimIndex is the worker index the log gives pid ("worker started").
func victimIndex(log string, pid int) int {
	m := regexp.MustCompile(fmt.Sprintf(`msg="worker started" worker=(\d+) pid=%d\b`, pid)).FindStringSubmatch(log)
	if m == nil {
		return -1
	}
	i, _ := strconv.Atoi(m[1])
	return i
}

// childPIDs lists the live (not zombie) children of ppid, from /proc.
func childPIDs(t testing.TB, ppid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, parent, ok := procStat(pid)
		if ok && parent == ppid && state != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// procStat reads a process's state letter and parent pid from
// /proc/PID/stat; ok is false when the process is gone.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid, true
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z'
}

// owners returns, for each loopback connection of conns, which of pids
// holds its server side (0 if none does, as when the owner has just died).
// It reads /proc/net/tcp once (it lists every socket of the machine, other
// tests' too, so one pass per batch, not per connection) and each pid's
// open files once.
func owners(t testing.TB, conns []net.Conn, pids []int) []int {
	t.Helper()
	// The server's socket of c: local port c's remote port, remote port
	// c's local port.
	want := make(map[string]int, len(conns))
	for i, c := range conns {
		key := fmt.Sprintf(":%04X :%04X", c.RemoteAddr().(*net.TCPAddr).Port, c.LocalAddr().(*net.TCPAddr).Port)
		want[key] = i
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byInode := make(map[string]int, len(conns))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		l, r := fs[1], fs[2]
		if len(l) < 5 || len(r) < 5 {
			continue
		}
		if i, ok := want[l[len(l)-5:]+" "+r[len(r)-5:]]; ok {
			byInode["socket:["+fs[9]+"]"] = i
		}
	}
	out := make([]int, len(conns))
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			l, _ := os.Readlink(dir + "/" + e.Name())
			if i, ok := byInode[l]; ok {
				out[i] = pid
			}
		}
	}
	return out
}

// netConns is conns as net.Conns, for owners.
func netConns(conns []*testkit.WSConn) []net.Conn {
	out := make([]net.Conn, len(conns))
	for i, ws := range conns {
		out[i] = ws.Conn
	}
	return out
}

// logTime is the time of the first log line that matches re (text
// format: time=... first, after the worker=N tag if any).
func logTime(log string, re *regexp.Regexp) (time.Time, bool) {
	for _, line := range strings.Split(log, "\n") {
		if !re.MatchString(line) {
			continue
		}
		if m := regexp.MustCompile(`time=(\S+)`).FindStringSubmatch(line); m != nil {
			ts, err := time.Parse(time.RFC3339Nano, m[1])
			return ts, err == nil
		}
	}
	return time.Time{}, false
}

// spread opens n connections and returns them with the count each worker
// got.
func spread(t *testing.T, addr string, n int, pids []int) ([]*testkit.WSConn, map[int]int) {
	t.Helper()
	conns := make([]*testkit.WSConn, n)
	for i := range conns {
		conns[i] = testkit.OpenWS(t, addr)
	}
	got := make(map[int]int)
	for _, pid := range owners(t, netConns(conns), pids) {
		got[pid]++
	}
	return conns, got
}

// TestProcsSpreadAndKill: with -procs 3, connections land on every worker;
// after kill -9 of one worker under load, the other workers' clients keep
// echoing without an error, the parent starts a replacement that accepts
// within a second (2 s allowed on this shared machine), and the parent still
// drains and exits 0 on SIGTERM.
func TestProcsSpreadAndKill(t *testing.T) {
	p, pids := startProcs(t, 3, "-loops", "1", "-ping-interval", "0", "-shutdown-timeout", "5s")
	conns, got := spread(t, p.Addr, 60, pids)
	t.Logf("60 connections over workers %v: %v", pids, got)
	for _, pid := range pids {
		if got[pid] == 0 {
			t.Errorf("worker %d got none of 60 connections: %v", pid, got)
		}
	}
	owner := owners(t, netConns(conns), pids)
	victim := owner[0]

	// Load: every client echoes 256 B messages back to back until stop.
	var (
		stop      atomic.Bool
		wg        sync.WaitGroup
		echoed    = make([]atomic.Int64, len(conns))
		lastErr   = make([]error, len(conns))
		afterKill = make([]int64, len(conns))
	)
	for i, ws := range conns {
		wg.Add(1)
		go func(i int, ws *testkit.WSConn) {
			defer wg.Done()
			msg := payloadFor(i, 0, 256)
			for !stop.Load() {
				ws.SetDeadline(time.Now().Add(5 * time.Second))
				if err := ws.WriteFrame(true, frame.OpBinary, msg); err != nil {
					lastErr[i] = err
					return
				}
				_, back, err := ws.ReadMessage()
				if err != nil {
					lastErr[i] = err
					return
				}
				if string(back) != string(msg) {
					lastErr[i] = errors.New("echo differs")
					return
				}
				echoed[i].Add(1)
			}
		}(i, ws)
	}
	time.Sleep(300 * time.Millisecond)

	killed := time.Now()
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := range conns {
		afterKill[i] = echoed[i].Load()
	}
	// A replacement: a new child, and a connection that lands on it.
	var fresh int
	testkit.Eventually(5*time.Second, func() bool {
		for _, pid := range childPIDs(t, p.PID()) {
			if pid != pids[0] && pid != pids[1] && pid != pids[2] {
				fresh = pid
				return true
			}
		}
		return false
	})
	if fresh == 0 {
		t.Fatalf("no replacement for worker %d within 5 s", victim)
	}
	// Its readiness, from the log: the replacement's start line, logged once
	// it listens. Then a connection that lands on it.
	restartRE := regexp.MustCompile(`^worker=\d+ time=\S+ level=INFO msg=listening `)
	var ready time.Duration
	testkit.Eventually(5*time.Second, func() bool {
		for _, line := range strings.Split(p.LogText(), "\n") {
			if ts, ok := logTime(line, restartRE); ok && ts.After(killed) {
				ready = ts.Sub(killed)
				return true
			}
		}
		return false
	})
	landed, dialErrs := false, 0
	for try := 0; try < 20 && !landed; try++ {
		var batch []net.Conn
		for k := 0; k < 10; k++ {
			ws, err := testkit.DialWS(p.Addr)
			if err != nil {
				dialErrs++
				continue
			}
			batch = append(batch, ws.Conn)
		}
		for _, pid := range owners(t, batch, []int{fresh}) {
			landed = landed || pid == fresh
		}
		for _, c := range batch {
			c.Close()
		}
	}
	t.Logf("worker %d killed; replacement %d listening %v later; a new connection landed on it: %v (%d dials failed meanwhile)", victim, fresh, ready, landed, dialErrs)
	if ready == 0 || ready > 2*time.Second {
		t.Errorf("the replacement listened %v after the kill; want within 1 s (2 s allowed on this shared machine)", ready)
	}
	if !landed {
		t.Errorf("none of 200 new connections landed on the replacement %d", fresh)
	}

	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	for i := range conns {
		switch {
		case owner[i] == victim:
			if lastErr[i] == nil {
				t.Errorf("client %d of the killed worker kept echoing", i)
			}
		case lastErr[i] != nil:
			t.Errorf("client %d of worker %d: %v after the kill of worker %d", i, owner[i], lastErr[i], victim)
		case echoed[i].Load() <= afterKill[i]:
			t.Errorf("client %d of worker %d echoed nothing after the kill (%d before)", i, owner[i], afterKill[i])
		}
	}
	if !strings.Contains(p.LogText(), fmt.Sprintf(`msg="worker died" worker=%d pid=%d cause="was killed by signal 9 (killed)"`, victimIndex(p.LogText(), victim), victim)) {
		t.Errorf("the parent did not log worker %d's death with its cause", victim)
	}
	for _, ws := range conns {
		ws.Close()
	}
	termed := time.Now()
	if err := p.SignalAndWait(t, syscall.SIGTERM, 15*time.Second); err != nil {
		t.Errorf("parent exit after SIGTERM: %v; want status 0", err)
	}
	t.Logf("the parent exited %v after SIGTERM", time.Since(termed))
}

// TestProcsGracefulShutdown: SIGTERM to the parent makes every worker
// deliver every echo its clients are owed, then close 1001; every worker
// and the parent exit 0.
func TestProcsGracefulShutdown(t *testing.T) {
	p, pids := startProcs(t, 3, "-loops", "1", "-shutdown-timeout", "5s")
	const clients, msgs, size = 30, 32, 8 << 10
	conns := sendOwed(t, p.Addr, clients, msgs, size)
	got := make(map[int]int)
	for _, pid := range owners(t, netConns(conns), pids) {
		got[pid]++
	}
	if len(got) < 2 || got[0] > 0 {
		t.Fatalf("owed clients by worker: %v; want several workers", got)
	}
	if err := termAndExpectOwed(t, p, conns, msgs, size, 15*time.Second); err != nil {
		t.Errorf("parent exit: %v; want status 0", err)
	}
	t.Logf("owed clients by worker: %v", got)
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("worker %d still running after the parent exited", pid)
		}
	}
}

// TestProcsNoOrphans: when the parent is killed with SIGKILL (it can do
// nothing), every worker notices, closes its clients with 1001 and exits.
func TestProcsNoOrphans(t *testing.T) {
	p, pids := startProcs(t, 3, "-loops", "1", "-shutdown-timeout", "2s")
	conns, _ := spread(t, p.Addr, 6, pids)
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.Done
	for _, ws := range conns {
		ws.SetDeadline(time.Now().Add(10 * time.Second))
		ws.ExpectClose(t, frame.CloseGoingAway)
	}
	if !testkit.Eventually(10*time.Second, func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("workers still running 10 s after the parent was killed")
		for _, pid := range pids {
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// TestProcsBadAddress: workers that cannot listen make the parent give up
// at once with a clear error and a non-zero exit, without restarting them.
func TestProcsBadAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0") // without SO_REUSEPORT
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct{ name, addr, want string }{
		{"port in use", taken.Addr().String(), "address already in use"},
		{"address not on this machine", "192.0.2.1:18080", "cannot assign requested address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(testkit.Binary(t), "-addr", tc.addr, "-admin-addr", "", "-procs", "3", "-loops", "1")
			done := make(chan struct{})
			var out []byte
			var runErr error
			go func() {
				out, runErr = cmd.CombinedOutput()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running after 20 s; output:\n%s", out)
			}
			var ee *exec.ExitError
			if !errors.As(runErr, &ee) || ee.ExitCode() == 0 {
				t.Errorf("exit: %v; want a non-zero status", runErr)
			}
			log := string(out)
			if !strings.Contains(log, tc.want) || !strings.Contains(log, "before it was ready; giving up") {
				t.Errorf("output lacks %q and the supervisor giving up:\n%s", tc.want, log)
			}
			if n := strings.Count(log, `msg="worker started"`); n > 3 {
				t.Errorf("%d worker starts for 3 workers: it restarted workers that cannot start\n%s", n, log)
			}
		})
	}
}

// TestProcsJSONLogs: with -log-format json every line on the parent's
// stderr is one JSON object; the workers' records carry "worker": N as
// their first field (the parent's own records are not tagged).
func TestProcsJSONLogs(t *testing.T) {
	cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "", "-procs", "2", "-loops", "1", "-log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	seen := map[int]bool{}
	timeout := time.After(20 * time.Second)
	// The workers' lines travel through pipes, the parent's does not: wait
	// for all three in any order.
	for parentReady := false; !parentReady || !seen[0] || !seen[1]; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("stderr ended before the parent's start line")
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("not a JSON line: %q: %v", line, err)
			}
			// A worker's line comes tagged first; the parent's own records
			// ("worker started", its start line) are not.
			tagged := strings.HasPrefix(line, `{"worker":`)
			switch {
			case tagged && rec["msg"] == "listening":
				seen[int(rec["worker"].(float64))] = true
			case !tagged && rec["msg"] == "listening":
				if _, ok := rec["worker"]; ok {
					t.Errorf("the parent's start line has a worker field: %q", line)
				}
				parentReady = true
			}
		case <-timeout:
			t.Fatalf("start lines within 20 s: parent %v, workers %v", parentReady, seen)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
