package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The process-level tests build the command once and run it as a child
// process, so they can signal it and read its memory and open files from
// /proc the way an operator would.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// serverBinary builds the command (without the race detector: these tests
// measure memory) and returns its path.
func serverBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "wsreactor-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wsreactor")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// serverProc is the command running as a child process.
type serverProc struct {
	cmd   *exec.Cmd
	addr  string
	admin string // admin server address from the start line, "" when off
	done  chan error

	mu  sync.Mutex
	log strings.Builder
}

// listenRE finds the address and the admin address in the start line of
// the log, text format.
var listenRE = regexp.MustCompile(`msg=listening addr=(\S+) admin_addr=("")?(\S*)`)

// startProc runs the command with args (plus a free loopback port, and no
// admin server unless args give -admin-addr) and waits until it listens.
// It is killed when the test ends if still running.
func startProc(t testing.TB, args ...string) *serverProc {
	t.Helper()
	return startProcCmd(t, exec.Command(serverBinary(t), append([]string{"-addr", "127.0.0.1:0", "-admin-addr", ""}, args...)...))
}

// startProcCmd is startProc for a command line of the caller's (the
// command under a wrapper such as prlimit, which execs it: same pid).
func startProcCmd(t testing.TB, cmd *exec.Cmd) *serverProc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, done: make(chan error, 1)}
	addrc := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select { // the first one; with -procs every worker says it too
				case addrc <- m:
				default:
				}
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() // ErrProcessDone if it has exited (ProcessState would race with Wait)
		if t.Failed() {
			t.Logf("server log:\n%s", p.logText())
		}
	})
	select {
	case m := <-addrc:
		p.addr, p.admin = m[1], m[3]
		return p
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start; log:\n%s", p.logText())
	}
	return nil
}

func (p *serverProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

// rssKB is the process's resident set size, from /proc/PID/status.
func (p *serverProc) rssKB(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// openFiles counts the process's open file descriptors.
func (p *serverProc) openFiles(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid()))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// signalAndWait sends sig and waits up to timeout for the process to exit,
// returning its exit error (nil for status 0).
func (p *serverProc) signalAndWait(t testing.TB, sig syscall.Signal, timeout time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(timeout):
		t.Fatalf("server still running %v after %v", timeout, sig)
	}
	return nil
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
