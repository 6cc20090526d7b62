package testkit

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

// The process-level tests build the command once per test binary and run
// it as a child process, so they can signal it and read its memory and open
// files from /proc the way an operator would.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Main runs a test package's tests and then removes the command Binary
// built: a package that runs the binary has
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// CommandPackage is the import path of the wsreactor command.
const CommandPackage = "github.com/wsreactor/wsreactor"

// Binary builds the command (without the race detector: these tests
// measure memory) once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "wsreactor-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wsreactor")
		out, err := exec.Command("go", "build", "-o", binPath, CommandPackage).CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Proc is the command running as a child process.
type Proc struct {
	Cmd   *exec.Cmd
	Addr  string
	Admin string     // admin server address from the start line, "" when off
	Done  chan error // the exit status, once

	mu  sync.Mutex
	log strings.Builder
}

// listenRE finds the address and the admin address in the start line of
// the log, text format.
var listenRE = regexp.MustCompile(`msg=listening addr=(\S+) admin_addr=("")?(\S*)`)

// ListenAddrs reads the address and the admin address ("" when off) from a
// start line of the log, text format; ok is false for any other line.
func ListenAddrs(line string) (addr, admin string, ok bool) {
	m := listenRE.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[3], true
}

// StartProc runs the command with args (plus a free loopback port, and no
// admin server unless args give -admin-addr) and waits until it listens.
// It is killed when the test ends if still running.
func StartProc(t testing.TB, args ...string) *Proc {
	t.Helper()
	return StartProcCmd(t, exec.Command(Binary(t), append([]string{"-addr", "127.0.0.1:0", "-admin-addr", ""}, args...)...))
}

// StartProcCmd is StartProc for a command line of the caller's (the
// command under a wrapper such as prlimit, which execs it: same pid).
func StartProcCmd(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{Cmd: cmd, Done: make(chan error, 1)}
	addrc := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if addr, admin, ok := ListenAddrs(line); ok {
				select { // the first one; with -procs every worker says it too
				case addrc <- [2]string{addr, admin}:
				default:
				}
			}
		}
		p.Done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() // ErrProcessDone if it has exited (ProcessState would race with Wait)
		if t.Failed() {
			t.Logf("server log:\n%s", p.LogText())
		}
	})
	select {
	case m := <-addrc:
		p.Addr, p.Admin = m[0], m[1]
		return p
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start; log:\n%s", p.LogText())
	}
	return nil
}

func (p *Proc) LogText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// RSSKB is the process's resident set size, from /proc/PID/status.
func (p *Proc) RSSKB(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
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

// OpenFiles counts the process's open file descriptors.
func (p *Proc) OpenFiles(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.PID()))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// SignalAndWait sends sig and waits up to timeout for the process to exit,
// returning its exit error (nil for status 0).
func (p *Proc) SignalAndWait(t testing.TB, sig syscall.Signal, timeout time.Duration) error {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.Done:
		return err
	case <-time.After(timeout):
		t.Fatalf("server still running %v after %v", timeout, sig)
	}
	return nil
}

// CPUTicks is the process's user plus system CPU time in clock ticks
// (usually 100 a second), from /proc/PID/stat.
func (p *Proc) CPUTicks(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID()))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return ut + st
}

// Alive fails the test if the process has exited.
func (p *Proc) Alive(t testing.TB) {
	t.Helper()
	select {
	case err := <-p.Done:
		p.Done <- err
		t.Fatalf("server exited: %v", err)
	default:
	}
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(timeout time.Duration, cond func() bool) bool {
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

// StartPiped starts cmd with its stdout and stderr on a pipe of the
// test's own and returns the pipe's read end, closed when the test ends.
// Unlike cmd.StderrPipe, whose read end Wait closes once cmd exits, the
// pipe stays readable while any process holds its write end: the
// processes a binary upgrade starts inherit it and log on after the first
// one exits.
func StartPiped(t testing.TB, cmd *exec.Cmd) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
