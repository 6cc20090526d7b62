package reactor

import (
	"io"
	"net"
	"testing"
	"time"
)

// idleProtocol echoes and closes a connection silent for 10s.
type idleProtocol struct {
	BaseProtocol
	idle *DelayedCall
	made chan bool
}

func (p *idleProtocol) ConnectionMade(t Transport) {
	p.Transport = t
	p.idle = t.CallLater(10*time.Second, func() {
		t.Write([]byte("idle\n"))
		t.LoseConnection()
	})
	p.made <- true
}

func (p *idleProtocol) DataReceived(d []byte) {
	p.idle.Reset(10 * time.Second)
	p.Transport.Write(d)
}

func (p *idleProtocol) ConnectionLost(error) { p.idle.Cancel() }

// TestFakeClockDrivesLoopTimers runs an idle timeout on a real event loop
// with a fake clock: no sleeping for the timeout.
func TestFakeClockDrivesLoopTimers(t *testing.T) {
	fc := NewFakeClock(epoch)
	made := make(chan bool, 1)
	r := start(t, FactoryFunc(func(net.Addr) Protocol {
		return &idleProtocol{made: made}
	}), WithClock(fc))
	c := dial(t, r)
	<-made

	fc.Advance(9 * time.Second)
	c.Write([]byte("ping"))
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatal(err) // echoed: DataReceived reset the idle timer to 19s
	}
	fc.Advance(9 * time.Second) // 18s
	if r.Connections() != 1 {
		t.Fatal("closed before its idle timeout")
	}
	reactorFired := false
	r.CallLater(500*time.Millisecond, func() { reactorFired = true }) // 18.5s: runs inside Advance
	fc.Advance(time.Second)                                           // 19s: idle
	if !reactorFired {
		t.Fatal("Reactor.CallLater did not run inside Advance")
	}
	got, err := readAll(c)
	if err != nil || string(got) != "idle\n" {
		t.Fatalf("got %q, %v; want idle then EOF", got, err)
	}
	c.Close()
	waitFor(t, "connection to close", func() bool { return r.Connections() == 0 })
	if n := r.PendingTimers(); n != 0 {
		t.Fatalf("PendingTimers = %d; want 0", n)
	}
}
