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
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
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
	// Takeover, when not nil, makes this supervisor the replacement of
	// another (a -procs upgrade): the workers are started one at a time,
	// worker i+1 once worker i is ready, and before the first start of
	// each, Takeover(i, cmd) may add to cmd's ExtraFiles (after the link,
	// descriptor 3) and Env the means for that worker to take over from
	// its predecessor; the supervisor closes those files in this process
	// once the worker has started. TakeoverDone(i, ok) is then called
	// from Run's goroutine when that worker is ready (ok) or has exited
	// before (not ok). A failed first worker makes Run give up; a later
	// one is restarted as after any death, without Takeover.
	Takeover     func(i int, cmd *exec.Cmd) error
	TakeoverDone func(i int, ok bool)
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

	upgrading atomic.Bool // Upgrade runs
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

	link       *os.File   // our end of the worker's link
	takingOver bool       // started with Config.Takeover, not ready yet
	handing    chan error // HandOver's result, while one runs
	retired    bool       // handed over or retired: not restarted
}

type eventKind int

const (
	evReady eventKind = iota
	evExit
	evRestart
	evStartTimeout
	evHandOverFailed
	evRetire
	evRevive
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
		if s.cfg.Takeover != nil {
			break // the next once this one is ready
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
				if sl.takingOver {
					sl.takingOver = false
					s.cfg.TakeoverDone(sl.index, true)
				}
				if err := s.startNext(sl); err != nil {
					return s.stopAll(err)
				}
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
			case evHandOverFailed:
				s.handOverEnded(sl, errors.New("the worker could not hand over; it serves on"))
			case evRetire:
				if sl.cmd != nil && !sl.retired {
					sl.retired = true
					s.cfg.Logger.Warn("worker retired", "worker", sl.index, "pid", sl.pid)
					sl.cmd.Process.Signal(syscall.SIGTERM)
				}
			case evRevive:
				if sl.retired && sl.cmd == nil {
					sl.retired = false
					if err := s.start(sl); err != nil {
						return s.stopAll(err)
					}
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
		if !sl.ready && !sl.retired {
			return false
		}
	}
	return true
}

// startNext starts, with Config.Takeover, the first slot after sl that
// was never started.
func (s *Supervisor) startNext(sl *slot) error {
	if s.cfg.Takeover == nil || sl.index+1 >= len(s.slots) {
		return nil
	}
	if next := s.slots[sl.index+1]; next.gen == 0 {
		return s.start(next)
	}
	return nil
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
	if sl.handing != nil { // asked to hand over: status 0 says it did
		if waitErr == nil {
			sl.retired = true
			s.cfg.Logger.Info("worker handed over", "worker", sl.index, "pid", pid)
			s.handOverEnded(sl, nil)
			return nil
		}
		s.handOverEnded(sl, errors.New("the worker "+cause+" while handing over"))
	}
	if sl.retired {
		s.cfg.Logger.Info("retired worker exited", "worker", sl.index, "pid", pid, "cause", cause)
		return nil
	}
	if sl.takingOver {
		sl.takingOver = false
		s.cfg.TakeoverDone(sl.index, false)
		if sl.index > 0 { // the first worker took over: the binary works
			s.cfg.Logger.Error("worker failed to take over; starting it afresh", "worker", sl.index, "pid", pid, "cause", cause)
			return s.start(sl)
		}
	}
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
	pair, err := linkPair()
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
	cmd.SysProcAttr = deathSignal()
	takingOver := false
	if s.cfg.Takeover != nil && sl.gen == 0 {
		if err := s.cfg.Takeover(sl.index, cmd); err != nil {
			closeFiles(cmd.ExtraFiles)
			ours.Close()
			return fmt.Errorf("supervisor: worker %d: preparing its takeover: %w", sl.index, err)
		}
		takingOver = true
	}
	err = s.spawn.start(cmd)
	closeFiles(cmd.ExtraFiles)
	if err != nil {
		ours.Close()
		if takingOver {
			s.cfg.TakeoverDone(sl.index, false)
		}
		return fmt.Errorf("supervisor: starting worker %d (%s): %w", sl.index, s.cfg.Path, err)
	}
	s.mu.Lock()
	if sl.started != (time.Time{}) {
		sl.restarts++
	}
	sl.gen++
	sl.cmd, sl.pid, sl.started, sl.ready = cmd, cmd.Process.Pid, time.Now(), false
	sl.link, sl.takingOver = ours, takingOver
	gen := sl.gen
	s.mu.Unlock()
	s.cfg.Logger.Info("worker started", "worker", sl.index, "pid", sl.pid)
	sl.timer = time.AfterFunc(s.cfg.StartTimeout, func() {
		s.send(event{kind: evStartTimeout, slot: sl.index, gen: gen})
	})
	go func() {
		var b [1]byte
		for {
			n, _ := ours.Read(b[:])
			switch {
			case n != 1:
				return
			case b[0] == readyByte:
				s.send(event{kind: evReady, slot: sl.index, gen: gen})
			case b[0] == failedByte:
				s.send(event{kind: evHandOverFailed, slot: sl.index, gen: gen})
			}
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

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// HandOver sends fd (the old side's end of a handoff channel to worker i's
// replacement, a process another supervisor started) to worker i, which
// hands every connection over through it and exits (Link.Handoffs). fd
// stays the caller's. The returned channel delivers, once, nil when the
// worker has exited with status 0 after handing over (it is not restarted:
// the slot is retired), or an error when it failed (it serves on, or, if it
// died, is restarted as usual).
func (s *Supervisor) HandOver(i int, fd int) (<-chan error, error) {
	if i < 0 || i >= len(s.slots) {
		return nil, fmt.Errorf("supervisor: no worker %d", i)
	}
	s.mu.Lock()
	sl := s.slots[i]
	if sl.cmd == nil || !sl.ready || sl.handing != nil || sl.retired {
		s.mu.Unlock()
		return nil, fmt.Errorf("supervisor: worker %d is not serving", i)
	}
	res := make(chan error, 1)
	sl.handing = res
	link := sl.link
	s.mu.Unlock()
	rc, err := link.SyscallConn()
	if err == nil {
		var serr error
		err = rc.Write(func(lfd uintptr) bool {
			serr = unix.Sendmsg(int(lfd), []byte{handoffByte}, unix.UnixRights(fd), nil, unix.MSG_NOSIGNAL)
			return serr != unix.EAGAIN
		})
		if err == nil {
			err = serr
		}
	}
	if err != nil {
		s.mu.Lock()
		sl.handing = nil
		s.mu.Unlock()
		return nil, fmt.Errorf("supervisor: sending worker %d its handoff: %w", i, err)
	}
	return res, nil
}

// handOverEnded delivers HandOver's result (Run's goroutine).
func (s *Supervisor) handOverEnded(sl *slot, err error) {
	s.mu.Lock()
	res := sl.handing
	sl.handing = nil
	s.mu.Unlock()
	if res != nil {
		res <- err
	}
}

// Retire stops worker i as on shutdown (SIGTERM: it drains) and does not
// restart it.
func (s *Supervisor) Retire(i int) {
	if i >= 0 && i < len(s.slots) {
		s.send(event{kind: evRetire, slot: i, gen: s.gen(i)})
	}
}

// Revive starts again every slot whose worker handed over or was retired
// (a -procs upgrade that failed half way).
func (s *Supervisor) Revive() {
	for i := range s.slots {
		s.send(event{kind: evRevive, slot: i, gen: s.gen(i)})
	}
}

func (s *Supervisor) gen(i int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slots[i].gen
}
