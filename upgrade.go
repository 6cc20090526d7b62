package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wsreactor/wsreactor/handoff"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// Binary upgrade without dropping a connection (docs/upgrade.md): on
// SIGUSR2 the server starts the executable now at its path with the same
// arguments and hands it the listening socket and every connection with
// its state (package handoff); then this process exits.

// upgradeEnv names, in a process started by an upgrade, the descriptor of
// its end of the handoff channel.
const upgradeEnv = "WSREACTOR_UPGRADE_FD"

// exePath is the executable's path as resolved when this process started:
// an upgrade runs the file now at that path (the new binary installed over
// the old one), not /proc/self/exe, which keeps pointing at the old file.
var exePath = resolveExe()

func resolveExe() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}

// upgrader is the old process's side: it runs one upgrade at a time.
type upgrader struct {
	r      *reactor.Reactor
	srv    *protocol.Server
	cfg    config
	logger *slog.Logger
	m      *upgradeMetrics
	busy   atomic.Bool
	done   chan struct{} // closed once an upgrade has completed: this process leaves
}

// run performs one upgrade; a call while one is running is ignored.
func (u *upgrader) run() {
	if !u.busy.CompareAndSwap(false, true) {
		u.logger.Warn("upgrade already in progress; SIGUSR2 ignored")
		return
	}
	if u.cfg.UpgradeTimeout <= 0 {
		u.cfg.UpgradeTimeout = 30 * time.Second
	}
	u.m.started.Add(1)
	start := time.Now()
	u.logger.Info("upgrade started", "exe", exePath, "connections", u.r.Connections(), "timeout", u.cfg.UpgradeTimeout.String())
	res, err := u.exchange()
	if err != nil {
		u.m.failed.Add(1)
		u.logger.Error("upgrade failed; this process keeps serving", "err", err.Error(), "handed_over", res.HandedOver,
			"connections", u.r.Connections(), "seconds", time.Since(start).Seconds())
		u.busy.Store(false)
		return
	}
	u.m.completed.Add(1)
	u.m.handedOver.Add(int64(res.HandedOver))
	u.m.pauseNanos.Store(int64(res.LongestWait))
	u.logger.Info("upgrade completed", "new_pid", res.PID, "handed_over", res.HandedOver, "batches", res.Batches,
		"left", res.Left, "longest_pause_seconds", res.LongestWait.Seconds(), "seconds", time.Since(start).Seconds())
	close(u.done)
}

// exchange starts the new process and hands everything over.
func (u *upgrader) exchange() (handoff.GiveResult, error) {
	ch, childEnd, err := handoff.Pair()
	if err != nil {
		return handoff.GiveResult{}, err
	}
	defer ch.Close()
	cmd := exec.Command(exePath, os.Args[1:]...)
	cmd.Env = append(os.Environ(), upgradeEnv+"=3")
	cmd.ExtraFiles = []*os.File{childEnd}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	err = cmd.Start()
	childEnd.Close()
	if err != nil {
		return handoff.GiveResult{}, fmt.Errorf("start %s: %w", exePath, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	res, err := handoff.Give(ch, &upgradeSource{u: u}, handoff.GiveOptions{
		StateVersion: protocol.StateVersion,
		ReadyTimeout: u.cfg.UpgradeTimeout,
		AckTimeout:   u.cfg.UpgradeTimeout,
		WaitMovable:  u.cfg.UpgradeTimeout,
		Abort:        stop,
	})
	if err != nil {
		select { // the new process may have died on its own: say how
		case <-exited:
		case <-time.After(100 * time.Millisecond):
		}
		stop()
		if waitErr != nil {
			err = fmt.Errorf("%w (new process %d: %v)", err, cmd.Process.Pid, waitErr)
		}
		return res, err
	}
	return res, nil
}

// movableProtocol is what an upgrade needs of a connection's protocol.
type movableProtocol interface {
	// moveParts returns the state machine, the reactor's transport and the
	// head of the connection's record; ok is false while it cannot move
	// (a PROXY header still arriving).
	moveParts() (c *protocol.Conn, t reactor.Transport, head recordHead, ok bool)
}

func (p *wsProtocol) moveParts() (*protocol.Conn, reactor.Transport, recordHead, bool) {
	return &p.conn, p.tr.Transport, recordHead{}, true
}

func (p *proxiedProtocol) moveParts() (*protocol.Conn, reactor.Transport, recordHead, bool) {
	h := recordHead{proxied: true}
	h.client, h.hasClient = p.tr.client()
	return &p.conn, p.tr.Transport, h, p.hs == nil
}

// recordHead is the part of a connection's record this command adds to the
// protocol's state: the PROXY-derived client address.
type recordHead struct {
	proxied   bool
	hasClient bool
	client    netip.AddrPort
}

// The record: flags (1 byte: 1 proxied, 2 client address follows), the
// address (16 bytes IPv6 or IPv4-mapped, 2 bytes port), the output queued
// and not yet written (4 bytes length, bytes), the protocol's state.
func (h recordHead) append(b []byte, pending []byte) []byte {
	var fl byte
	if h.proxied {
		fl |= 1
	}
	if h.hasClient {
		fl |= 2
	}
	b = append(b, fl)
	if h.hasClient {
		ip := h.client.Addr().As16()
		b = append(b, ip[:]...)
		b = binary.LittleEndian.AppendUint16(b, h.client.Port())
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pending)))
	return append(b, pending...)
}

// parseRecord splits a record into its head, the pending output and the
// protocol state (aliasing rec).
func parseRecord(rec []byte) (h recordHead, pending, state []byte, err error) {
	if len(rec) < 1 || rec[0]&^3 != 0 {
		return h, nil, nil, errors.New("wsreactor: upgrade record: bad flags")
	}
	h.proxied, h.hasClient = rec[0]&1 != 0, rec[0]&2 != 0
	rec = rec[1:]
	if h.hasClient {
		if len(rec) < 18 {
			return h, nil, nil, errors.New("wsreactor: upgrade record: address cut short")
		}
		h.client = netip.AddrPortFrom(netip.AddrFrom16([16]byte(rec[:16])).Unmap(), binary.LittleEndian.Uint16(rec[16:]))
		rec = rec[18:]
	}
	if len(rec) < 4 || uint64(binary.LittleEndian.Uint32(rec)) > uint64(len(rec)-4) {
		return h, nil, nil, errors.New("wsreactor: upgrade record: pending output cut short")
	}
	n := binary.LittleEndian.Uint32(rec)
	return h, rec[4 : 4+n], rec[4+n:], nil
}

// upgradeSource is handoff.Source on the reactor.
type upgradeSource struct{ u *upgrader }

func (s *upgradeSource) Listeners() ([]int, error) { return s.u.r.DupListeners() }
func (s *upgradeSource) StopAccepting() error      { return s.u.r.StopAccepting() }
func (s *upgradeSource) ResumeAccepting() error    { return s.u.r.ResumeAccepting() }

// Detach takes up to max movable connections off their loops, on each
// loop's goroutine.
func (s *upgradeSource) Detach(max int) (fds []int, recs [][]byte, left int, err error) {
	var mu sync.Mutex
	s.u.r.ForEachProtocol(func(p reactor.Protocol) {
		mp, ok := p.(movableProtocol)
		mu.Lock()
		full := len(fds) >= max
		mu.Unlock()
		if !ok || full {
			mu.Lock()
			left++
			mu.Unlock()
			return
		}
		c, t, head, ok := mp.moveParts()
		if !ok || c.Movable() != nil {
			mu.Lock()
			left++
			mu.Unlock()
			return
		}
		fd, pending, derr := reactor.Detach(t)
		if derr != nil {
			mu.Lock()
			left++
			mu.Unlock()
			return
		}
		rec, xerr := c.ExportState(head.append(nil, pending))
		if xerr != nil { // Movable said yes on this goroutine a moment ago
			s.u.logger.Error("upgrade: export after Movable", "err", xerr.Error())
			handoff.CloseFDs([]int{fd})
			return
		}
		mu.Lock()
		fds, recs = append(fds, fd), append(recs, rec)
		mu.Unlock()
	})
	return fds, recs, left, nil
}

// Resume puts connections back on this process's loops (a batch the new
// process did not take).
func (s *upgradeSource) Resume(fds []int, recs [][]byte) {
	a := &adopter{r: s.u.r, srv: s.u.srv, logger: s.u.logger}
	if err := a.Check(recs); err != nil { // our own records: cannot fail
		s.u.logger.Error("upgrade: resuming connections", "err", err.Error())
		handoff.CloseFDs(fds)
		return
	}
	a.Adopt(fds, recs)
	s.u.logger.Info("upgrade: connections resumed", "connections", len(fds))
}

// adopter builds protocols from records and puts connections on the
// reactor: the new process's handoff.Sink (with Listen), and the old
// process's Resume.
type adopter struct {
	r      *reactor.Reactor
	srv    *protocol.Server
	logger *slog.Logger
	built  []adoptedProtocol
}

// adoptedProtocol is the protocol of a moved connection until its
// ConnectionMade, which starts it from its state (ConnectionAdopted).
type adoptedProtocol struct {
	reactor.Protocol // *wsProtocol or *proxiedProtocol
	conn             *protocol.Conn
	state            []byte
	pending          []byte
	made             func(t reactor.Transport) protocol.Transport
}

func (a *adoptedProtocol) ConnectionMade(t reactor.Transport) {
	if err := a.conn.ConnectionAdopted(a.made(t), a.state); err != nil {
		t.AbortConnection()
	}
	a.state = nil
}

// Check builds a protocol for every record (without touching a socket).
func (a *adopter) Check(recs [][]byte) error {
	a.built = a.built[:0]
	for i, rec := range recs {
		h, pending, state, err := parseRecord(rec)
		if err != nil {
			return err
		}
		ap := adoptedProtocol{state: append([]byte(nil), state...), pending: append([]byte(nil), pending...)}
		if h.proxied {
			p := new(proxiedProtocol)
			if h.hasClient {
				p.tr.setClient(h.client)
			}
			ap.Protocol, ap.conn = p, &p.conn
			ap.made = func(t reactor.Transport) protocol.Transport { p.tr.Transport = t; return &p.tr }
		} else {
			p := new(wsProtocol)
			ap.Protocol, ap.conn = p, &p.conn
			ap.made = func(t reactor.Transport) protocol.Transport { p.tr.Transport = t; return &p.tr }
		}
		if err := a.srv.ImportState(ap.conn, ap.state); err != nil {
			return fmt.Errorf("connection %d of the batch: %w", i, err)
		}
		a.built = append(a.built, ap)
	}
	return nil
}

// Adopt puts the connections checked last on the reactor's loops.
func (a *adopter) Adopt(fds []int, _ [][]byte) {
	for i, fd := range fds {
		p := &a.built[i]
		if err := a.r.Adopt(fd, p, p.pending, nil); err != nil {
			a.logger.Error("upgrade: adopting a connection", "err", err.Error())
			handoff.CloseFDs([]int{fd})
		}
	}
	a.built = a.built[:0]
}

// takeover is the new process's side: it receives the listeners before
// the reactor is built, then the connections once it runs.
type takeover struct {
	ch        *handoff.Chan
	logger    *slog.Logger
	fds       chan []int
	listening chan *adopter // the reactor runs (nil: it failed to start)
	result    chan error
	res       handoff.TakeResult
	adopter   *adopter
}

// takeoverFromEnv starts the new process's side when this process was
// started by an upgrade (nil otherwise).
func takeoverFromEnv(cfg config, logger *slog.Logger) (*takeover, error) {
	v := os.Getenv(upgradeEnv)
	if v == "" {
		return nil, nil
	}
	os.Unsetenv(upgradeEnv) // not for a process this one starts
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("wsreactor: %s=%q: not a descriptor", upgradeEnv, v)
	}
	ch, err := handoff.FromFD(fd)
	if err != nil {
		return nil, err
	}
	t := &takeover{ch: ch, logger: logger, fds: make(chan []int, 1), listening: make(chan *adopter, 1), result: make(chan error, 1)}
	go func() {
		res, err := handoff.Take(ch, t, handoff.TakeOptions{StateVersion: protocol.StateVersion, Timeout: cfg.UpgradeTimeout})
		t.res = res
		ch.Close()
		t.result <- err
		close(t.fds)
	}()
	return t, nil
}

// listeners waits for the old process's listening descriptors.
func (t *takeover) listeners() ([]int, error) {
	fds, ok := <-t.fds
	if !ok {
		return nil, fmt.Errorf("wsreactor: upgrade: %w", <-t.result)
	}
	return fds, nil
}

// Listen is handoff.Sink's: it hands the descriptors to serve and waits
// for the reactor to run on them.
func (t *takeover) Listen(fds []int) error {
	t.fds <- fds
	if a := <-t.listening; a != nil {
		t.adopter = a
		return nil
	}
	return errors.New("wsreactor: the new process failed to listen")
}

func (t *takeover) Check(recs [][]byte) error      { return t.adopter.Check(recs) }
func (t *takeover) Adopt(fds []int, recs [][]byte) { t.adopter.Adopt(fds, recs) }

// finish waits for the takeover to end, logs it and counts it; then this
// process may be upgraded in turn.
func (t *takeover) finish(u *upgrader) {
	err := <-t.result
	if err != nil {
		// The old process stops this one if it has not taken everything;
		// if it is gone, this process serves what it took.
		t.logger.Error("upgrade: taking over", "err", err.Error(), "adopted", t.res.Adopted)
	} else {
		u.m.completed.Add(1)
		u.m.handedOver.Add(int64(t.res.HandedOver))
		u.m.pauseNanos.Store(int64(t.res.LongestWait))
		t.logger.Info("upgrade: took over", "pid", os.Getpid(), "exe", exePath, "adopted", t.res.Adopted,
			"batches", t.res.Batches, "longest_pause_seconds", t.res.LongestWait.Seconds())
	}
	u.busy.Store(false)
}

// watchUpgradeSignal runs an upgrade on each SIGUSR2 (one at a time: run
// ignores a signal during an upgrade); the returned function stops it.
func watchUpgradeSignal(u *upgrader) (stop func()) {
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGUSR2)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigc:
				go u.run()
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

// serveAdminLate starts the admin server of a process started by an
// upgrade once its address is free (the old process closes its own when
// the upgrade completes), and closes it when stop is closed.
func serveAdminLate(cfg config, r *reactor.Reactor, srv *protocol.Server, mon *monitor, metrics []prometheus.Collector, logger *slog.Logger, stop <-chan struct{}) {
	for {
		adm, err := startAdmin(cfg, r, srv, mon, metrics...)
		if err == nil {
			setReady(adm, true)
			logger.Info("admin listening", "admin_addr", adminAddr(adm))
			<-stop
			closeAdmin(adm, logger)
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
