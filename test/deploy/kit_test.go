// Package deploy_test checks what deploy/ ships (the systemd unit, the
// container image, the Kubernetes manifests, the Prometheus rules, the
// Grafana dashboard, the HAProxy configuration) with the tools operators
// run them with, against a wsreactor binary built from this module.
//
// A tool that is missing skips its test with the reason; on CI (CI set),
// where ./test.sh installs every one of them, a missing tool fails.
package deploy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// repoRoot is the module's root directory, found by walking up to go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// deployPath is a path under the repository's deploy/ directory.
func deployPath(t testing.TB, elem ...string) string {
	return filepath.Join(append([]string{repoRoot(t), "deploy"}, elem...)...)
}

// TestMain removes the command testkit.Binary built.
func TestMain(m *testing.M) { testkit.Main(m) }

// needTool returns the path of a command-line tool, or skips the test
// saying which package provides it; on CI, where ./test.sh installs it, its
// absence fails the test.
func needTool(t testing.TB, name, debPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	testkit.SkipMissing(t, fmt.Sprintf("%s not found: %v; apt-get install %s (or run ./test.sh)", name, err, debPackage))
	return ""
}

// server is a running wsreactor process.
type server struct {
	WS, Admin string // the addresses it listens on
	cmd       *exec.Cmd
	exited    chan struct{} // closed when the process has exited
	err       error         // its exit status, once exited is closed

	logMu   sync.Mutex
	logTail []string // its last 200 log lines (and its successors')
}

// logs returns the last lines the server (and any process that inherited
// its stderr: an upgrade's successor and the workers) wrote, for a
// failure's message.
func (s *server) logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return strings.Join(s.logTail, "\n")
}

// startServer runs the built binary with args (plus -log-format json) and
// env, and waits for its start line: the listening line of the process
// itself (with -procs, the parent's, logged once every worker listens).
// It is stopped with SIGTERM at the end of the test.
func startServer(t testing.TB, bin string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append(args, "-log-format", "json")...)
	cmd.Env = append(os.Environ(), env...)
	// Not StderrPipe, whose read end Wait closes once this process exits:
	// a supervisor an upgrade started inherits the write end and logs on
	// (testkit.StartPiped). Before the command ignored SIGPIPE, the new
	// supervisor died of it at its next line and its workers closed every
	// client with 1001 (a CI failure of TestSystemdReloadKeepsServing).
	stderr := testkit.StartPiped(t, cmd)
	s := &server{cmd: cmd, exited: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		seen := false
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			if s.logTail = append(s.logTail, line); len(s.logTail) > 200 {
				s.logTail = s.logTail[1:]
			}
			s.logMu.Unlock()
			var rec map[string]any
			if seen || json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "listening" || rec["worker"] != nil {
				continue
			}
			// The first start line only: after a binary upgrade the new
			// supervisor, which inherits this stderr, says it again.
			seen = true
			s.WS, _ = rec["addr"].(string)
			s.Admin, _ = rec["admin_addr"].(string)
			close(started)
		}
		io.Copy(io.Discard, stderr) // a line past the scanner's buffer: keep the pipe drained
	}()
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("the log of wsreactor %q (and of processes that inherited its stderr), last lines:\n%s", args, s.logs())
		}
	})
	select {
	case <-started:
	case <-s.exited:
		t.Fatalf("wsreactor %q exited before listening: %v", args, s.err)
	case <-time.After(30 * time.Second):
		t.Fatalf("wsreactor %q: no listening line in 30 s", args)
	}
	return s
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (s *server) stop(t testing.TB) {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.wait(t, 30*time.Second)
}

// wait waits up to d for the process to exit and returns its error; past
// d it kills the process and fails the test.
func (s *server) wait(t testing.TB, d time.Duration) error {
	select {
	case <-s.exited:
	case <-time.After(d):
		s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("wsreactor did not exit within %v", d)
	}
	return s.err
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// echo opens n WebSocket connections to addr, has each echo one message,
// and returns them open (closed at the end of the test).
func echo(t testing.TB, addr string, n int) []*websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var conns []*websocket.Conn
	for i := range n {
		c, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		t.Cleanup(func() { c.CloseNow() })
		msg := fmt.Sprintf("deploy test message %d", i)
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("write: %v", err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(got) != msg {
			t.Fatalf("echo of %q = %v %q, %v; want text %q", msg, typ, got, err, msg)
		}
		conns = append(conns, c)
	}
	return conns
}

// scrape returns the metric names (the part before "{" or " ") of the
// sample lines of http://admin/metrics: the names PromQL selects, a
// histogram's _bucket series included (testkit.Scrape keeps only its
// _count and _sum).
func scrape(t testing.TB, admin string) map[string]bool {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

var envName = regexp.MustCompile(`\(env (WSREACTOR_[A-Z0-9_]+)\)`)

// flagEnv returns the WSREACTOR_* variable of every flag, from the
// binary's -h, mapped to the flag's name.
func flagEnv(t testing.TB, bin string) map[string]string {
	t.Helper()
	out, _ := exec.Command(bin, "-h").CombinedOutput() // -h exits 0 or 2
	flagLine := regexp.MustCompile(`^\s+-([a-z0-9-]+)`)
	vars := map[string]string{}
	flag := ""
	for _, line := range strings.Split(string(out), "\n") {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			flag = m[1]
		}
		if m := envName.FindStringSubmatch(line); m != nil {
			vars[m[1]] = flag
		}
	}
	if len(vars) < 10 {
		t.Fatalf("%s -h lists %d WSREACTOR_* variables; want every flag's:\n%s", bin, len(vars), out)
	}
	return vars
}

// checkEnvNames fails for each WSREACTOR_* name in names that is no flag's
// variable (the server ignores unknown ones, so a typo would go unseen).
func checkEnvNames(t testing.TB, where string, names []string, vars map[string]string) {
	t.Helper()
	for _, n := range names {
		if strings.HasPrefix(n, "WSREACTOR_") && vars[n] == "" {
			t.Errorf("%s sets %s, which is no flag's variable (wsreactor -h)", where, n)
		}
	}
}
