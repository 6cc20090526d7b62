package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Chan is one end of the handoff channel: a unix SOCK_SEQPACKET socket
// (message boundaries kept, descriptors passed with SCM_RIGHTS). Messages
// are a kind and a body of any length, with up to MaxFDs descriptors; a
// body longer than one packet goes as several, the descriptors riding on
// the first. A Chan is used by one goroutine at a time.
type Chan struct {
	fd  int
	buf []byte
	oob []byte
}

// MaxFDs is the most descriptors one message carries (the kernel's
// SCM_MAX_FD is 253).
const MaxFDs = 250

// packet layout: kind (1 byte), more (1 byte: another packet of this
// message follows), then body bytes.
const (
	packetHeader = 2
	packetBody   = 60 << 10 // fits the default socket send buffer many times
)

// Errors of the channel.
var (
	// ErrTimeout: nothing arrived within the time given to Recv.
	ErrTimeout = errors.New("handoff: timed out")
	// ErrClosed: the other end closed the channel (its process exited).
	ErrClosed = errors.New("handoff: channel closed by the other end")
)

// Pair returns the two ends of a new channel: the parent's, and the
// child's as an *os.File to give to exec.Cmd.ExtraFiles (it is not
// inherited otherwise; close it in the parent once the child has started).
func Pair() (*Chan, *os.File, error) {
	fds, err := seqpacketPair()
	if err != nil {
		return nil, nil, fmt.Errorf("handoff: socketpair: %w", err)
	}
	return newChan(fds[0]), os.NewFile(uintptr(fds[1]), "handoff"), nil
}

// RawPair returns the two descriptors of a new channel, close-on-exec,
// for a caller that gives both ends to other processes (FromFD reads one).
func RawPair() ([2]int, error) { return seqpacketPair() }

// FromFD returns the Chan on an inherited descriptor (the child's end),
// marking it close-on-exec.
func FromFD(fd int) (*Chan, error) {
	st, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("handoff: descriptor %d: %w", fd, err)
	}
	if st != unix.SOCK_SEQPACKET {
		return nil, fmt.Errorf("handoff: descriptor %d is not a SOCK_SEQPACKET socket", fd)
	}
	unix.CloseOnExec(fd)
	return newChan(fd), nil
}

func newChan(fd int) *Chan {
	return &Chan{fd: fd, buf: make([]byte, packetHeader+packetBody), oob: make([]byte, unix.CmsgSpace(MaxFDs*4))}
}

// Close closes this end.
func (c *Chan) Close() error { return unix.Close(c.fd) }

// Send sends one message of kind with body and fds (at most MaxFDs; they
// stay the caller's: the receiver gets duplicates). It blocks until the
// kernel has taken every packet, at most timeout per packet.
func (c *Chan) Send(kind byte, body []byte, fds []int, timeout time.Duration) error {
	if len(fds) > MaxFDs {
		return fmt.Errorf("handoff: %d descriptors in one message; at most %d", len(fds), MaxFDs)
	}
	for first := true; first || len(body) > 0; first = false {
		n := min(len(body), packetBody)
		pkt := append(c.buf[:0], kind, 0)
		if n < len(body) {
			pkt[1] = 1
		}
		pkt = append(pkt, body[:n]...)
		body = body[n:]
		var oob []byte
		if first && len(fds) > 0 {
			oob = unix.UnixRights(fds...)
		}
		if err := c.wait(unix.POLLOUT, timeout); err != nil {
			return err
		}
		if err := unix.Sendmsg(c.fd, pkt, oob, nil, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT); err != nil {
			if err == unix.EPIPE || err == unix.ECONNRESET {
				return ErrClosed
			}
			return fmt.Errorf("handoff: send: %w", err)
		}
	}
	return nil
}

// Recv receives one message, waiting at most timeout for each of its
// packets. The body is appended to dst's storage (dst[:0]); the
// descriptors are new, close-on-exec, and the caller's.
func (c *Chan) Recv(dst []byte, timeout time.Duration) (kind byte, body []byte, fds []int, err error) {
	body = dst[:0]
	for first := true; ; first = false {
		if err := c.wait(unix.POLLIN, timeout); err != nil {
			return 0, nil, fds, err
		}
		n, oobn, flags, _, err := recvCloexec(c.fd, c.buf, c.oob)
		if err != nil {
			return 0, nil, fds, fmt.Errorf("handoff: receive: %w", err)
		}
		got, perr := parseRights(c.oob[:oobn])
		markCloexec(got)
		fds = append(fds, got...)
		switch {
		case perr != nil:
			return 0, nil, fds, perr
		case n == 0:
			return 0, nil, fds, ErrClosed
		case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0:
			return 0, nil, fds, fmt.Errorf("handoff: packet or descriptors truncated (flags %#x)", flags)
		case n < packetHeader:
			return 0, nil, fds, fmt.Errorf("handoff: packet of %d bytes", n)
		case !first && c.buf[0] != kind:
			return 0, nil, fds, fmt.Errorf("handoff: packet of kind %d inside a message of kind %d", c.buf[0], kind)
		}
		kind = c.buf[0]
		body = append(body, c.buf[packetHeader:n]...)
		if c.buf[1] == 0 {
			return kind, body, fds, nil
		}
	}
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("handoff: control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, fmt.Errorf("handoff: control message: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// wait polls for ev up to timeout (<= 0: forever).
func (c *Chan) wait(ev int16, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ms := -1
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return ErrTimeout
			}
			ms = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: ev}}
		n, err := unix.Poll(fds, ms)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("handoff: poll: %w", err)
		case n == 0:
			return ErrTimeout
		case fds[0].Revents&ev != 0:
			return nil
		case fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0:
			return ErrClosed
		}
	}
}

// CloseFDs closes descriptors, ignoring errors (for cleaning up after a
// failed transfer).
func CloseFDs(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// AppendRecord appends rec to a batch body: its length (4 bytes, little
// endian) and its bytes.
func AppendRecord(body, rec []byte) []byte {
	body = binary.LittleEndian.AppendUint32(body, uint32(len(rec)))
	return append(body, rec...)
}

// Records splits a batch body into its records (which alias body).
func Records(body []byte) ([][]byte, error) {
	var recs [][]byte
	for len(body) > 0 {
		if len(body) < 4 {
			return nil, fmt.Errorf("handoff: batch cut inside a record length")
		}
		n := binary.LittleEndian.Uint32(body)
		if uint64(n) > uint64(len(body)-4) {
			return nil, fmt.Errorf("handoff: record of %d bytes in a batch of %d left", n, len(body)-4)
		}
		recs = append(recs, body[4:4+n])
		body = body[4+n:]
	}
	return recs, nil
}
