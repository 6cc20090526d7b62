package reactor

import (
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Connection states (conn.state bits).
const (
	stClosing  uint8 = 1 << iota // LoseConnection or AbortConnection called
	stShutWR                     // output drained and FIN sent; lingering
	stAborted                    // AbortConnection called
	stLost                       // gnet closed it; ConnectionLost delivered or pending
	stDraining                   // in loop.draining
)

// conn is the reactor's per-connection state and the Transport given to the
// protocol. It is kept small (48 bytes on 64-bit): everything else lives in
// gnet's connection or in the loop. It is only touched on its loop goroutine.
type conn struct {
	gc    gnet.Conn
	proto Protocol
	loop  *loop
	idx   int32 // position in loop.conns
	state uint8
}

var _ Transport = (*conn)(nil)

func (c *conn) Write(p []byte) (int, error) {
	if c.state&(stClosing|stLost) != 0 {
		return 0, ErrClosed
	}
	return c.gc.Write(p)
}

func (c *conn) Writev(bufs [][]byte) (int, error) {
	if c.state&(stClosing|stLost) != 0 {
		return 0, ErrClosed
	}
	return c.gc.Writev(bufs)
}

func (c *conn) LoseConnection() {
	if c.state&(stClosing|stLost) != 0 {
		return
	}
	c.state |= stClosing
	if c.gc.OutboundBuffered() > 0 {
		c.loop.addDraining(c)
		return
	}
	c.loop.drained(c)
}

func (c *conn) AbortConnection() {
	if c.state&(stAborted|stLost) != 0 {
		return
	}
	c.state |= stClosing | stAborted
	_ = c.gc.SetLinger(0) // the close sends RST and drops what the kernel holds
	_ = c.gc.Close()
}

func (c *conn) OutboundBuffered() int {
	if c.state&stLost != 0 {
		return 0
	}
	return c.gc.OutboundBuffered()
}

func (c *conn) CallLater(d time.Duration, fn func()) *DelayedCall {
	return c.loop.timers.callLater(d, fn)
}

func (c *conn) CallFromThread(fn func()) error { return c.loop.callFromThread(fn) }

// LocalAddr asks the socket (getsockname): gnet reports the listener's
// configured address, which says port 0 or an unspecified IP.
func (c *conn) LocalAddr() net.Addr {
	if c.state&stLost != 0 {
		return c.gc.LocalAddr() // nil once gnet has released the connection
	}
	if a := sockName(c.gc.Fd()); a != nil {
		return a
	}
	return c.gc.LocalAddr()
}

func (c *conn) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

func (c *conn) Loop() int { return c.loop.id }
