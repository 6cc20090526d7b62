package process

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// startProcLimited runs the command as startProc does, under an open-file
// limit of nofile (soft and hard) set by prlimit(1), which execs it.
func startProcLimited(t testing.TB, nofile int, args ...string) *testkit.Proc {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed; apt-get install util-linux")
	}
	argv := append([]string{fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--", testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", ""}, args...)
	return testkit.StartProcCmd(t, exec.Command(prlimit, argv...))
}

// TestHostileDescriptorFlood: the command under an open-file limit of 300,
// with 40 clients, flooded with 600 connections (plain TCP; a third of them
// send an upgrade request), keeps serving its earlier clients, sheds the
// flood promptly (connections closed, none left hanging), uses next to no
// CPU while more of the flood keeps coming, logs the shedding at most once
// a second, and accepts and serves new clients once descriptors free up.
// With one event loop, two, and two with a listener each (-reuse-port:
// gnet's other accept path); and issue 7's own case, which used to kill
// the server: 1,000 idle clients under a limit of 1,100, then 600 more.
func TestHostileDescriptorFlood(t *testing.T) {
	for _, tc := range []struct {
		name                string
		limit, early, flood int
		args                []string
	}{
		{"loops=1", 300, 40, 600, []string{"-loops", "1"}},
		{"loops=2", 300, 40, 600, []string{"-loops", "2"}},
		{"loops=2,reuse-port", 300, 40, 600, []string{"-loops", "2", "-reuse-port"}},
		{"issue7:1100,1000+600", 1100, 1000, 600, []string{"-loops", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) { floodPastLimit(t, tc.limit, tc.early, tc.flood, tc.args...) })
	}
}

// upgradeRequest is a valid opening handshake.
const upgradeRequest = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// floodOutcome is what became of one flood connection within a deadline.
type floodOutcome int

const (
	floodClosed   floodOutcome = iota // closed (or reset) with no response: shed
	floodAnswered                     // got an HTTP response (101 or 503)
	floodOpen                         // still open, nothing received
)

// awaitFlood reads from c until it closes, a response head arrives, or the
// deadline passes.
func awaitFlood(c net.Conn, d time.Duration) floodOutcome {
	c.SetReadDeadline(time.Now().Add(d))
	var buf [64]byte
	n, err := io.ReadAtLeast(c, buf[:], 12)
	switch {
	case n >= 12 && strings.HasPrefix(string(buf[:n]), "HTTP/1.1 "):
		return floodAnswered
	case errors.Is(err, os.ErrDeadlineExceeded):
		return floodOpen
	}
	return floodClosed
}

// floodPastLimit runs the command under an open-file limit, connects early
// WebSocket clients, floods it with flood plain TCP connections, and checks
// the limit is a ceiling, not a cliff.
func floodPastLimit(t *testing.T, limit, early, flood int, args ...string) {
	p := startProcLimited(t, limit, append(args, "-handshake-timeout", "60s", "-admin-addr", "127.0.0.1:0")...)
	if log := p.LogText(); !strings.Contains(log, fmt.Sprintf(`open_files.soft=%d open_files.hard=%d max_conns=`, limit, limit)) ||
		!regexp.MustCompile(fmt.Sprintf(`max_conns=\d+ max_conns_why="\d+ \(open-file limit %d less \d+`, limit)).MatchString(log) {
		t.Fatalf("start log does not state the limit and the derived cap:\n%s", log)
	}

	clients := make([]*testkit.WSConn, early)
	for i := range clients {
		clients[i] = testkit.OpenWS(t, p.Addr)
	}
	echoAll := func(what string) {
		t.Helper()
		for i, ws := range clients {
			if ws != nil {
				ws.Echo(t, frame.OpText, []byte(fmt.Sprintf("%s %d", what, i)))
			}
		}
	}
	echoAll("before")

	start := time.Now()
	conns := make([]net.Conn, 0, flood)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range flood {
		c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: dial: %v", i, err)
		}
		if i%3 == 0 {
			io.WriteString(c, upgradeRequest)
		}
		conns = append(conns, c)
	}
	echoAll("during")

	var (
		wg       sync.WaitGroup
		outcomes = make([]floodOutcome, flood)
	)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = awaitFlood(c, 5*time.Second)
		}()
	}
	wg.Wait()
	var shed, answered, open, hung int
	for i, o := range outcomes {
		switch o {
		case floodClosed:
			shed++
		case floodAnswered:
			answered++
		case floodOpen:
			open++
			if i%3 == 0 {
				hung++ // sent a request and got neither an answer nor a close
			}
		}
	}
	t.Logf("flood of %d: %d shed, %d answered, %d open awaiting a handshake", flood, shed, answered, open)
	if hung > 0 {
		t.Errorf("%d flood connections that sent an upgrade request got neither a response nor a close within 5s", hung)
	}
	if want := flood - (limit - early); shed < want {
		t.Errorf("%d flood connections shed; want at least %d (the flood less the descriptors the early clients left)", shed, want)
	}
	if open+answered+early > limit {
		t.Errorf("%d connections held open under a limit of %d", open+answered+early, limit)
	}
	p.Alive(t)
	echoAll("after")

	// More of the flood keeps coming while the held connections sit: each
	// is closed promptly, and the server stays near idle.
	ticks0, t0 := p.CPUTicks(t), time.Now()
	trickle := 0
	for time.Since(t0) < 2*time.Second {
		c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("trickle: dial: %v", err)
		}
		if o := awaitFlood(c, 2*time.Second); o != floodClosed {
			t.Fatalf("trickle connection %d at the limit: outcome %d; want closed at once", trickle, o)
		}
		c.Close()
		trickle++
		time.Sleep(5 * time.Millisecond)
	}
	ticks, elapsed := p.CPUTicks(t)-ticks0, time.Since(t0)
	cpu := float64(ticks) / 100 / elapsed.Seconds()
	t.Logf("%d connections shed in %v at %.0f%% of a core", trickle, elapsed.Round(time.Millisecond), 100*cpu)
	if cpu > 0.3 {
		t.Errorf("server used %.0f%% of a core while shedding %d connections in %v; a spin on the listener shows as ~100%%", 100*cpu, trickle, elapsed)
	}
	echoAll("trickle")
	p.Alive(t)

	// One line per second at most, saying how many were shed.
	lines := regexp.MustCompile(`open-file limit reached \(accept: too many open files\): shed (\d+) connections in the last 1s`).FindAllStringSubmatch(p.LogText(), -1)
	total := 0
	for _, m := range lines {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if secs := time.Since(start).Seconds(); len(lines) == 0 || float64(len(lines)) > secs+2 {
		t.Errorf("%d shed log lines in %.1fs; want at least 1 and at most one a second", len(lines), secs)
	}
	if total < shed {
		t.Errorf("log lines count %d shed; the flood alone saw %d", total, shed)
	}

	// Descriptors free up: the held flood and half the early clients go.
	for _, c := range conns {
		c.Close()
	}
	conns = conns[:0]
	for i := range early / 2 {
		clients[i].Close()
		clients[i] = nil
	}
	// What is left: the remaining early clients and the process's own
	// descriptors (about 20).
	if want := early - early/2 + 40; !testkit.Eventually(10*time.Second, func() bool { return p.OpenFiles(t) <= want }) {
		t.Fatalf("server still holds %d files after the flood went away; want at most %d", p.OpenFiles(t), want)
	}
	for i := range early / 2 {
		clients[i] = testkit.OpenWS(t, p.Addr)
	}
	echoAll("recovered")
	p.Alive(t)

	// The admin server (its own listener: at the limit it could not
	// accept either) counts what the clients saw.
	m := testkit.Scrape(t, p.Admin)
	if got := m["wsreactor_connections_shed_total{limit=open_files}"]; got < float64(shed+trickle) {
		t.Errorf("wsreactor_connections_shed_total{limit=open_files} = %v; the clients saw %d shed", got, shed+trickle)
	}
}

// TestHostileDerivedMaxConns: under an open-file limit of 120 the derived
// cap is 60 connections (the limit is too small for the headroom, so half
// of it); the 61st upgrade gets 503 with Retry-After while the 60 echo.
func TestHostileDerivedMaxConns(t *testing.T) {
	p := startProcLimited(t, 120, "-loops", "1")
	if !strings.Contains(p.LogText(), `max_conns=60 max_conns_why="60 (open-file limit 120`) {
		t.Fatalf("start log does not state the derived cap of 60:\n%s", p.LogText())
	}
	clients := make([]*testkit.WSConn, 60)
	for i := range clients {
		clients[i] = testkit.OpenWS(t, p.Addr)
	}
	resp := testkit.RawRequest(t, p.Addr, upgradeRequest)
	if !strings.HasPrefix(resp, "HTTP/1.1 503 ") || !strings.Contains(resp, "\r\nRetry-After: ") {
		t.Errorf("upgrade past the derived cap:\n%s\nwant 503 with Retry-After", resp)
	}
	for i, ws := range clients {
		ws.Echo(t, frame.OpBinary, []byte{byte(i)})
	}
}
