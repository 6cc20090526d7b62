package reactor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// start runs a reactor on 127.0.0.1:0 with two loops and stops it when the
// test ends, checking that Run returned nil and nothing leaked.
func start(t *testing.T, f Factory, opts ...Option) *Reactor {
	t.Helper()
	var logBuf syncBuffer
	opts = append([]Option{WithLoops(2), WithLogger(log.New(&logBuf, "", 0))}, opts...)
	r := New(opts...)
	if err := r.ListenTCP("127.0.0.1:0", f); err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run() }()
	select {
	case <-r.Started():
	case err := <-runErr:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("reactor did not start")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
		if n := r.Connections(); n != 0 {
			t.Errorf("after Stop: Connections() = %d; want 0", n)
		}
		if n := r.PendingTimers(); n != 0 {
			t.Errorf("after Stop: PendingTimers() = %d; want 0", n)
		}
		if s := logBuf.String(); s != "" && t.Failed() {
			t.Logf("reactor log:\n%s", s)
		}
	})
	return r
}

func dial(t *testing.T, r *Reactor) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c.(*net.TCPConn)
}

// readAll reads until EOF and returns what came and the error that ended it
// (nil for a clean EOF).
func readAll(c net.Conn) ([]byte, error) {
	var b bytes.Buffer
	_, err := io.Copy(&b, c)
	return b.Bytes(), err
}

// resetClose closes c with SO_LINGER 0: the server sees a reset.
func resetClose(t *testing.T, c *net.TCPConn) {
	t.Helper()
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recorder is a Protocol that reports its events on channels.
type recorder struct {
	BaseProtocol
	made chan Transport
	data chan []byte
	lost chan error

	onData func(t Transport, data []byte)
}

func newRecorder() *recorder {
	return &recorder{made: make(chan Transport, 1), data: make(chan []byte, 1024), lost: make(chan error, 1)}
}

func (p *recorder) ConnectionMade(t Transport) {
	p.Transport = t
	p.made <- t
}

func (p *recorder) DataReceived(data []byte) {
	p.data <- append([]byte(nil), data...)
	if p.onData != nil {
		p.onData(p.Transport, data)
	}
}

func (p *recorder) ConnectionLost(reason error) { p.lost <- reason }

func (p *recorder) waitLost(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.lost:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ConnectionLost not called")
		return nil
	}
}

// recorders is a Factory handing out recorders, one per connection, in order.
type recorders struct {
	ch    chan *recorder
	setup func(*recorder)
}

func newRecorders(setup func(*recorder)) *recorders {
	return &recorders{ch: make(chan *recorder, 1024), setup: setup}
}

func (f *recorders) BuildProtocol(net.Addr) Protocol {
	p := newRecorder()
	if f.setup != nil {
		f.setup(p)
	}
	f.ch <- p
	return p
}

func (f *recorders) next(t *testing.T) *recorder {
	t.Helper()
	select {
	case p := <-f.ch:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no connection built")
		return nil
	}
}

type echo struct{ BaseProtocol }

func (e *echo) DataReceived(data []byte) { e.Transport.Write(data) }

func echoFactory() Factory { return FactoryFunc(func(net.Addr) Protocol { return new(echo) }) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
