package service

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wsreactor/wsreactor/handoff"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// Binary upgrade without dropping a connection (docs/upgrade.md): Upgrade
// starts a new process (the command: the executable now at its path, with
// the same arguments) and hands it the listening socket and every
// connection with its state (package handoff); a Server started with
// Config.Handoff is that new process's side. The order of the exchange
// is in package handoff's documentation.

// HandoffEnv names, in a process started by Upgrade, the descriptor of its
// end of the handoff channel; HandoffFromEnv reads it.
const HandoffEnv = "WSREACTOR_UPGRADE_FD"

// HandoffFromEnv returns the handoff channel this process was started
// with by an upgrade (Config.Handoff), nil when it was not, and unsets the
// variable so that a process this one starts does not see it.
func HandoffFromEnv() (*handoff.Chan, error) {
	v := os.Getenv(HandoffEnv)
	if v == "" {
		return nil, nil
	}
	os.Unsetenv(HandoffEnv)
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("service: %s=%q: not a descriptor", HandoffEnv, v)
	}
	return handoff.FromFD(fd)
}

// ErrUpgradeInProgress is returned by Upgrade while another upgrade runs
// (or while this process is still taking over from its predecessor).
var ErrUpgradeInProgress = errors.New("service: an upgrade is already in progress")

// DefaultUpgradeTimeout is Upgrade's timeout when given 0: long enough for
// a binary to start on a loaded machine and for a batch of 250 connections
// to be checked; short enough that a new binary that hangs does not hold
// an operator's reload for long (the old process serves throughout).
const DefaultUpgradeTimeout = 30 * time.Second

// Upgrade hands the server over to the process cmd describes (not yet
// started: Upgrade adds the handoff channel to its ExtraFiles and
// HandoffEnv to its environment, and starts it). Config.UpgradeTimeout
// bounds the new process's start until it is ready, each batch's
// acknowledgement, and the wait for connections that cannot move yet (in a
// handshake, closing, or in the middle of a compressed message).
//
// On success every movable connection and the listening socket belong to
// the new process, and the server finishes: Run returns after closing the
// connections that could not move in time (GoingAway), as Shutdown does;
// a program that called Start calls Shutdown itself. On an error the
// server serves on as before: the new process has been stopped, any
// connection not acknowledged by it is back on this server's loops, and
// accepting has resumed. While an upgrade runs, another returns
// ErrUpgradeInProgress. Safe from any goroutine; it blocks until done.
func (s *Server) Upgrade(cmd *exec.Cmd) (handoff.GiveResult, error) {
	if !s.upgrading.CompareAndSwap(false, true) {
		return handoff.GiveResult{}, ErrUpgradeInProgress
	}
	timeout := s.cfg.UpgradeTimeout
	if timeout <= 0 {
		timeout = DefaultUpgradeTimeout
	}
	s.um.started.Add(1)
	s.logger.Info("upgrade started", "exe", cmd.Path, "args", cmd.Args[1:], "connections", s.r.Connections(), "timeout", timeout.String())
	res, err := s.give(cmd, timeout)
	return s.upgradeEnded(res, err)
}

// UpgradeTo is Upgrade to a process this one did not start (a -procs
// worker's replacement, started by the new supervisor): ch is the old
// side's end of that process's handoff channel, and UpgradeTo closes it.
// Should the exchange fail after the new process said Ready, that process
// is killed (by a pidfd on the PID it gave, so a reused PID cannot be hit)
// and waited for until it has exited, before any connection is resumed
// here, as Upgrade does with its own child.
func (s *Server) UpgradeTo(ch *handoff.Chan) (handoff.GiveResult, error) {
	if !s.upgrading.CompareAndSwap(false, true) {
		ch.Close()
		return handoff.GiveResult{}, ErrUpgradeInProgress
	}
	defer ch.Close()
	timeout := s.cfg.UpgradeTimeout
	if timeout <= 0 {
		timeout = DefaultUpgradeTimeout
	}
	s.um.started.Add(1)
	s.logger.Info("upgrade started", "to", "peer", "connections", s.r.Connections(), "timeout", timeout.String())
	var peer peerProcess
	defer peer.release()
	res, err := handoff.Give(ch, &upgradeSource{s}, handoff.GiveOptions{
		StateVersion: protocol.StateVersion,
		ReadyTimeout: timeout,
		AckTimeout:   timeout,
		WaitMovable:  timeout,
		OnReady: func(pid int) {
			if err := peer.open(pid); err != nil {
				s.logger.Error("upgrade: the new process cannot be watched", "pid", pid, "err", err.Error())
			}
		},
		Abort: peer.killAndWait,
	})
	return s.upgradeEnded(res, err)
}

// upgradeEnded counts an upgrade's end and, on success, finishes the server.
func (s *Server) upgradeEnded(res handoff.GiveResult, err error) (handoff.GiveResult, error) {
	if err != nil {
		s.um.failed.Add(1)
		s.upgrading.Store(false)
		return res, err
	}
	s.um.handedOver.Add(int64(res.HandedOver))
	s.um.pauseNanos.Store(int64(res.LongestWait))
	close(s.upgraded)
	return res, nil
}

// Upgraded is closed once an Upgrade has succeeded.
func (s *Server) Upgraded() <-chan struct{} { return s.upgraded }

// give starts the new process and hands everything over.
func (s *Server) give(cmd *exec.Cmd, timeout time.Duration) (handoff.GiveResult, error) {
	ch, childEnd, err := handoff.Pair()
	if err != nil {
		return handoff.GiveResult{}, err
	}
	defer ch.Close()
	cmd.Env = append(cmd.Environ(), HandoffEnv+"="+strconv.Itoa(3+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, childEnd)
	err = cmd.Start()
	childEnd.Close()
	if err != nil {
		return handoff.GiveResult{}, fmt.Errorf("service: upgrade: start %s: %w", cmd.Path, err)
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
	res, err := handoff.Give(ch, &upgradeSource{s}, handoff.GiveOptions{
		StateVersion: protocol.StateVersion,
		ReadyTimeout: timeout,
		AckTimeout:   timeout,
		WaitMovable:  timeout,
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
type upgradeSource struct{ s *Server }

func (s *upgradeSource) Listeners() ([]int, error) { return s.s.r.DupListeners() }
func (s *upgradeSource) StopAccepting() error      { return s.s.r.StopAccepting() }
func (s *upgradeSource) ResumeAccepting() error    { return s.s.r.ResumeAccepting() }

// Detach takes up to max movable connections off their loops, on each
// loop's goroutine.
func (s *upgradeSource) Detach(max int) (fds []int, recs [][]byte, left int, err error) {
	var mu sync.Mutex
	taken := 0 // slots reserved: the loops run this concurrently
	notNow := func() {
		mu.Lock()
		left++
		mu.Unlock()
	}
	s.s.r.ForEachProtocol(func(p reactor.Protocol) {
		mp, ok := p.(movableProtocol)
		mu.Lock()
		if !ok || taken >= max {
			left++
			mu.Unlock()
			return
		}
		taken++
		mu.Unlock()
		c, t, head, ok := mp.moveParts()
		ok = ok && c.Movable() == nil
		fd, pending := -1, []byte(nil)
		if ok {
			var derr error
			fd, pending, derr = reactor.Detach(t)
			ok = derr == nil
		}
		if !ok {
			mu.Lock()
			taken--
			mu.Unlock()
			notNow()
			return
		}
		rec, xerr := c.ExportState(head.append(nil, pending))
		if xerr != nil { // Movable said yes on this goroutine a moment ago
			s.s.logger.Error("upgrade: export after Movable", "err", xerr.Error())
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
	a := &adopter{r: s.s.r, srv: s.s.srv, logger: s.s.logger}
	if err := a.Check(recs); err != nil { // our own records: cannot fail
		s.s.logger.Error("upgrade: resuming connections", "err", err.Error())
		handoff.CloseFDs(fds)
		return
	}
	a.Adopt(fds, recs)
	s.s.logger.Info("upgrade: connections resumed", "connections", len(fds))
}

// adopter builds protocols from records and puts connections on the
// reactor: the new process's handoff.Sink (with Listen), and the old
// process's Resume.
type adopter struct {
	r      *reactor.Reactor
	srv    *protocol.Server
	logger *slog.Logger
	built  []*adoptedProtocol // one allocation each: the reactor keeps them
}

// adoptedProtocol is a moved connection's protocol (*wsProtocol or
// *proxiedProtocol) and how it starts from its state (made, in place of
// ConnectionMade: protocol.Conn.ConnectionAdopted).
type adoptedProtocol struct {
	p       reactor.Protocol
	pending []byte
	made    func(t reactor.Transport)
}

// Check builds a protocol for every record (without touching a socket).
func (a *adopter) Check(recs [][]byte) error {
	a.built = a.built[:0]
	for i, rec := range recs {
		h, pending, state, err := parseRecord(rec)
		if err != nil {
			return err
		}
		state = append([]byte(nil), state...)
		ap := &adoptedProtocol{pending: append([]byte(nil), pending...)}
		var c *protocol.Conn
		if h.proxied {
			p := new(proxiedProtocol)
			if h.hasClient {
				p.tr.setClient(h.client)
			}
			ap.p, c = p, &p.conn
			ap.made = func(t reactor.Transport) {
				p.tr.Transport = t
				if err := p.conn.ConnectionAdopted(&p.tr, state); err != nil {
					t.AbortConnection()
				}
			}
		} else {
			p := new(wsProtocol)
			ap.p, c = p, &p.conn
			ap.made = func(t reactor.Transport) {
				p.tr.Transport = t
				if err := p.conn.ConnectionAdopted(&p.tr, state); err != nil {
					t.AbortConnection()
				}
			}
		}
		if err := a.srv.ImportState(c, state); err != nil {
			return fmt.Errorf("connection %d of the batch: %w", i, err)
		}
		a.built = append(a.built, ap)
	}
	return nil
}

// Adopt puts the connections checked last on the reactor's loops.
func (a *adopter) Adopt(fds []int, _ [][]byte) {
	for i, fd := range fds {
		p := a.built[i]
		if err := a.r.Adopt(fd, p.p, p.pending, p.made, nil); err != nil {
			a.logger.Error("upgrade: adopting a connection", "err", err.Error())
			handoff.CloseFDs([]int{fd})
		}
	}
	clear(a.built)
	a.built = a.built[:0]
}

// takeover is the new process's side: it receives the listeners before
// the reactor is built, then the connections once it runs.
type takeover struct {
	fds       chan []int
	listening chan *adopter // the reactor runs (nil: it failed to start)
	result    chan error
	res       handoff.TakeResult
	adopter   *adopter
}

// startTakeover runs handoff.Take on ch in the background.
func startTakeover(ch *handoff.Chan, timeout time.Duration) *takeover {
	if timeout <= 0 {
		timeout = DefaultUpgradeTimeout
	}
	t := &takeover{fds: make(chan []int, 1), listening: make(chan *adopter, 1), result: make(chan error, 1)}
	// The old process may wait up to its timeout for connections that
	// cannot move yet before the next batch or Done: wait longer than that
	// for each message, so that the two sides never time out together.
	timeout = 2*timeout + 5*time.Second
	go func() {
		res, err := handoff.Take(ch, t, handoff.TakeOptions{StateVersion: protocol.StateVersion, Timeout: timeout})
		t.res = res
		ch.Close()
		t.result <- err
		close(t.fds)
	}()
	return t
}

// listeners waits for the old process's listening descriptors.
func (t *takeover) listeners() ([]int, error) {
	fds, ok := <-t.fds
	if !ok {
		return nil, fmt.Errorf("service: upgrade: %w", <-t.result)
	}
	return fds, nil
}

// Listen is handoff.Sink's: it hands the descriptors to Start and waits
// for the reactor to run on them.
func (t *takeover) Listen(fds []int) error {
	t.fds <- fds
	if a := <-t.listening; a != nil {
		t.adopter = a
		return nil
	}
	return errors.New("service: the new process failed to listen")
}

func (t *takeover) Check(recs [][]byte) error      { return t.adopter.Check(recs) }
func (t *takeover) Adopt(fds []int, recs [][]byte) { t.adopter.Adopt(fds, recs) }

// finish waits for the takeover to end, logs and counts it; from then on
// this server may be upgraded in turn.
func (t *takeover) finish(s *Server) {
	err := <-t.result
	if err != nil {
		// The old process stops this one if it has not handed everything
		// over; if it is gone, this process serves what it took.
		s.logger.Error("upgrade: taking over", "err", err.Error(), "adopted", t.res.Adopted)
	} else {
		s.um.completed.Add(1)
		s.um.handedOver.Add(int64(t.res.HandedOver))
		s.um.pauseNanos.Store(int64(t.res.LongestWait))
		s.logger.Info("upgrade: took over", "pid", os.Getpid(), "adopted", t.res.Adopted,
			"batches", t.res.Batches, "longest_pause_seconds", t.res.LongestWait.Seconds())
	}
	s.upgrading.Store(false)
	s.tookOver <- err
}

// TookOver delivers, once, the result of taking over from the process that
// started this one (Config.Handoff): nil once every connection it handed
// over is adopted. Without Config.Handoff nothing is ever delivered.
func (s *Server) TookOver() <-chan error { return s.tookOver }

// serveAdminLate starts the admin server of a process started by an
// upgrade once its address is free (the old process closes its own when
// the upgrade completes), and closes it when stop is closed.
func (s *Server) serveAdminLate(metrics []prometheus.Collector, stop <-chan struct{}) {
	for {
		adm, err := startAdmin(s.cfg, s.r, s.srv, s.mon, metrics...)
		if err == nil {
			adm.SetReady(true)
			s.logger.Info("admin listening", "admin_addr", adm.AddrString())
			<-stop
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			adm.Close(ctx)
			cancel()
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
