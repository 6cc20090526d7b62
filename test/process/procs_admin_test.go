package process

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// procsAdminRE finds the parent's start line and its admin address.
var procsAdminRE = regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=listening addr=\S+ admin_addr=(\S+) procs=`)

// sumSeries adds the values of the flattened series (see scrape) named name
// whose labels include every one of with ("type=text").
func sumSeries(m map[string]float64, name string, with ...string) (sum float64, n int) {
	for key, v := range m {
		if key != name && !strings.HasPrefix(key, name+"{") {
			continue
		}
		ok := true
		for _, l := range with {
			if !strings.Contains(key, l) {
				ok = false
			}
		}
		if ok {
			sum += v
			n++
		}
	}
	return sum, n
}

// TestProcsAdmin: with -procs 2 the parent serves the one admin address:
// /metrics has every worker's series labelled worker="i" (they add up to
// the traffic sent) and the parent's own as worker="parent"; /readyz turns
// 503 at SIGTERM while the workers keep serving for -drain-delay.
func TestProcsAdmin(t *testing.T) {
	p := testkit.StartProc(t, "-procs", "2", "-loops", "1", "-admin-addr", "127.0.0.1:0", "-drain-delay", "2s")
	var admin string
	if !testkit.Eventually(20*time.Second, func() bool {
		m := procsAdminRE.FindStringSubmatch(p.LogText())
		if m != nil {
			admin = m[1]
		}
		return m != nil
	}) {
		t.Fatalf("no parent start line; log:\n%s", p.LogText())
	}
	base := "http://" + admin
	if code, _, err := testkit.HTTPGet(base + "/readyz"); err != nil || code != 200 {
		t.Fatalf("/readyz = %d, %v; want 200 once every worker serves", code, err)
	}
	const clients = 6
	conns := make([]*testkit.WSConn, clients)
	for i := range conns {
		conns[i] = testkit.OpenWS(t, p.Addr)
		conns[i].Echo(t, frame.OpText, []byte("hello"))
	}
	m := testkit.Scrape(t, admin)
	for _, c := range []struct {
		name string
		with []string
		sum  float64
		n    int
	}{
		{"wsreactor_messages_received_total", []string{"type=text"}, clients, 2},
		{"wsreactor_received_bytes_total", []string{"type=text"}, 5 * clients, 2},
		{"wsreactor_connections_open", nil, clients, 2},
		{"wsreactor_admin_target_up", nil, 2, 2},
		{"process_open_fds", []string{"worker=parent"}, -1, 1},
		{"go_goroutines", nil, -1, 3},
	} {
		sum, n := sumSeries(m, c.name, c.with...)
		if n != c.n || (c.sum >= 0 && sum != c.sum) {
			t.Errorf("%s %v: %d series summing to %v; want %d series (one per process) summing to %v", c.name, c.with, n, sum, c.n, c.sum)
		}
	}

	start := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !testkit.Eventually(time.Second, func() bool { code, _, err := testkit.HTTPGet(base + "/readyz"); return err == nil && code == 503 }) {
		t.Fatalf("/readyz not 503 within 1s of SIGTERM")
	}
	conns[0].Echo(t, frame.OpText, []byte("still served during the drain delay"))
	if el := time.Since(start); el >= 2*time.Second {
		t.Fatalf("checks during the drain delay took %v (machine too slow?)", el)
	}
	for _, ws := range conns {
		ws.SetDeadline(time.Now().Add(15 * time.Second))
		ws.ExpectClose(t, frame.CloseGoingAway)
		ws.WriteFrame(true, frame.OpClose, []byte{0x03, 0xe9})
	}
	select {
	case err := <-p.Done:
		if err != nil {
			t.Errorf("parent exit: %v; want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("parent did not exit")
	}
}
