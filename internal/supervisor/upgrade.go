package supervisor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsreactor/wsreactor/handoff"
)

// Upgrading a supervisor and its workers to a new executable, worker by
// worker (docs/upgrade.md): the old supervisor (Upgrade) starts the new
// one with a control channel (EnvUpgrade). The new supervisor (a
// Successor) starts its workers one at a time; for worker i it makes a
// handoff channel (a SOCK_SEQPACKET socketpair), gives one end to its new
// worker i (descriptor 4, named by the environment variable the command
// chooses) and sends the other over the control channel; the old
// supervisor forwards it to its worker i over the link (HandOver), which
// hands every connection over through it and exits with status 0. Once
// every new worker is ready, the new supervisor says Finish and the old
// one exits.
//
// Control messages (handoff.Chan kinds):
//
//	new → old  ctlWorker  index (2 bytes) + the handoff end (SCM_RIGHTS)
//	old → new  ctlResult  index (2 bytes), ok (1 byte): old worker i exited after handing over (1), or failed and serves on (0)
//	new → old  ctlRetire  index: new worker i failed to take over and was started afresh; stop the old one (it drains)
//	new → old  ctlFinish  every new worker serves: exit
const (
	ctlWorker = 1 + iota
	ctlResult
	ctlRetire
	ctlFinish
)

// EnvUpgrade names, in a supervisor started by Upgrade, the descriptor of
// its end of the control channel.
const EnvUpgrade = "WSREACTOR_PROCS_UPGRADE_FD"

// ErrUpgradeInProgress is returned by Upgrade while another runs.
var ErrUpgradeInProgress = errors.New("supervisor: an upgrade is already in progress")

// UpgradeResult tells what an upgrade did.
type UpgradeResult struct {
	PID        int // the new supervisor's
	HandedOver int // workers that handed over
	Retired    int // workers stopped (drained) because their replacement failed
}

// Upgrade starts cmd (not yet started: Upgrade adds the control channel to
// its ExtraFiles and EnvUpgrade to its Env) as this supervisor's successor
// and serves its requests: each worker hands over in turn. It returns nil
// once the successor said Finish: every worker has handed over (or been
// retired), and the caller ends Run (cancels its context), which returns
// at once. On an error this supervisor serves on: the successor has been
// killed if it still ran, and every worker that handed over or was retired
// is started again (their replacements, children of the successor, die
// with it: the connections they took are closed). timeout bounds the wait
// for each message of the successor (its start, each new worker's start).
func (s *Supervisor) Upgrade(cmd *exec.Cmd, timeout time.Duration) (UpgradeResult, error) {
	var res UpgradeResult
	if !s.upgrading.CompareAndSwap(false, true) {
		return res, ErrUpgradeInProgress
	}
	ctrl, childEnd, err := handoff.Pair()
	if err != nil {
		s.upgrading.Store(false)
		return res, err
	}
	defer ctrl.Close()
	cmd.Env = append(cmd.Environ(), EnvUpgrade+"="+strconv.Itoa(3+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, childEnd)
	err = cmd.Start() // no Pdeathsig: it outlives this process
	childEnd.Close()
	if err != nil {
		s.upgrading.Store(false)
		return res, fmt.Errorf("supervisor: upgrade: start %s: %w", cmd.Path, err)
	}
	res.PID = cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	err = s.serveSuccessor(ctrl, &res, timeout)
	if err == nil {
		return res, nil
	}
	select { // the successor may have died on its own: say how
	case <-exited:
	case <-time.After(100 * time.Millisecond):
		cmd.Process.Kill()
		<-exited
	}
	if waitErr != nil {
		err = fmt.Errorf("%w (new supervisor %d: %s)", err, res.PID, exitCause(waitErr))
	}
	s.Revive()
	s.upgrading.Store(false)
	return res, err
}

// serveSuccessor answers the successor's requests until Finish.
func (s *Supervisor) serveSuccessor(ctrl *handoff.Chan, res *UpgradeResult, timeout time.Duration) error {
	for {
		kind, body, fds, err := ctrl.Recv(nil, timeout)
		if err != nil {
			handoff.CloseFDs(fds)
			return fmt.Errorf("supervisor: upgrade: waiting for the new supervisor: %w", err)
		}
		if kind == ctlFinish {
			handoff.CloseFDs(fds)
			return nil
		}
		if len(body) < 2 {
			handoff.CloseFDs(fds)
			return fmt.Errorf("supervisor: upgrade: control message %d of %d bytes", kind, len(body))
		}
		i := int(binary.LittleEndian.Uint16(body))
		switch {
		case kind == ctlRetire:
			handoff.CloseFDs(fds)
			res.Retired++
			s.Retire(i)
		case kind == ctlWorker && len(fds) == 1:
			ok := s.handOverOne(i, fds[0])
			handoff.CloseFDs(fds)
			if ok {
				res.HandedOver++
			}
			msg := binary.LittleEndian.AppendUint16(nil, uint16(i))
			msg = append(msg, 0)
			if ok {
				msg[2] = 1
			}
			if err := ctrl.Send(ctlResult, msg, nil, timeout); err != nil {
				return fmt.Errorf("supervisor: upgrade: answering the new supervisor: %w", err)
			}
		default:
			handoff.CloseFDs(fds)
			return fmt.Errorf("supervisor: upgrade: unexpected control message %d with %d descriptors", kind, len(fds))
		}
	}
}

// handOverOne has worker i hand over through fd and waits for the end.
func (s *Supervisor) handOverOne(i, fd int) bool {
	start := time.Now()
	done, err := s.HandOver(i, fd)
	if err == nil {
		err = <-done
	}
	if err != nil {
		s.cfg.Logger.Error("worker hand-over failed; it serves on", "worker", i, "err", err.Error())
		return false
	}
	s.cfg.Logger.Info("worker hand-over completed", "worker", i, "seconds", time.Since(start).Seconds())
	return true
}

// Successor is the new supervisor's side of an upgrade.
type Successor struct {
	ctrl    *handoff.Chan
	logger  *slog.Logger
	timeout time.Duration
	env     string
	err     error // the first failure to talk to the old supervisor
}

// SuccessorFromEnv returns the control channel this process was started
// with by Upgrade, nil when it was not, and unsets EnvUpgrade so that the
// workers do not see it.
func SuccessorFromEnv(logger *slog.Logger, timeout time.Duration) (*Successor, error) {
	v := os.Getenv(EnvUpgrade)
	if v == "" {
		return nil, nil
	}
	os.Unsetenv(EnvUpgrade)
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %s=%q: not a descriptor", EnvUpgrade, v)
	}
	ctrl, err := handoff.FromFD(fd)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Successor{ctrl: ctrl, logger: logger, timeout: timeout}, nil
}

// Configure sets cfg's Takeover and TakeoverDone so that each worker is
// started with its handoff channel as descriptor 4, named in its
// environment by handoffEnv (the worker's business: it takes over from the
// process at the other end).
func (u *Successor) Configure(cfg *Config, handoffEnv string) {
	u.env = handoffEnv
	cfg.Takeover = u.takeover
	cfg.TakeoverDone = u.takeoverDone
}

// takeover makes worker i's handoff channel and sends the old side's end
// to the old supervisor.
func (u *Successor) takeover(i int, cmd *exec.Cmd) error {
	if u.err != nil {
		return u.err
	}
	fds, err := handoff.RawPair()
	if err != nil {
		return fmt.Errorf("supervisor: handoff channel: %w", err)
	}
	err = u.ctrl.Send(ctlWorker, binary.LittleEndian.AppendUint16(nil, uint16(i)), fds[:1], u.timeout)
	unix.Close(fds[0])
	if err != nil {
		unix.Close(fds[1])
		u.err = fmt.Errorf("supervisor: upgrade: asking the old supervisor for worker %d: %w", i, err)
		return u.err
	}
	cmd.Env = append(cmd.Env, u.env+"="+strconv.Itoa(3+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fds[1]), "handoff"))
	return nil
}

// takeoverDone waits for the old supervisor's word on its worker i, and,
// if the new worker failed (it is started afresh), has the old one
// retired.
func (u *Successor) takeoverDone(i int, ok bool) {
	if u.err != nil {
		return
	}
	// The old worker's own timeouts bound its hand-over; this waits a
	// little longer than all of them together.
	kind, body, fds, err := u.ctrl.Recv(nil, 4*u.timeout+30*time.Second)
	handoff.CloseFDs(fds)
	switch {
	case err != nil:
		u.err = fmt.Errorf("supervisor: upgrade: waiting for the old supervisor on worker %d: %w", i, err)
	case kind != ctlResult || len(body) != 3 || int(binary.LittleEndian.Uint16(body)) != i:
		u.err = fmt.Errorf("supervisor: upgrade: unexpected answer on worker %d (kind %d)", i, kind)
	case ok && body[2] == 1:
		u.logger.Info("worker took over", "worker", i)
	default:
		u.logger.Error("worker hand-over failed", "worker", i, "new_ready", ok, "old_exited", body[2] == 1)
		if !ok && i > 0 && body[2] == 0 { // the old one serves on: retire it, its clients reconnect
			if err := u.ctrl.Send(ctlRetire, binary.LittleEndian.AppendUint16(nil, uint16(i)), nil, u.timeout); err != nil {
				u.err = err
			}
		}
	}
	if u.err != nil {
		u.logger.Error(u.err.Error())
	}
}

// Finish tells the old supervisor that every worker serves here: it exits.
func (u *Successor) Finish() error {
	defer u.ctrl.Close()
	if u.err != nil {
		return u.err
	}
	return u.ctrl.Send(ctlFinish, nil, nil, u.timeout)
}
