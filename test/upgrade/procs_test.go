package upgrade

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// The binary upgrade with -procs: the supervisor starts the new file as a
// new supervisor, each worker hands its connections to its replacement in
// turn, then the old supervisor exits.

// procsWorkers returns the PIDs of the workers the n-th supervisor of a
// server started (its "worker started" lines, one per index, in order:
// generation n starts at line n*procs+1).
func procsWorkers(t *testing.T, s *server, procs, n int) []int {
	t.Helper()
	var pids []int
	for i := 0; i < procs; i++ {
		line := s.log.wait(t, `msg="worker started"`, n*procs+i+1, 60*time.Second)
		m := regexp.MustCompile(`worker=(\d+) pid=(\d+)`).FindStringSubmatch(line)
		if m == nil || m[1] != strconv.Itoa(i) {
			t.Fatalf("worker start line %d: %q; want worker %d", n*procs+i+1, line, i)
		}
		pid, _ := strconv.Atoi(m[2])
		pids = append(pids, pid)
	}
	return pids
}

// supervisorLine is the first line containing what that a supervisor
// logged (the workers' lines start with their tag, worker=i).
func supervisorLine(t *testing.T, s *server, what string) string {
	t.Helper()
	for n := 1; ; n++ {
		if l := s.log.wait(t, what, n, 30*time.Second); !strings.HasPrefix(l, "worker=") {
			return l
		}
	}
}

// parentOf is process pid's parent PID.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// startStreaming dials n clients (a third plain, a third permessage-deflate
// with context takeover, a third with a subprotocol) and starts them
// (stream).
func startStreaming(t *testing.T, addr string, n int) (clients []*client, stop func()) {
	t.Helper()
	for i := 0; i < n; i++ {
		switch i % 3 {
		case 0:
			clients = append(clients, dialGorilla(t, addr, i, "", false))
		case 1:
			clients = append(clients, dialCoder(t, addr, i))
		case 2:
			clients = append(clients, dialGorilla(t, addr, i, "chat", false))
		}
	}
	return clients, stream(t, clients)
}

// stream starts every client streaming until stop, which waits for them
// to end and closes their connections; it runs by itself when the test
// ends, and may be called again.
func stream(t *testing.T, clients []*client) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go c.run(done, &wg)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			for _, c := range clients {
				c.close()
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// moreRounds waits until every client has made n more round trips.
func moreRounds(t *testing.T, clients []*client, n int64, what string) {
	t.Helper()
	base := make([]int64, len(clients))
	for i, c := range clients {
		base[i] = c.rounds.Load()
	}
	deadline := time.Now().Add(120 * time.Second)
	for i, c := range clients {
		for c.err == nil && c.rounds.Load() < base[i]+n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if c.err != nil || c.rounds.Load() < base[i]+n {
			t.Fatalf("client %d (%s) %s: %d round trips, %v", c.id, c.kind, what, c.rounds.Load()-base[i], c.err)
		}
	}
}

// TestProcsUpgradeKeepsEveryConnection: -procs 3, 63 clients streaming
// sequenced messages of 16 B to 256 KiB, and one raw client cut in the
// middle of a compressed message (which holds its worker's hand-over until
// the message ends, so a second SIGUSR2 surely arrives during the
// upgrade: it is ignored). Every echo byte-exact and in order, no close;
// afterwards a new supervisor and new workers run the new file, the old
// ones are gone, systemd is told the new main PID, and the federation
// serves the new workers' upgrade metrics.
func TestProcsUpgradeKeepsEveryConnection(t *testing.T) {
	const procs = 3
	notify := listenNotify(t)
	s := startServerEnv(t, []string{"NOTIFY_SOCKET=" + notify.path}, "-procs", strconv.Itoa(procs), "-loops", "1",
		"-deflate", "-deflate-context-takeover", "-subprotocols", "chat,superchat", "-admin-addr", "127.0.0.1:0")
	oldSup := s.cmd.Process.Pid
	s.log.wait(t, `msg=listening`, procs+1, 30*time.Second) // every worker and the supervisor
	oldWorkers := procsWorkers(t, s, procs, 0)
	clients, stop := startStreaming(t, s.addr, 63)
	waitRounds(t, clients, 3)

	again := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog; ", 200))
	rc := dialRaw(t, s.addr, "Sec-WebSocket-Extensions: permessage-deflate\r\n", 0)
	f := rc.compressed(frame.OpBinary, again)
	rc.send(f[:len(f)/2])
	time.Sleep(200 * time.Millisecond) // let its worker read the first half

	install(t, buildBinary(t), s.path) // a new file at the path
	usr2(t, oldSup)
	s.log.wait(t, `msg="upgrade started" exe=`, 1, 30*time.Second)
	usr2(t, oldSup)
	s.log.wait(t, "upgrade already in progress; SIGUSR2 ignored", 1, 30*time.Second)
	rc.send(f[len(f)/2:]) // the held worker can hand over now

	line := s.log.wait(t, "workers_handed_over=", 1, 120*time.Second)
	if !strings.Contains(line, `msg="upgrade completed"`) || !strings.Contains(line, " workers_handed_over=3 ") {
		t.Fatalf("upgrade: %s", line)
	}
	newSup := s.newPID(t, procs+1) // each worker's line, then the supervisor's
	if m := regexp.MustCompile(`new_pid=(\d+)`).FindStringSubmatch(line); m == nil || m[1] != strconv.Itoa(newSup) {
		t.Fatalf("the supervisor's completion line %q is not the %d-th", line, procs+1)
	}
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the old supervisor did not exit after the upgrade")
	}
	if exe := exeOf(newSup); exe != s.path || !alive(newSup) {
		t.Fatalf("new supervisor %d runs %q (alive %v); want the new file %q", newSup, exe, alive(newSup), s.path)
	}
	newWorkers := procsWorkers(t, s, procs, 1)
	for i, pid := range newWorkers {
		if exe := exeOf(pid); exe != s.path || parentOf(pid) != newSup {
			t.Errorf("new worker %d (pid %d) runs %q, parent %d; want %q, parent %d", i, pid, exe, parentOf(pid), s.path, newSup)
		}
		if alive(oldWorkers[i]) {
			t.Errorf("old worker %d (pid %d) still runs", i, oldWorkers[i])
		}
	}
	if got, want := fmt.Sprintf("%q", notify.wait(t, 2)[:2]), fmt.Sprintf("%q", []string{"READY=1", fmt.Sprintf("MAINPID=%d\nREADY=1", newSup)}); got != want {
		t.Errorf("sd_notify messages %s; want %s", got, want)
	}

	if got := rc.readMessage(); !bytes.Equal(got, again) {
		t.Errorf("compressed message cut at the upgrade: echo of %d bytes differs", len(got))
	}
	rc.send(rc.compressed(frame.OpBinary, again))
	if got := rc.readMessage(); !bytes.Equal(got, again) {
		t.Errorf("compressed message after the upgrade: echo of %d bytes differs", len(got))
	}
	moreRounds(t, clients, 3, "after the upgrade")
	stop()
	total := int64(0)
	for _, c := range clients {
		if c.err != nil {
			t.Error(c.err)
		}
		total += c.rounds.Load()
	}
	handed := 0
	for n := 1; n <= procs; n++ {
		m := regexp.MustCompile(`handed_over=(\d+)`).FindStringSubmatch(s.log.wait(t, `msg="upgrade completed"`, n, time.Second))
		if m != nil {
			k, _ := strconv.Atoi(m[1])
			handed += k
		}
	}
	if handed != 64 {
		t.Errorf("the workers handed over %d connections; want all 64", handed)
	}
	fresh := dialGorilla(t, s.addr, 1000, "", false)
	if got, _, err := fresh.roundTr(false, []byte("after")); err != nil || string(got) != "after" {
		t.Fatalf("new connection after the upgrade: %q, %v", got, err)
	}
	fresh.close()

	// The new supervisor's admin server: ready, and the new workers'
	// upgrade metrics federated.
	admLine := supervisorLine(t, s, `msg="admin listening"`)
	addr := regexp.MustCompile(`admin_addr=(\S+)`).FindStringSubmatch(admLine)[1]
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("new supervisor's /readyz: %v, %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	metrics := scrape(t, admLine)
	sum := 0
	for i := 0; i < procs; i++ {
		w := `worker="` + strconv.Itoa(i) + `"`
		if !regexp.MustCompile(`wsreactor_upgrades_total\{[^}]*result="completed"[^}]*` + w + `[^}]*\} 1\n`).MatchString(metrics) {
			t.Errorf("federated metrics lack worker %d's completed upgrade", i)
		}
		if m := regexp.MustCompile(`wsreactor_upgrade_connections_handed_over_total\{` + w + `\} (\d+)`).FindStringSubmatch(metrics); m != nil {
			k, _ := strconv.Atoi(m[1])
			sum += k
		}
	}
	if sum != 64 {
		t.Errorf("federated wsreactor_upgrade_connections_handed_over_total sums to %d; want 64", sum)
	}
	t.Logf("%d round trips by %d clients; %s", total, len(clients), line)
}

// TestProcsUpgradeFailureKeepsServing: a "new binary" that exits 1 fails a
// -procs upgrade; the old supervisor and every old worker serve on.
func TestProcsUpgradeFailureKeepsServing(t *testing.T) {
	const procs = 3
	s := startServer(t, "-procs", strconv.Itoa(procs), "-loops", "1", "-admin-addr", "127.0.0.1:0",
		"-deflate", "-deflate-context-takeover", "-subprotocols", "chat,superchat")
	oldSup := s.cmd.Process.Pid
	supLine := supervisorLine(t, s, `msg=listening`)
	oldWorkers := procsWorkers(t, s, procs, 0)
	clients, stop := startStreaming(t, s.addr, 9)
	waitRounds(t, clients, 2)

	installScript(t, s.path, "exit 1")
	usr2(t, oldSup)
	s.log.wait(t, `msg="upgrade failed; this process keeps serving"`, 1, 60*time.Second)
	moreRounds(t, clients, 3, "after the failed upgrade")
	if !alive(oldSup) {
		t.Fatal("the old supervisor exited after a failed upgrade")
	}
	for i, pid := range oldWorkers {
		if !alive(pid) {
			t.Errorf("old worker %d (pid %d) is gone after a failed upgrade", i, pid)
		}
	}
	if n := s.log.count(`msg="worker started"`); n != procs {
		t.Errorf("%d worker starts; want %d (none restarted or replaced)", n, procs)
	}
	addr := regexp.MustCompile(`admin_addr=(\S+)`).FindStringSubmatch(supLine)[1]
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("old supervisor's /readyz after the failed upgrade: %v, %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	fresh := dialGorilla(t, s.addr, 100, "", false)
	if got, _, err := fresh.roundTr(false, []byte("still here")); err != nil || string(got) != "still here" {
		t.Fatalf("new connection after the failed upgrade: %q, %v", got, err)
	}
	fresh.close()
	stop()
	for _, c := range clients {
		if c.err != nil {
			t.Error(c.err)
		}
	}
}

// TestProcsWorkerIgnoresUSR2: SIGUSR2 to a worker is logged and ignored
// (its supervisor upgrades it); the signal's default action would kill it.
func TestProcsWorkerIgnoresUSR2(t *testing.T) {
	s := startServer(t, "-procs", "2", "-loops", "1")
	s.log.wait(t, "msg=listening", 3, 30*time.Second) // the workers handle SIGUSR2 from before they listen
	workers := procsWorkers(t, s, 2, 0)
	c := dialGorilla(t, s.addr, 0, "", false)
	defer c.close()
	for _, pid := range workers {
		usr2(t, pid)
	}
	s.log.wait(t, "SIGUSR2 ignored: a -procs worker", 2, 30*time.Second)
	if got, _, err := c.roundTr(false, []byte("after")); err != nil || string(got) != "after" {
		t.Fatalf("echo after SIGUSR2 to the workers: %q, %v", got, err)
	}
	for _, pid := range workers {
		if !alive(pid) {
			t.Errorf("worker %d died of SIGUSR2", pid)
		}
	}
}
