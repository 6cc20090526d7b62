package upgrade

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// The end-to-end tests of the binary upgrade (SIGUSR2): they build the real
// binary, run it, and replace the file at its path the way an operator
// installs a new version.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinary builds the command once per test run and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsreactor-upgrade-build")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "wsreactor")
		cmd := exec.Command("go", "build", "-o", builtBin, "github.com/wsreactor/wsreactor")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// install puts a copy of src at dst as an operator would install a new
// version: written beside it, then renamed over it (a new file; a running
// process keeps the old one).
func install(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// installScript puts a shell script at dst (a broken or slow "new binary").
func installScript(t *testing.T, dst, script string) {
	t.Helper()
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// logBuf collects the log lines of a server and of the processes it
// starts by upgrades (they share its stderr).
type logBuf struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func (l *logBuf) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// count is how many lines contain s.
func (l *logBuf) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// wait waits until the n-th line containing s has been logged and returns
// it.
func (l *logBuf) wait(t *testing.T, s string, n int, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		seen := 0
		for _, line := range l.lines {
			if strings.Contains(line, s) {
				if seen++; seen == n {
					l.mu.Unlock()
					return line
				}
			}
		}
		l.mu.Unlock()
		select {
		case <-l.added:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no log line %d with %q within %v; log:\n%s", n, s, timeout, l)
		}
	}
}

// server is a running wsreactor started by a test.
type server struct {
	path   string // the executable's path (the file an upgrade runs)
	cmd    *exec.Cmd
	log    *logBuf
	addr   string
	exited chan struct{}
}

// startServer copies the built binary to a directory of its own and runs
// it from there with args (plus a port of its choosing on loopback).
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return startServerEnv(t, nil, args...)
}

// startServerEnv is startServer with more environment variables.
func startServerEnv(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	bin := buildBinary(t)
	s := &server{path: filepath.Join(t.TempDir(), "wsreactor"), log: &logBuf{added: make(chan struct{}, 1)}, exited: make(chan struct{})}
	install(t, bin, s.path)
	args = append([]string{"-addr", "127.0.0.1:0", "-admin-addr", "", "-loops", "2", "-log-level", "debug"}, args...)
	s.cmd = exec.Command(s.path, args...)
	s.cmd.Env = append(os.Environ(), env...)
	// The processes an upgrade starts inherit the pipe and log on after
	// this one exits (testkit.StartPiped).
	stderr := testkit.StartPiped(t, s.cmd)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.log.add(sc.Text())
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { s.cmd.Wait(); close(s.exited) }()
	line := s.log.wait(t, "msg=listening", 1, 30*time.Second)
	m := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	s.addr = m[1]
	t.Cleanup(func() {
		// Every process of this server: the first and those started by
		// upgrades (found by the PIDs they logged).
		for _, pid := range s.pids() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	return s
}

// pids are the processes this server has run: the first, and every new
// process an upgrade reported.
func (s *server) pids() []int {
	pids := []int{s.cmd.Process.Pid}
	for _, m := range regexp.MustCompile(`new_pid=(\d+)`).FindAllStringSubmatch(s.log.String(), -1) {
		var pid int
		fmt.Sscan(m[1], &pid)
		pids = append(pids, pid)
	}
	return pids
}

// signal sends SIGUSR2 to process pid.
func usr2(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
}

// exeOf is /proc/<pid>/exe: the file a process runs (" (deleted)" once
// that file was replaced).
func exeOf(pid int) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return "error: " + err.Error()
	}
	return p
}

// alive reports whether process pid exists (and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// newPID reads the n-th "upgrade completed" line's new_pid.
func (s *server) newPID(t *testing.T, n int) int {
	t.Helper()
	line := s.log.wait(t, "msg=\"upgrade completed\"", n, 60*time.Second)
	var pid int
	m := regexp.MustCompile(`new_pid=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no new_pid in %q", line)
	}
	fmt.Sscan(m[1], &pid)
	return pid
}

// notifySocket listens as systemd's notification socket would and
// collects the datagrams (sd_notify states) sent to it.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	n := &notifySocket{path: filepath.Join(t.TempDir(), "notify")}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

// wait returns the messages once there are at least k.
func (n *notifySocket) wait(t *testing.T, k int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n.mu.Lock()
		msgs := append([]string(nil), n.msgs...)
		n.mu.Unlock()
		if len(msgs) >= k {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("sd_notify: %d messages %q; want %d", len(msgs), msgs, k)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
