package main

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// httpGet fetches url and returns the status and body; err for no answer.
func httpGet(url string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestDrainDelayReadiness: on SIGTERM /readyz answers 503 at once while the
// server keeps serving (old clients echo, new clients upgrade) for
// -drain-delay; then every client gets close 1001 and the process exits 0.
// /healthz answers 200 throughout.
func TestDrainDelayReadiness(t *testing.T) {
	const delay = 3 * time.Second
	p := startProc(t, "-loops", "1", "-admin-addr", "127.0.0.1:0", "-drain-delay", delay.String())
	if p.admin == "" {
		t.Fatalf("no admin_addr in the start line:\n%s", p.logText())
	}
	base := "http://" + p.admin
	for _, tc := range []struct {
		path   string
		status int
	}{{"/healthz", 200}, {"/readyz", 200}} {
		if code, body, err := httpGet(base + tc.path); err != nil || code != tc.status {
			t.Fatalf("before SIGTERM: GET %s = %d %q, %v; want %d", tc.path, code, body, err, tc.status)
		}
	}
	old := openWS(t, p.addr)
	old.echo(t, frame.OpText, []byte("before"))

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code, _, err := httpGet(base + "/readyz")
		if err == nil && code == 503 {
			break
		}
		if time.Since(start) > delay/2 {
			t.Fatalf("/readyz = %d, %v %v after SIGTERM; want 503 at once", code, err, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, err := httpGet(base + "/healthz"); err != nil || code != 200 {
		t.Errorf("during the drain: /healthz = %d, %v; want 200", code, err)
	}
	// Still serving during the delay.
	old.echo(t, frame.OpText, []byte("during"))
	late := openWS(t, p.addr)
	late.echo(t, frame.OpBinary, []byte("new client during the drain delay"))
	if el := time.Since(start); el >= delay {
		t.Fatalf("the checks during the drain delay took %v, past the %v delay (machine too slow for this test?)", el, delay)
	}
	for _, ws := range []*wsConn{old, late} {
		ws.SetDeadline(time.Now().Add(delay + 10*time.Second))
		ws.expectClose(t, frame.CloseGoingAway)
	}
	if el := time.Since(start); el < delay-100*time.Millisecond {
		t.Errorf("close 1001 came %v after SIGTERM; want no sooner than -drain-delay %v", el, delay)
	}
	for _, ws := range []*wsConn{old, late} {
		ws.writeFrame(true, frame.OpClose, []byte{0x03, 0xe9})
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("server exit: %v; want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not exit")
	}
	log := p.logText()
	for _, want := range []string{"msg=draining drain_delay=3s connections=1", "msg=drained", "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
