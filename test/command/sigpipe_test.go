package command

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestLogReaderGone: once the reader of the command's stderr is gone, the
// next log line fails to be written and the server goes on; it does not
// die of SIGPIPE, which would drop every client without a close frame
// (with -procs, the parent's death has every worker drain). The
// one-process server and the -procs parent each lose their log reader,
// serve a client after it, and on SIGTERM drain (close 1001) and exit 0.
func TestLogReaderGone(t *testing.T) {
	for _, procs := range []string{"1", "2"} {
		t.Run("procs="+procs, func(t *testing.T) {
			cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "", "-loops", "1", "-procs", procs,
				"-drain-delay", "0s", "-close-timeout", "1s")
			cmd.Env = environ()
			r := testkit.StartPiped(t, cmd)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			addr := ""
			sc := bufio.NewScanner(r)
			for addr == "" && sc.Scan() {
				if line := sc.Text(); !strings.Contains(line, "worker=") { // the parent's, once every worker serves
					addr, _, _ = testkit.ListenAddrs(line)
				}
			}
			if addr == "" {
				r.Close()
				t.Fatalf("no start line: %v", sc.Err())
			}
			r.Close() // the reader is gone: every later log line meets a broken pipe

			ws := testkit.OpenWS(t, addr)
			ws.Echo(t, frame.OpText, []byte("after the log reader left"))
			// The drain logs ("shutting down", and with -procs the
			// parent's "stopping"): each line meets the broken pipe.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			ws.ExpectClose(t, frame.CloseGoingAway)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after SIGTERM with its log reader gone: %v; want status 0", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no exit 30 s after SIGTERM")
			}
		})
	}
}
