package process

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestProcessEnvironmentAndJSONLog runs the command configured from the
// environment only, with JSON logs: the start line carries the effective
// configuration, SIGTERM gives a drain line and a stop line, exit 0.
func TestProcessEnvironmentAndJSONLog(t *testing.T) {
	bin := testkit.Binary(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "WSREACTOR_ADDR=127.0.0.1:0", "WSREACTOR_ADMIN_ADDR=", "WSREACTOR_LOOPS=1",
		"WSREACTOR_LOG_FORMAT=json", "WSREACTOR_MAX_MESSAGE=4096")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan map[string]any, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("log line is not JSON: %q", sc.Text())
				continue
			}
			lines <- m
		}
	}()
	next := func() map[string]any {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("log ended early")
			}
			return m
		case <-time.After(20 * time.Second):
			t.Fatal("no log line within 20s")
		}
		return nil
	}
	start := next()
	conf, _ := start["config"].(map[string]any)
	if start["msg"] != "listening" || start["admin_addr"] != "" || start["level"] != "INFO" || start["loops"] != float64(1) ||
		!strings.HasPrefix(start["addr"].(string), "127.0.0.1:") || conf["max-message"] != "4KiB" || conf["log-format"] != "json" {
		t.Errorf("start line = %v; want msg listening, loops 1, addr 127.0.0.1:*, config max-message 4KiB (4096 written with its unit) and log-format json", start)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for m := range lines {
		msgs = append(msgs, fmt.Sprint(m["msg"]))
	}
	if want := []string{"draining", "shutting down", "drained", "stopped"}; !slices.Equal(msgs, want) {
		t.Errorf("log after SIGTERM = %q; want %q", msgs, want)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v; want 0", err)
	}
}

// TestHelpListsEnvironment: -h names every flag's variable.
func TestHelpListsEnvironment(t *testing.T) {
	out, err := exec.Command(testkit.Binary(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	for _, want := range []string{"-addr string", "(env WSREACTOR_ADDR)", "(env WSREACTOR_MAX_MESSAGE)", "(env WSREACTOR_ADMIN_ADDR)", "(env WSREACTOR_DRAIN_DELAY)", "(env WSREACTOR_LOG_FORMAT)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("-h output lacks %q:\n%s", want, out)
		}
	}
	// A bad value in the environment: exit 2, the variable named.
	cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "")
	cmd.Env = append(os.Environ(), "WSREACTOR_MAX_MESSAGE=lots")
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), `WSREACTOR_MAX_MESSAGE="lots"`) {
		t.Errorf("with WSREACTOR_MAX_MESSAGE=lots: %v\n%s\nwant exit 2 naming the variable", err, out)
	}
}
