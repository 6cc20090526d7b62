package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests start this test binary as the workers: TestMain sees EnvWorker
// and plays the worker named by modeEnv instead of running the tests.
const (
	modeEnv = "SUPERVISOR_TEST_MODE"
	dirEnv  = "SUPERVISOR_TEST_DIR"
)

func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(EnvWorker); ok {
		os.Exit(fakeWorker(os.Getenv(modeEnv)))
	}
	os.Exit(m.Run())
}

// fakeWorker is a worker process: "serve" says hello on stdout and stderr,
// is ready, and exits 0 on SIGTERM or when the parent is gone; "fail" exits
// 3 at once; "hang" never gets ready; "flaky" serves on its first start and
// fails on every later one.
func fakeWorker(mode string) int {
	link, _, err := Attach()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	if mode == "flaky" {
		marker := os.Getenv(dirEnv) + "/started"
		if _, err := os.Stat(marker); err == nil {
			mode = "fail"
		} else {
			os.WriteFile(marker, nil, 0o644)
			mode = "serve"
		}
	}
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "cannot start")
		return 3
	}
	if mode == "hang" { // never ready
		select {}
	}
	fmt.Printf("hello from %d\n", link.Index())
	fmt.Fprintf(os.Stderr, "{\"msg\":\"hi\",\"i\":%d}\n", link.Index())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	link.Ready()
	select {
	case <-sig:
	case <-link.Gone():
	}
	return 0
}

// outFile is a file the workers and the supervisor's logger write to at
// once (appends to a file are safe from several writers), read back whole.
type outFile struct{ *os.File }

func newOutFile(t *testing.T) outFile {
	f, err := os.OpenFile(t.TempDir()+"/out", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return outFile{f}
}

func (o outFile) String() string {
	b, _ := os.ReadFile(o.Name())
	return string(b)
}

// testSupervisor runs a supervisor of n fake workers in mode, returning it,
// its stdout, its stderr + log, and Run's result channel; Run is stopped
// when the test ends.
func testSupervisor(t *testing.T, n int, mode string, tweak func(*Config)) (*Supervisor, outFile, outFile, *runResult) {
	t.Helper()
	t.Setenv(modeEnv, mode)
	t.Setenv(dirEnv, t.TempDir())
	stdout, stderr := newOutFile(t), newOutFile(t)
	cfg := Config{
		Workers: n,
		Path:    os.Args[0],
		Stdout:  stdout,
		Stderr:  stderr,
		Logger:  slog.New(slog.NewTextHandler(stderr, nil)),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := &runResult{done: make(chan struct{})}
	go func() {
		done.err = s.Run(ctx)
		close(done.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done.done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return")
		}
	})
	return s, stdout, stderr, done
}

// runResult is what Run returned, once done is closed.
type runResult struct {
	done chan struct{}
	err  error
}

func waitReady(t *testing.T, s *Supervisor, done *runResult) {
	t.Helper()
	select {
	case <-s.Ready():
	case <-done.done:
		t.Fatalf("Run returned before the workers were ready: %v", done.err)
	case <-time.After(20 * time.Second):
		t.Fatal("workers not ready after 20 s")
	}
}

// TestRunStopsCleanly: the workers start, are listed, their output arrives
// tagged, and cancelling Run stops them all with status 0.
func TestRunStopsCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Setenv(modeEnv, "serve")
	stdout, stderr := newOutFile(t), newOutFile(t)
	s, err := New(Config{Workers: 3, Path: os.Args[0], Stdout: stdout, Stderr: stderr, Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := &runResult{done: make(chan struct{})}
	go func() {
		done.err = s.Run(ctx)
		close(done.done)
	}()
	waitReady(t, s, done)
	ws := s.Workers()
	pids := map[int]bool{}
	for i, w := range ws {
		if w.Index != i || !w.Ready || w.PID <= 0 || w.Restarts != 0 {
			t.Errorf("Workers()[%d] = %+v", i, w)
		}
		pids[w.PID] = true
	}
	if len(ws) != 3 || len(pids) != 3 {
		t.Errorf("Workers() = %+v; want 3 distinct processes", ws)
	}
	cancel()
	select {
	case <-done.done:
		if err := done.err; err != nil {
			t.Errorf("Run = %v; want nil after a clean stop", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	for i := 0; i < 3; i++ {
		if want := fmt.Sprintf("worker=%d hello from %d\n", i, i); !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
		if want := fmt.Sprintf(`{"worker":%d,"msg":"hi","i":%d}`+"\n", i, i); !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if len(s.Workers()) != 0 {
		t.Errorf("Workers() = %+v after Run returned; want none", s.Workers())
	}
}

// TestRestartAfterKill: a worker killed with SIGKILL is logged with its
// cause and replaced within a second; the other worker is untouched.
func TestRestartAfterKill(t *testing.T) {
	s, _, log, done := testSupervisor(t, 2, "serve", nil)
	waitReady(t, s, done)
	before := s.Workers()
	killed := time.Now()
	syscall.Kill(before[0].PID, syscall.SIGKILL)
	var after []Worker
	ok := eventuallyTrue(5*time.Second, func() bool {
		after = s.Workers()
		return len(after) == 2 && after[0].PID != before[0].PID && after[0].Ready
	})
	took := time.Since(killed)
	if !ok {
		t.Fatalf("no ready replacement 5 s after the kill: %+v\n%s", after, log)
	}
	t.Logf("replacement ready %v after the kill", took)
	if took > 2*time.Second {
		t.Errorf("replacement ready %v after the kill; want within 1 s (2 s allowed on a shared machine)", took)
	}
	if after[0].Restarts != 1 || after[1].PID != before[1].PID || after[1].Restarts != 0 {
		t.Errorf("workers after the kill %+v, before %+v", after, before)
	}
	if want := fmt.Sprintf(`msg="worker died" worker=0 pid=%d cause="was killed by signal 9 (killed)"`, before[0].PID); !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
}

// TestGiveUpAtFirstStart: workers that exit before they are ready on the
// first start make Run return an error at once, without restarts.
func TestGiveUpAtFirstStart(t *testing.T) {
	_, _, log, done := testSupervisor(t, 3, "fail", nil)
	select {
	case <-done.done:
		if err := done.err; err == nil || !strings.Contains(err.Error(), "exited with status 3 before it was ready; giving up") {
			t.Errorf("Run = %v; want it to give up on status 3", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still going 20 s after its workers failed")
	}
	if n := strings.Count(log.String(), `msg="worker started"`); n > 3 {
		t.Errorf("%d starts of 3 workers:\n%s", n, log)
	}
}

// TestGiveUpAfterRepeatedFailures: a worker that served, died and then
// fails at every restart is restarted with a doubling delay, then given up
// on after MaxStartFailures failures in a row.
func TestGiveUpAfterRepeatedFailures(t *testing.T) {
	s, _, log, done := testSupervisor(t, 1, "flaky", func(c *Config) {
		c.Backoff, c.MaxStartFailures = 50*time.Millisecond, 3
	})
	waitReady(t, s, done)
	killed := time.Now()
	syscall.Kill(s.Workers()[0].PID, syscall.SIGKILL)
	select {
	case <-done.done:
		if err := done.err; err == nil || !strings.Contains(err.Error(), "3 times in a row; giving up") {
			t.Errorf("Run = %v; want it to give up after 3 failed starts", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Run still going 20 s after the worker started failing:\n%s", log)
	}
	took := time.Since(killed)
	// Restarts after 50, 100 and 200 ms; the third failure gives up.
	if n := strings.Count(log.String(), `msg="worker started" worker=0`); n != 4 {
		t.Errorf("%d starts; want 1 + 3 restarts:\n%s", n, log)
	}
	for _, d := range []string{"50ms", "100ms", "200ms"} {
		if !strings.Contains(log.String(), "restart_in="+d) {
			t.Errorf("log lacks a restart %s:\n%s", d, log)
		}
	}
	if took < 350*time.Millisecond {
		t.Errorf("gave up %v after the kill; the backoff alone is 350 ms", took)
	}
}

// TestStartTimeout: a worker that never says it is ready is killed after
// StartTimeout and counts as one that failed to start.
func TestStartTimeout(t *testing.T) {
	_, _, log, done := testSupervisor(t, 1, "hang", func(c *Config) { c.StartTimeout = 300 * time.Millisecond })
	select {
	case <-done.done:
		if err := done.err; err == nil || !strings.Contains(err.Error(), "was killed by signal 9 (killed) before it was ready; giving up") {
			t.Errorf("Run = %v; want it to give up on the killed worker", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still going 20 s after the start timeout")
	}
	if !strings.Contains(log.String(), `msg="worker not ready" worker=0`) {
		t.Errorf("log lacks the start timeout:\n%s", log)
	}
}

func eventuallyTrue(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
