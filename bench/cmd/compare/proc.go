package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// proc is a started server process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
}

// pinned prefixes argv with taskset so that it runs on cpu only; cpu < 0
// leaves it unpinned. taskset execs the command, so the process keeps the
// PID that Start returns.
func pinned(cpu int, argv []string) []string {
	if cpu < 0 {
		return argv
	}
	return append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
}

// serverEnv are NAME=VALUE pairs added to every server's environment
// (-server-env), not to wsload's: GODEBUG=gctrace=1, GOGC, GOMAXPROCS for
// experiments on the servers alone.
var serverEnv []string

// startServer starts argv with -addr addr -loops 1 on cpu, its output going
// to logPath.
func startServer(name string, argv []string, addr string, cpu int, logPath string) (*proc, error) {
	full := pinned(cpu, append(append([]string{}, argv...), "-addr", addr, "-loops", "1"))
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("compare: %v", err)
	}
	fmt.Fprintf(logFile, "\n=== %s %q\n", time.Now().Format(time.RFC3339), full)
	cmd := exec.Command(full[0], full[1:]...)
	if len(serverEnv) > 0 {
		cmd.Env = append(os.Environ(), serverEnv...)
		fmt.Fprintf(logFile, "=== environment added: %q\n", serverEnv)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("compare: start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the server's process id (taskset has exec'd it).
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitAccept waits until addr accepts a TCP connection, the process exits,
// or timeout passes.
func (p *proc) waitAccept(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return fmt.Errorf("compare: %s exited before accepting (%v): %s", p.name, p.waitErr, logTail(p.logPath, 400))
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("compare: %s did not accept on %s within %v: %v", p.name, addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server: SIGTERM, then SIGKILL after grace. It returns an
// error if the process had already exited on its own (it crashed during the
// run).
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return fmt.Errorf("compare: %s exited during the run (%v): %s", p.name, p.waitErr, logTail(p.logPath, 400))
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// freeAddr returns a loopback address with a port that is free now, so that
// each server start gets a fresh port (no TIME_WAIT left by the previous).
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("compare: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// runCmd runs argv with a timeout, returning stdout; stderr is appended to
// logPath. A non-zero exit still returns what was printed.
func runCmd(ctx context.Context, argv []string, logPath string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("compare: %v", err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "\n=== %s %q\n", time.Now().Format(time.RFC3339), argv)
	cmd.Stderr = logFile
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out: %v", err)
	}
	return stdout.Bytes(), err
}

// logTail returns the last n bytes of a log file, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return fmt.Sprintf("%q", bytes.TrimSpace(b))
}
