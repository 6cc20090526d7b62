package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/wsreactor/wsreactor/frame"
)

// Moving an open connection to another process (a binary upgrade that
// keeps every connection): ExportState turns a Conn into bytes and lets go
// of it without a word to the peer; ImportState and ConnectionAdopted
// rebuild it in the new process, where the socket continues. What moves:
// the frame decoder (mid-header, or mid-payload with the masking key and
// its offset, RFC 6455 §5.2, §5.3), the message being received (opcode,
// fragmentation, RFC 6455 §5.4), the UTF-8 validator and a code point held
// back across reads (§8.1), the message being sent (the streaming echo's
// fragments), the subprotocol (by name), the negotiated permessage-deflate
// parameters (RFC 7692) with the inflater's window under client context
// takeover, and the ping timer's view of traffic. Timers are re-armed in
// the new process from the moment of adoption.
//
// Not everything can move at any moment (Movable): a connection in its
// opening handshake, closing, or in the middle of a compressed message
// (the inflater's bit-level state mid-block is not exported) waits; each
// becomes movable by itself (the handshake ends within HandshakeTimeout,
// a close within CloseTimeout, a compressed message when its last frame
// arrives).

// StateVersion is the version of the format ExportState writes and the
// only one ImportState reads. Change it with any change to the layout.
const StateVersion = 1

// Errors of the state transfer.
var (
	// ErrNotMovable: the connection cannot be exported now (Movable says
	// why); try again later.
	ErrNotMovable = errors.New("protocol: connection cannot move now")
	// ErrStateVersion: a state written by a format this build does not read.
	ErrStateVersion = errors.New("protocol: connection state of an unknown version")
	// ErrBadState: a state that is malformed or does not fit this server's
	// configuration.
	ErrBadState = errors.New("protocol: invalid connection state")
)

// State flags (the flags byte of the format).
const (
	sfFrameFin = 1 << iota
	sfDelivered
	sfSending
	sfSendBin
	sfSawTraffic
	sfPingOut
	sfWindow // an inflater window follows
)

// stateFixedLen is the length of the format before its variable parts.
const stateFixedLen = 1 + 1 + 1 + 1 + 1 + 8 + 8 + frame.DecoderStateLen + 1 + 1 + 4 + 1

// Movable reports whether the connection can be exported now: nil, or an
// error wrapping ErrNotMovable that says why not. Event-loop goroutine
// only.
func (c *Conn) Movable() error {
	var why string
	switch {
	case c.state == stateHandshake:
		why = "in the opening handshake"
	case c.state != stateOpen:
		why = "closing"
	case c.out != nil || c.inRead || c.lose:
		why = "inside a callback"
	case c.ctl != nil:
		why = "in the middle of a control frame"
	case c.zr != nil && (c.zr.busy || !c.zr.f.Flushed()):
		why = "in the middle of a compressed message"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotMovable, why)
}

// ExportState appends the connection's state to dst and lets the
// connection go: its timer is cancelled, pooled state given back and the
// connection uncounted, as if it were lost, but the handler is not told
// (OnClose is not called) and nothing is written. The Transport is not
// used again; the caller detaches the socket. When the connection cannot
// move now (Movable) it returns the error and changes nothing.
// Event-loop goroutine only.
func (c *Conn) ExportState(dst []byte) ([]byte, error) {
	if err := c.Movable(); err != nil {
		return dst, err
	}
	var fl byte
	for _, f := range []struct {
		on  bool
		bit byte
	}{{c.frameFin, sfFrameFin}, {c.delivered, sfDelivered}, {c.sending, sfSending}, {c.sendBin, sfSendBin},
		{c.sawTraffic, sfSawTraffic}, {c.pingOut, sfPingOut}} {
		if f.on {
			fl |= f.bit
		}
	}
	window := c.zr != nil && !c.dfl.has(dflClientNoCtx)
	if window {
		fl |= sfWindow
	}
	dst = append(dst, StateVersion, fl, byte(c.msgOp), byte(c.frameOp), byte(c.dfl))
	dst = binary.LittleEndian.AppendUint64(dst, c.msgLen)
	dst = binary.LittleEndian.AppendUint64(dst, c.slack)
	dst = c.dec.AppendState(dst)
	dst = append(dst, c.utf8.State(), c.nheld)
	dst = append(dst, c.held[:]...)
	sub := c.Subprotocol()
	dst = append(dst, byte(len(sub)))
	dst = append(dst, sub...)
	if window {
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = c.zr.f.AppendWindow(dst)
		binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	c.letGo()
	return dst, nil
}

// letGo is ConnectionLost without OnClose: the connection has moved.
func (c *Conn) letGo() {
	c.state = stateLost
	c.stopTimer()
	c.unhold()
	c.releaseZ()
	if c.counted {
		c.counted = false
		c.srv.release()
		c.stats().Open--
	}
}

// ImportState readies c, a Conn of s not yet started, from a state
// written by ExportState (here or in another process): start it with
// ConnectionAdopted. It fails with an error wrapping ErrStateVersion for
// another format version, and ErrBadState for a malformed state or one
// that does not fit s (a subprotocol s does not offer); c is then unusable.
func (s *Server) ImportState(c *Conn, state []byte) error {
	*c = Conn{srv: s}
	if len(state) == 0 || state[0] != StateVersion {
		v := -1
		if len(state) > 0 {
			v = int(state[0])
		}
		return fmt.Errorf("%w: version %d, this build reads %d", ErrStateVersion, v, StateVersion)
	}
	if len(state) < stateFixedLen {
		return fmt.Errorf("%w: %d bytes", ErrBadState, len(state))
	}
	fl := state[1]
	c.frameFin, c.delivered, c.sending = fl&sfFrameFin != 0, fl&sfDelivered != 0, fl&sfSending != 0
	c.sendBin, c.sawTraffic, c.pingOut = fl&sfSendBin != 0, fl&sfSawTraffic != 0, fl&sfPingOut != 0
	c.msgOp, c.frameOp, c.dfl = frame.Opcode(state[2]), frame.Opcode(state[3]), deflateParams(state[4])
	p := state[5:]
	c.msgLen, c.slack = binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:])
	p = p[16:]
	if err := c.dec.SetState(p); err != nil {
		return fmt.Errorf("%w: %w", ErrBadState, err)
	}
	p = p[frame.DecoderStateLen:]
	if err := c.utf8.SetState(p[0]); err != nil {
		return fmt.Errorf("%w: %w", ErrBadState, err)
	}
	c.nheld = p[1]
	copy(c.held[:], p[2:6])
	p = p[6:]
	switch {
	case c.nheld > 3, c.msgOp != 0 && c.msgOp != frame.OpText && c.msgOp != frame.OpBinary,
		c.frameOp > frame.OpPong, fl&^(sfWindow<<1-1) != 0:
		return fmt.Errorf("%w: held %d, message opcode %d, frame opcode %d, flags %#x", ErrBadState, c.nheld, c.msgOp, c.frameOp, fl)
	}
	n := int(p[0])
	if len(p) < 1+n {
		return fmt.Errorf("%w: subprotocol cut short", ErrBadState)
	}
	if sub := string(p[1 : 1+n]); sub != "" {
		if c.sub = subIndex(s.cfg.Subprotocols, sub); c.sub == 0 {
			return fmt.Errorf("%w: subprotocol %q is not offered here", ErrBadState, sub)
		}
	}
	p = p[1+n:]
	if fl&sfWindow != 0 {
		if len(p) < 4 || uint64(len(p)-4) != uint64(binary.LittleEndian.Uint32(p)) || len(p)-4 > 1<<15 {
			return fmt.Errorf("%w: inflater window of %d bytes", ErrBadState, len(p))
		}
		p = nil
	}
	if len(p) != 0 {
		return fmt.Errorf("%w: %d bytes past the end", ErrBadState, len(p))
	}
	c.state = stateOpen
	return nil
}

// ConnectionAdopted starts a connection built by ImportState on t, in
// place of ConnectionMade: it counts the connection as open (past MaxConns
// if need be: it was open before the move), restores the inflater window,
// re-arms the ping timer from now and builds the handler (without OnOpen:
// the connection was opened long ago). state is the one ImportState
// accepted. Event-loop goroutine only.
func (c *Conn) ConnectionAdopted(t Transport, state []byte) error {
	c.t = t
	loop, err := c.srv.loopOf(t)
	if err != nil {
		c.state = stateLost
		return err
	}
	c.loop = loop
	c.srv.open.Add(1)
	c.counted = true
	c.stats().Open++
	if win, ok := stateWindow(state); ok {
		c.zstate().f.SetWindow(15, win)
	}
	c.h = c.srv.app()
	if d := c.srv.cfg.PingInterval; d > 0 {
		c.arm(timerPing, d)
	}
	c.recount()
	return nil
}

// stateWindow returns the inflater window at the end of a state that
// ImportState accepted, if it has one.
func stateWindow(state []byte) ([]byte, bool) {
	if len(state) < stateFixedLen || state[1]&sfWindow == 0 {
		return nil, false
	}
	n := int(state[stateFixedLen-1])
	return state[stateFixedLen+n+4:], true
}
