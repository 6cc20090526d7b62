package process

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestDrainDelayReadiness: on SIGTERM /readyz answers 503 at once while the
// server keeps serving (old clients echo, new clients upgrade) for
// -drain-delay; then every client gets close 1001 and the process exits 0.
// /healthz answers 200 throughout.
func TestDrainDelayReadiness(t *testing.T) {
	const delay = 3 * time.Second
	p := testkit.StartProc(t, "-loops", "1", "-admin-addr", "127.0.0.1:0", "-drain-delay", delay.String())
	if p.Admin == "" {
		t.Fatalf("no admin_addr in the start line:\n%s", p.LogText())
	}
	base := "http://" + p.Admin
	for _, tc := range []struct {
		path   string
		status int
	}{{"/healthz", 200}, {"/readyz", 200}} {
		if code, body, err := testkit.HTTPGet(base + tc.path); err != nil || code != tc.status {
			t.Fatalf("before SIGTERM: GET %s = %d %q, %v; want %d", tc.path, code, body, err, tc.status)
		}
	}
	old := testkit.OpenWS(t, p.Addr)
	old.Echo(t, frame.OpText, []byte("before"))

	start := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code, _, err := testkit.HTTPGet(base + "/readyz")
		if err == nil && code == 503 {
			break
		}
		if time.Since(start) > delay/2 {
			t.Fatalf("/readyz = %d, %v %v after SIGTERM; want 503 at once", code, err, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, err := testkit.HTTPGet(base + "/healthz"); err != nil || code != 200 {
		t.Errorf("during the drain: /healthz = %d, %v; want 200", code, err)
	}
	// Still serving during the delay.
	old.Echo(t, frame.OpText, []byte("during"))
	late := testkit.OpenWS(t, p.Addr)
	late.Echo(t, frame.OpBinary, []byte("new client during the drain delay"))
	if el := time.Since(start); el >= delay {
		t.Fatalf("the checks during the drain delay took %v, past the %v delay (machine too slow for this test?)", el, delay)
	}
	for _, ws := range []*testkit.WSConn{old, late} {
		ws.SetDeadline(time.Now().Add(delay + 10*time.Second))
		ws.ExpectClose(t, frame.CloseGoingAway)
	}
	if el := time.Since(start); el < delay-100*time.Millisecond {
		t.Errorf("close 1001 came %v after SIGTERM; want no sooner than -drain-delay %v", el, delay)
	}
	for _, ws := range []*testkit.WSConn{old, late} {
		ws.WriteFrame(true, frame.OpClose, []byte{0x03, 0xe9})
	}
	select {
	case err := <-p.Done:
		if err != nil {
			t.Errorf("server exit: %v; want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not exit")
	}
	log := p.LogText()
	for _, want := range []string{"msg=draining drain_delay=3s connections=1", "msg=drained", "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
