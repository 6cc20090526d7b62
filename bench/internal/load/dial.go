//go:build linux

package load

import (
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Opening a connection: a non-blocking connect from the chosen source
// address, the upgrade request (RFC 6455 §4.1) and the check of the server's
// 101 response (§4.2.2), with retries of transient failures.

// dial opens a non-blocking socket to the server for t.
func (l *loop) dial(t target) {
	r := l.r
	l.now = l.clock()
	c := l.newConn(t)
	c.state = stConnecting
	c.sendAt = l.now
	l.pending++
	fd, err := unix.Socket(r.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if err == unix.EMFILE || err == unix.ENFILE {
			err = fmt.Errorf("%w (%v)", errOpenFileLimit, err)
		}
		c.fail(kindConnect, fmt.Errorf("load: socket: %w", err))
		return
	}
	c.fd = fd
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if src, ok := l.source(t); ok {
		// Let connect choose the port for the whole 4-tuple, so one source
		// address is not limited to one socket per local port.
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: src}); err != nil {
			c.fail(kindConnect, fmt.Errorf("load: bind %d.%d.%d.%d: %w", src[0], src[1], src[2], src[3], err))
			return
		}
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: c.id, Pad: int32(c.gen)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		c.fail(kindConnect, fmt.Errorf("load: epoll_ctl: %w", err))
		return
	}
	c.events = ev.Events
	if err := unix.Connect(fd, r.sa); err != nil && err != unix.EINPROGRESS {
		c.fail(kindConnect, fmt.Errorf("load: connect %s: %w", r.cfg.Addr, err))
		return
	}
	c.setDeadline(r.cfg.Timeout)
}

// onConnected completes a non-blocking connect and sends the upgrade request
// (RFC 6455 §4.1). It reports whether the connection is still alive.
func (c *conn) onConnected() bool {
	l := c.l
	errno, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && errno != 0 {
		err = unix.Errno(errno)
	}
	if err != nil {
		c.fail(kindConnect, fmt.Errorf("load: connect %s: %w", l.r.cfg.Addr, err))
		return false
	}
	if !c.watchOutput(false) { // from connect's EPOLLOUT to reads
		return false
	}
	if l.r.cfg.Raw {
		c.open()
		return c.state == stOpen
	}
	var k [16]byte
	for i := 0; i < 16; i += 8 {
		v := l.rng.Uint64()
		for j := 0; j < 8; j++ {
			k[i+j] = byte(v >> (8 * j))
		}
	}
	c.key = base64.StdEncoding.EncodeToString(k[:])
	cfg := &l.r.cfg
	ext := ""
	switch {
	case cfg.Takeover:
		ext = offerTakeover
	case cfg.Deflate:
		ext = offerNoTakeover
	}
	c.ctl = appendUpgradeRequest(nil, cfg.Path, cfg.Host, cfg.Origin, c.key, ext)
	c.state = stHandshake
	return c.flush()
}

// open marks the handshake done and starts what the mode asks of a new connection.
func (c *conn) open() {
	l := c.l
	c.state = stOpen
	c.opened = true
	c.dtok++
	c.hs = nil
	l.pending--
	if l.r.cfg.Mode == ModeConnect {
		c.sendMessages(1)
	} else {
		l.r.opened.Add(1)
		l.r.settled.Add(1)
	}
	l.pump()
}

// retryable reports whether a connect or handshake failure is transient:
// refused or reset (a full accept backlog), out of ports for a moment, or
// timed out. Those are retried after a backoff.
func retryable(err error) bool {
	if errors.Is(err, errTimeout) || errors.Is(err, errHandshakeEOF) {
		return true
	}
	for _, e := range retryableErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// consumeHead finds the end of the 101 response head, checks it and returns
// the bytes after it. Without copying when the head arrives in one read.
func (c *conn) consumeHead(p []byte) ([]byte, bool) {
	var head, rest []byte
	if len(c.hs) == 0 {
		if i := indexHeadEnd(p, 0); i >= 0 {
			head, rest = p[:i], p[i+4:]
		}
	}
	if head == nil {
		from := max(0, len(c.hs)-3)
		c.hs = append(c.hs, p...)
		i := indexHeadEnd(c.hs, from)
		if i < 0 {
			if len(c.hs) > maxResponseHead {
				c.fail(kindHandshake, fmt.Errorf("load: handshake: response head over %d bytes: %q...", maxResponseHead, c.hs[:64]))
			}
			return nil, false
		}
		head, rest = c.hs[:i], c.hs[i+4:]
	}
	cfg := &c.l.r.cfg
	ans, err := checkUpgradeResponse(head, c.key, cfg.Deflate, cfg.Takeover)
	if err != nil {
		c.fail(kindHandshake, err)
		return nil, false
	}
	c.deflate, c.takeover = ans.on, ans.serverTakeover
	c.open()
	return rest, c.state == stOpen
}

func indexHeadEnd(b []byte, from int) int {
	for i := from; i+3 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' && b[i+2] == '\r' && b[i+3] == '\n' {
			return i
		}
	}
	return -1
}
