package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Config configures a Supervisor. Zero fields take the defaults named.
type Config struct {
	// Workers is the number of worker processes (at least 1).
	Workers int
	// Path is the executable to start. Default: os.Executable(), this
	// program.
	Path string
	// Args returns worker i's arguments (without the program name). It is
	// called at every start of worker i, restarts included.
	Args func(i int) []string
	// Stdout and Stderr receive the workers' output, each line tagged with
	// its worker (see tagger). Default os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Logger receives the supervisor's own records: "worker started"
	// (worker, pid), "worker died" (worker, pid, cause, lived, restart_in),
	// "worker not ready" and "worker killed" (worker, pid, after). Default
	// slog.Default().
	Logger *slog.Logger
	// StopTimeout is how long Run waits for the workers after sending them
	// SIGTERM before it kills the rest with SIGKILL. Set it a little past
	// the workers' own drain time. Default 15 s.
	StopTimeout time.Duration
	// StartTimeout is how long a worker has to become ready; past it, it is
	// killed and counted as a failed start. Default 30 s.
	StartTimeout time.Duration
	// Backoff is the delay before the first restart of a worker that died
	// within Stable of its start; it doubles with every further such death
	// in a row, up to MaxBackoff. A worker that ran for Stable or longer is
	// restarted at once. Defaults 100 ms, 10 s, 10 s: a worker that keeps
	// crashing is restarted 4 times in the first 1.5 s, then every 10 s at
	// most.
	Backoff, MaxBackoff, Stable time.Duration
	// MaxStartFailures is how many times in a row a worker may exit before it
	// is ready (after the first start, when one such exit is enough) before
	// the supervisor gives up. Default 5.
	MaxStartFailures int
}

func (c *Config) normalize() error {
	if c.Workers < 1 {
		return fmt.Errorf("supervisor: %d workers: need at least 1", c.Workers)
	}
	if c.Path == "" {
		p, err := os.Executable()
		if err != nil {
			return fmt.Errorf("supervisor: finding this program to start workers: %w", err)
		}
		c.Path = p
	}
	if c.Args == nil {
		c.Args = func(int) []string { return nil }
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.StopTimeout, 15*time.Second)
	def(&c.StartTimeout, 30*time.Second)
	def(&c.Backoff, 100*time.Millisecond)
	def(&c.MaxBackoff, 10*time.Second)
	def(&c.Stable, 10*time.Second)
	if c.MaxStartFailures <= 0 {
		c.MaxStartFailures = 5
	}
	return nil
}

// Worker describes one live worker process, as Workers reports it.
type Worker struct {
	Index    int       // 0 to Workers-1; a restarted worker keeps its index
	PID      int       // its process id
	Started  time.Time // when this process was started
	Ready    bool      // it has said it serves
	Restarts int       // how many times this index has been restarted
}

// Supervisor starts and keeps the worker processes. Create it with New and
// run it with Run; Workers and Ready are safe from any goroutine.
type Supervisor struct {
	cfg    Config
	events chan event
	ready  chan struct{}
	done   chan struct{} // closed when Run returns
	spawn  *spawner
	outMu  sync.Mutex // one line at a time on Stdout
	errMu  sync.Mutex // and on Stderr

	mu    sync.Mutex
	slots []*slot
}

// New checks cfg and returns a Supervisor.
func New(cfg Config) (*Supervisor, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	s := &Supervisor{
		cfg:    cfg,
		events: make(chan event, 2*cfg.Workers+4),
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
		slots:  make([]*slot, cfg.Workers),
	}
	for i := range s.slots {
		s.slots[i] = &slot{index: i}
	}
	return s, nil
}

// Ready is closed once every worker has become ready for the first time.
func (s *Supervisor) Ready() <-chan struct{} { return s.ready }

// Workers returns the live workers (started and not yet reaped), by index.
func (s *Supervisor) Workers() []Worker {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Worker
	for _, sl := range s.slots {
		if sl.cmd != nil {
			out = append(out, Worker{sl.index, sl.pid, sl.started, sl.ready, sl.restarts})
		}
	}
	return out
}

// slot is one worker index and the process currently filling it. Fields are
// written by Run's goroutine under Supervisor.mu.
type slot struct {
	index    int
	gen      int // generation of the current process, to drop stale events
	cmd      *exec.Cmd
	pid      int
	started  time.Time
	ready    bool
	everUp   bool // some process of this slot has been ready
	failures int  // deaths in a row within Stable of the start
	unready  int  // exits in a row before ready
	restarts int
	timer    *time.Timer // pending restart or start timeout
}

type eventKind int

const (
	evReady eventKind = iota
	evExit
	evRestart
	evStartTimeout
)

type event struct {
	kind eventKind
	slot int
	gen  int
	err  error // evExit: what Wait said
}

// Run starts the workers and supervises them until ctx is done, then stops
// them (SIGTERM, and SIGKILL past StopTimeout) and returns once all have
// exited: nil if all exited with status 0. It returns an error without
// waiting for ctx when a worker cannot start (see Config.MaxStartFailures),
// after stopping the others. Call it once.
func (s *Supervisor) Run(ctx context.Context) error {
	s.spawn = newSpawner()
	defer s.spawn.close()
	defer close(s.done)
	for _, sl := range s.slots {
		if err := s.start(sl); err != nil {
			return s.stopAll(err)
		}
	}
	allReady := false
	for {
		select {
		case <-ctx.Done():
			return s.stopAll(nil)
		case ev := <-s.events:
			sl := s.slots[ev.slot]
			if ev.gen != sl.gen {
				continue
			}
			switch ev.kind {
			case evReady:
				s.mu.Lock()
				sl.ready, sl.everUp, sl.unready = true, true, 0
				s.mu.Unlock()
				stopTimer(sl)
				if !allReady && s.allReady() {
					allReady = true
					close(s.ready)
				}
			case evStartTimeout:
				if !sl.ready && sl.cmd != nil {
					s.cfg.Logger.Warn("worker not ready", "worker", sl.index, "pid", sl.pid, "after", s.cfg.StartTimeout.String())
					sl.cmd.Process.Kill()
				}
			case evExit:
				if err := s.died(sl, ev.err, allReady); err != nil {
					return s.stopAll(err)
				}
			case evRestart:
				if err := s.start(sl); err != nil {
					return s.stopAll(err)
				}
			}
		}
	}
}

// send delivers an event to Run, or drops it once Run has returned.
func (s *Supervisor) send(ev event) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

func (s *Supervisor) allReady() bool {
	for _, sl := range s.slots {
		if !sl.ready {
			return false
		}
	}
	return true
}

// died handles the exit of slot sl's process: log it, and schedule a restart
// with backoff, or return the error that makes Run give up.
func (s *Supervisor) died(sl *slot, waitErr error, allReady bool) error {
	stopTimer(sl)
	lived := time.Since(sl.started)
	wasReady := sl.ready
	s.mu.Lock()
	pid := sl.pid
	sl.cmd, sl.ready = nil, false
	s.mu.Unlock()
	cause := exitCause(waitErr)
	if !wasReady {
		sl.unready++
		switch {
		case !allReady && !sl.everUp:
			return fmt.Errorf("supervisor: worker %d (pid %d) %s before it was ready; giving up", sl.index, pid, cause)
		case sl.unready >= s.cfg.MaxStartFailures:
			return fmt.Errorf("supervisor: worker %d (pid %d) %s before it was ready, %d times in a row; giving up", sl.index, pid, cause, sl.unready)
		}
	}
	delay := time.Duration(0) // a worker that ran Stable is restarted at once
	if lived >= s.cfg.Stable {
		sl.failures = 0
	} else {
		delay = min(s.cfg.Backoff<<min(sl.failures, 20), s.cfg.MaxBackoff)
		sl.failures++
	}
	s.cfg.Logger.Warn("worker died", "worker", sl.index, "pid", pid, "cause", cause,
		"lived", lived.Round(time.Millisecond).String(), "restart_in", delay.String())
	gen := sl.gen
	sl.timer = time.AfterFunc(delay, func() { s.send(event{kind: evRestart, slot: sl.index, gen: gen}) })
	return nil
}

// exitCause describes how a process ended, for the log.
func exitCause(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by signal " + strconv.Itoa(int(ws.Signal())) + " (" + ws.Signal().String() + ")"
		}
		return "exited with status " + strconv.Itoa(ee.ExitCode())
	}
	if err != nil {
		return "failed: " + err.Error()
	}
	return "exited with status 0"
}

func stopTimer(sl *slot) {
	if sl.timer != nil {
		sl.timer.Stop()
		sl.timer = nil
	}
}

// start starts a process for slot sl.
func (s *Supervisor) start(sl *slot) error {
	stopTimer(sl)
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("supervisor: worker %d: link: %w", sl.index, err)
	}
	syscall.SetNonblock(pair[0], true) // our end waits in the poller, not on a thread
	ours, theirs := os.NewFile(uintptr(pair[0]), "worker-link"), os.NewFile(uintptr(pair[1]), "worker-link")
	outT := newTagger(&s.outMu, s.cfg.Stdout, sl.index)
	errT := newTagger(&s.errMu, s.cfg.Stderr, sl.index)
	cmd := exec.Command(s.cfg.Path, s.cfg.Args(sl.index)...)
	cmd.Env = append(os.Environ(), EnvWorker+"="+strconv.Itoa(sl.index))
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stdout, cmd.Stderr = outT, errT
	cmd.WaitDelay = time.Second // a grandchild holding the pipes cannot stall Wait
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	err = s.spawn.start(cmd)
	theirs.Close()
	if err != nil {
		ours.Close()
		return fmt.Errorf("supervisor: starting worker %d (%s): %w", sl.index, s.cfg.Path, err)
	}
	s.mu.Lock()
	if sl.started != (time.Time{}) {
		sl.restarts++
	}
	sl.gen++
	sl.cmd, sl.pid, sl.started, sl.ready = cmd, cmd.Process.Pid, time.Now(), false
	gen := sl.gen
	s.mu.Unlock()
	s.cfg.Logger.Info("worker started", "worker", sl.index, "pid", sl.pid)
	sl.timer = time.AfterFunc(s.cfg.StartTimeout, func() {
		s.send(event{kind: evStartTimeout, slot: sl.index, gen: gen})
	})
	go func() {
		var b [1]byte
		if n, _ := ours.Read(b[:]); n == 1 && b[0] == readyByte {
			s.send(event{kind: evReady, slot: sl.index, gen: gen})
		}
	}()
	go func() {
		err := cmd.Wait()
		outT.Close()
		errT.Close()
		ours.Close()
		s.send(event{kind: evExit, slot: sl.index, gen: gen, err: err})
	}()
	return nil
}

// stopAll sends SIGTERM to every live worker, cancels pending restarts,
// waits for all to exit (SIGKILL past StopTimeout) and returns cause, or if
// cause is nil an error naming the workers that did not exit with status 0.
func (s *Supervisor) stopAll(cause error) error {
	live := 0
	for _, sl := range s.slots {
		stopTimer(sl)
		if sl.cmd != nil {
			live++
			sl.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	var bad []string
	kill := time.NewTimer(s.cfg.StopTimeout)
	defer kill.Stop()
	for live > 0 {
		select {
		case ev := <-s.events:
			sl := s.slots[ev.slot]
			if ev.kind != evExit || ev.gen != sl.gen || sl.cmd == nil {
				continue
			}
			s.mu.Lock()
			pid := sl.pid
			sl.cmd, sl.ready = nil, false
			s.mu.Unlock()
			live--
			if ev.err != nil {
				bad = append(bad, fmt.Sprintf("worker %d (pid %d) %s", sl.index, pid, exitCause(ev.err)))
			}
		case <-kill.C:
			for _, sl := range s.slots {
				if sl.cmd != nil {
					s.cfg.Logger.Warn("worker killed", "worker", sl.index, "pid", sl.pid, "after", s.cfg.StopTimeout.String())
					sl.cmd.Process.Kill()
				}
			}
		}
	}
	if cause == nil && len(bad) > 0 {
		cause = fmt.Errorf("supervisor: %d of %d workers did not stop cleanly: %v", len(bad), len(s.slots), bad)
	}
	return cause
}
