package reactor

import (
	"errors"
	"io"
	"log"
	"strings"
	"testing"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
)

// fakeGnetConn stands in for a gnet connection in tests without sockets.
type fakeGnetConn struct {
	gnet.Conn
	closed, linger0 bool
}

func (f *fakeGnetConn) Close() error          { f.closed = true; return nil }
func (f *fakeGnetConn) SetLinger(s int) error { f.linger0 = s == 0; return nil }
func (f *fakeGnetConn) OutboundBuffered() int { return 0 }
func (f *fakeGnetConn) Write([]byte) (int, error) {
	return 0, errors.New("write: broken pipe")
}

func newTestLoop(logTo *strings.Builder) *loop {
	r := &Reactor{opts: defaultOptions()}
	r.opts.Logger = log.New(logTo, "", 0)
	r.timers = newTimers(r.opts.Clock, r.opts.Clock.Now(), true)
	return &loop{r: r, timers: newTimers(r.opts.Clock, r.opts.Clock.Now(), false)}
}

// TestConnectionLostNotNested: when gnet closes a connection while one of
// its callbacks runs (a failed write closes synchronously), ConnectionLost
// is delivered after the callback returns, not inside it.
func TestConnectionLostNotNested(t *testing.T) {
	var sb strings.Builder
	l := newTestLoop(&sb)
	var events []string
	inData := false
	var c *conn
	p := &funcProtocol{
		data: func(tr Transport, d []byte) {
			inData = true
			defer func() { inData = false }()
			events = append(events, "data")
			l.closed(c, errors.New("write: broken pipe")) // what gnet does inside c.Write
			events = append(events, "data continues")
		},
		lost: func(err error) {
			if inData {
				t.Error("ConnectionLost called inside DataReceived")
			}
			if !isLost(err) {
				t.Errorf("reason %v; want ErrConnectionLost", err)
			}
			events = append(events, "lost")
		},
	}
	c = &conn{gc: &fakeGnetConn{}, proto: p, loop: l}
	l.add(c)
	l.r.conns.Add(1)
	l.connectionMade(c)
	l.dataReceived(c, []byte("x"))
	if got := strings.Join(events, ","); got != "data,data continues,lost" {
		t.Fatalf("events %s; want data,data continues,lost", got)
	}
	if l.r.conns.Load() != 0 || len(l.conns) != 0 {
		t.Fatalf("connection still counted")
	}
}

// TestPanicAbortsConnection: a panicking callback is logged and its
// connection aborted; the loop goes on.
func TestPanicAbortsConnection(t *testing.T) {
	var sb strings.Builder
	l := newTestLoop(&sb)
	gc := &fakeGnetConn{}
	c := &conn{gc: gc, proto: &funcProtocol{data: func(Transport, []byte) { panic("boom") }}, loop: l}
	l.add(c)
	l.dataReceived(c, []byte("x"))
	if !gc.closed || !gc.linger0 || c.state&stAborted == 0 {
		t.Fatalf("connection not aborted after panic (closed=%v linger0=%v)", gc.closed, gc.linger0)
	}
	if !strings.Contains(sb.String(), "boom") {
		t.Fatalf("panic not logged: %q", sb.String())
	}
	if l.depth != 0 {
		t.Fatalf("depth %d after panic; want 0", l.depth)
	}
	// A panic in a timer callback is logged too.
	l.run(func() { panic("timer boom") })
	if !strings.Contains(sb.String(), "timer boom") || l.depth != 0 {
		t.Fatalf("timer panic: log %q, depth %d", sb.String(), l.depth)
	}
}

func TestLostReasons(t *testing.T) {
	tests := []struct {
		st         uint8
		err        error
		done, lost bool
		cause      error
	}{
		{stClosing, nil, true, false, nil},
		{0, nil, true, false, ErrStopped},
		{0, io.EOF, true, false, io.EOF},
		{stClosing | stShutWR, io.EOF, true, false, io.EOF},
		{0, errors.New("read: connection reset by peer"), false, true, nil},
		{stClosing | stAborted, nil, false, true, ErrAborted},
	}
	for _, tt := range tests {
		r := lostReason(tt.st, tt.err)
		if errors.Is(r, ErrConnectionDone) != tt.done || errors.Is(r, ErrConnectionLost) != tt.lost {
			t.Errorf("lostReason(%b, %v) = %q; want done=%v lost=%v", tt.st, tt.err, r, tt.done, tt.lost)
		}
		if tt.cause != nil && !errors.Is(r, tt.cause) {
			t.Errorf("lostReason(%b, %v) = %q; want it to wrap %v", tt.st, tt.err, r, tt.cause)
		}
		if !strings.HasPrefix(r.Error(), "reactor: ") {
			t.Errorf("reason %q lacks the package prefix", r)
		}
	}
}

// TestConnSize pins the per-connection struct: the reactor adds it (plus
// the protocol) to gnet's own per-connection state.
func TestConnSize(t *testing.T) {
	if s := unsafe.Sizeof(conn{}); s > 48 {
		t.Fatalf("sizeof(conn) = %d; want <= 48", s)
	}
	if s := unsafe.Sizeof(DelayedCall{}); s > 48 {
		t.Fatalf("sizeof(DelayedCall) = %d; want <= 48", s)
	}
}
