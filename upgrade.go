package main

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsreactor/wsreactor/service"
)

// Binary upgrade (docs/upgrade.md): on SIGUSR2 the server starts the
// executable now at its path, with the same arguments, and hands it the
// listening socket and every connection (service.Server.Upgrade); then
// this process exits.

// exePath is the executable's path as resolved when this process started.
// An upgrade runs the file now at that path (the new version installed
// over the old one), not /proc/self/exe, which keeps naming the file this
// process was started from (shown as "path (deleted)" once it is replaced).
var exePath = resolveExe()

func resolveExe() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}

// upgradeSignal runs an upgrade of the server on each SIGUSR2. It listens
// from the moment it is made (a signal that arrives before the server
// serves is logged and ignored, rather than killing the process, which is
// SIGUSR2's default); serving gives it the server, stop ends it.
type upgradeSignal struct {
	sigc   chan os.Signal
	srv    atomic.Pointer[service.Server]
	logger *slog.Logger
	quit   chan struct{}
}

func watchUpgrades(logger *slog.Logger) *upgradeSignal {
	u := &upgradeSignal{sigc: make(chan os.Signal, 4), logger: logger, quit: make(chan struct{})}
	signal.Notify(u.sigc, syscall.SIGUSR2)
	go func() {
		for {
			select {
			case <-u.sigc:
				go u.run()
			case <-u.quit:
				return
			}
		}
	}()
	return u
}

// serving gives the watcher the server to upgrade, and tells a service
// manager that listens (sdNotify) that the server is ready: at once, or,
// in a process started by an upgrade, once it has taken everything over,
// with its PID as the service's main PID from then on.
func (u *upgradeSignal) serving(s *service.Server, takingOver bool) {
	u.srv.Store(s)
	if !takingOver {
		sdNotify(u.logger, "READY=1")
		return
	}
	go func() {
		if err := <-s.TookOver(); err == nil {
			sdNotify(u.logger, "MAINPID="+strconv.Itoa(os.Getpid())+"\nREADY=1")
		}
	}()
}

// sdNotify sends state to the service manager's notification socket
// (systemd's sd_notify protocol: a datagram to $NOTIFY_SOCKET), when there
// is one. A unit with Type=notify and NotifyAccess=all follows an upgrade
// through MAINPID (docs/upgrade.md).
func sdNotify(logger *slog.Logger, state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err == nil {
		_, err = c.Write([]byte(state))
		c.Close()
	}
	if err != nil {
		logger.Warn("sd_notify", "state", state, "err", err.Error())
	}
}

func (u *upgradeSignal) stop() {
	signal.Stop(u.sigc)
	close(u.quit)
}

func (u *upgradeSignal) run() {
	s := u.srv.Load()
	if s == nil {
		u.logger.Warn("SIGUSR2 ignored: not serving yet")
		return
	}
	start := time.Now()
	cmd := exec.Command(exePath, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	res, err := s.Upgrade(cmd)
	switch {
	case errors.Is(err, service.ErrUpgradeInProgress):
		u.logger.Warn("upgrade already in progress; SIGUSR2 ignored")
	case err != nil:
		u.logger.Error("upgrade failed; this process keeps serving", "err", err.Error(), "handed_over", res.HandedOver,
			"connections", s.Reactor().Connections(), "seconds", time.Since(start).Seconds())
	default:
		u.logger.Info("upgrade completed", "new_pid", res.PID, "handed_over", res.HandedOver, "batches", res.Batches,
			"left", res.Left, "longest_pause_seconds", res.LongestWait.Seconds(), "seconds", time.Since(start).Seconds())
	}
}

// refuseUpgrades logs and ignores SIGUSR2 where an upgrade is not
// supported (a -procs supervisor and its workers: docs/upgrade.md), rather
// than let the signal's default action kill the process; stop ends it.
func refuseUpgrades(logger *slog.Logger) (stop func()) {
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGUSR2)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigc:
				logger.Warn("SIGUSR2 ignored: binary upgrades are not supported with -procs yet (docs/upgrade.md)")
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigc)
		close(quit)
	}
}
