package command

import (
	"errors"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestDefaultAdminPortTaken: with 127.0.0.1:9090 (the default -admin-addr)
// held, the command warns, naming the two ways out, and serves WebSockets
// without the admin server. The test holds the port itself; when another
// program holds it, the test cannot know it stays held until the command
// starts, so it skips rather than race.
func TestDefaultAdminPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:9090")
	if errors.Is(err, syscall.EADDRINUSE) {
		t.Skip("127.0.0.1:9090 is held by another program, which may let it go at any moment")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-loops", "1") // no -admin-addr
	cmd.Env = environ()
	p := testkit.StartProcCmd(t, cmd)
	log := p.LogText()
	for _, want := range []string{
		`level=WARN msg="admin server not started: its default address is taken; serving WebSockets without /metrics, /healthz and /readyz" admin_addr=127.0.0.1:9090`,
		"address already in use",
		`-admin-addr 127.0.0.1:0 picks a free port`, `-admin-addr '' turns the admin server off`,
		`msg=listening addr=127.0.0.1:`, `admin_addr=""`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	ws := testkit.OpenWS(t, p.Addr)
	ws.Echo(t, frame.OpText, []byte("served anyway"))
	if err := p.SignalAndWait(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// TestExplicitAdminPortTaken: an admin address given explicitly, on the
// command line or in the environment, that cannot be listened on ends the
// command with status 1 and "start failed" (not "stopped": it never
// served).
func TestExplicitAdminPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	for _, tc := range []struct {
		args []string
		env  []string
	}{
		{[]string{"-admin-addr", busy}, nil},
		{nil, []string{"WSREACTOR_ADMIN_ADDR=" + busy}},
	} {
		out, code := runToExit(t, append([]string{"-addr", "127.0.0.1:0", "-loops", "1"}, tc.args...), tc.env)
		if code != 1 {
			t.Errorf("%q %q with %s taken: exit status %d; want 1\n%s", tc.args, tc.env, busy, code, out)
		}
		if s := out; !strings.Contains(s, `level=ERROR msg="start failed" err="admin: listen on \"`+busy+`\"`) ||
			strings.Contains(s, "msg=stopped") || strings.Contains(s, "msg=listening") {
			t.Errorf("%q %q with %s taken wrote:\n%s\nwant one start failed line", tc.args, tc.env, busy, s)
		}
	}
}
