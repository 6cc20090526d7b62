package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The upgrade of a supervisor and its workers (Upgrade, Successor), with
// fake workers: an old worker "hands over" by writing a line into the
// handoff channel and waiting for the new worker's "ok".

const (
	handoffTestEnv = "SUPERVISOR_TEST_HANDOFF_FD" // a new worker's end
	failNewEnv     = "SUPERVISOR_TEST_FAIL_NEW"   // the index of the new worker that fails to take over
)

// handoverWorker is a worker of either generation (mode "handover").
func handoverWorker() int {
	link, _, err := Attach()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	i := link.Index()
	if v := os.Getenv(handoffTestEnv); v != "" { // a replacement
		if os.Getenv(failNewEnv) == strconv.Itoa(i) {
			return 5
		}
		fd, _ := strconv.Atoi(v)
		b := make([]byte, 64)
		n, err := unix.Read(fd, b)
		if err != nil || n == 0 {
			fmt.Fprintln(os.Stderr, "no handoff:", err)
			return 6
		}
		unix.Write(fd, []byte("ok"))
		fmt.Printf("new worker %d took over %q\n", i, b[:n])
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	link.Ready()
	for {
		select {
		case <-sig:
			fmt.Printf("worker %d stopped by SIGTERM\n", i)
			return 0
		case <-link.Gone():
			return 0
		case fd := <-link.Handoffs():
			unix.Write(fd, []byte("connections of "+strconv.Itoa(i)))
			b := make([]byte, 8)
			p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			unix.Poll(p, 10000)
			n, _ := unix.Read(fd, b)
			unix.Close(fd)
			if n == 2 && string(b[:2]) == "ok" {
				fmt.Printf("old worker %d handed over\n", i)
				return 0
			}
			fmt.Printf("old worker %d serves on\n", i)
			link.HandOverFailed()
		}
	}
}

// fakeSuccessor is the new supervisor.
func fakeSuccessor() int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	succ, err := SuccessorFromEnv(logger, 10*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 7
	}
	cfg := Config{Workers: 3, Path: os.Args[0], Logger: logger}
	succ.Configure(&cfg, handoffTestEnv)
	s, err := New(cfg)
	if err != nil {
		return 8
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		select {
		case <-s.Ready():
			if err := succ.Finish(); err == nil {
				fmt.Println("successor serves")
			}
		case <-ctx.Done():
		}
	}()
	if err := s.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func upgradeCmd(t *testing.T, out outFile, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	t.Cleanup(func() {
		if cmd.Process != nil {
			cmd.Process.Signal(syscall.SIGTERM)
			time.Sleep(500 * time.Millisecond) // its workers stop with it
			cmd.Process.Kill()
		}
	})
	return cmd
}

// waitOutput waits until out contains want.
func waitOutput(t *testing.T, out outFile, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUpgradeHandsOverEveryWorker(t *testing.T) {
	s, stdout, stderr, done := testSupervisor(t, 3, "handover", nil)
	waitReady(t, s, done)
	old := s.Workers()
	res, err := s.Upgrade(upgradeCmd(t, stdout), 10*time.Second)
	if err != nil || res.HandedOver != 3 || res.Retired != 0 {
		t.Fatalf("Upgrade: %+v, %v\n%s\n%s", res, err, stdout, stderr)
	}
	for i := range 3 {
		waitOutput(t, stdout, fmt.Sprintf("new worker %d took over \"connections of %d\"", i, i))
		waitOutput(t, stdout, fmt.Sprintf("old worker %d handed over", i))
	}
	waitOutput(t, stdout, "successor serves")
	if w := s.Workers(); len(w) != 0 {
		t.Errorf("old workers still running after the upgrade: %+v (were %+v)", w, old)
	}
}

// A new worker after the first fails to take over: the old one serves on,
// is retired (SIGTERM) at the new supervisor's word, the new worker is
// started afresh, and the upgrade goes on with the next worker.
func TestUpgradeLaterWorkerFails(t *testing.T) {
	s, stdout, stderr, done := testSupervisor(t, 3, "handover", nil)
	waitReady(t, s, done)
	res, err := s.Upgrade(upgradeCmd(t, stdout, failNewEnv+"=1"), 10*time.Second)
	if err != nil || res.HandedOver != 2 || res.Retired != 1 {
		t.Fatalf("Upgrade: %+v, %v\n%s\n%s", res, err, stdout, stderr)
	}
	waitOutput(t, stdout, "old worker 1 serves on")
	waitOutput(t, stdout, "worker 1 stopped by SIGTERM")
	waitOutput(t, stdout, `new worker 2 took over "connections of 2"`)
	waitOutput(t, stdout, "successor serves")
}

// The first new worker fails (a broken binary): the old supervisor serves
// on with every worker it had, and can be upgraded again.
func TestUpgradeFirstWorkerFails(t *testing.T) {
	s, stdout, stderr, done := testSupervisor(t, 3, "handover", nil)
	waitReady(t, s, done)
	before := s.Workers()
	res, err := s.Upgrade(upgradeCmd(t, stdout, failNewEnv+"=0"), 10*time.Second)
	if err == nil || res.HandedOver != 0 {
		t.Fatalf("Upgrade: %+v, %v; want an error\n%s\n%s", res, err, stdout, stderr)
	}
	waitOutput(t, stdout, "old worker 0 serves on")
	after := s.Workers()
	if len(after) != 3 {
		t.Fatalf("workers after the failed upgrade: %+v", after)
	}
	for i := range after {
		if after[i].PID != before[i].PID {
			t.Errorf("worker %d: pid %d, was %d", i, after[i].PID, before[i].PID)
		}
	}
	res, err = s.Upgrade(upgradeCmd(t, stdout), 10*time.Second)
	if err != nil || res.HandedOver != 3 {
		t.Fatalf("second Upgrade: %+v, %v\n%s\n%s", res, err, stdout, stderr)
	}
}
