// Command heartbeat shows the reactor's timers: an echo server whose
// connections each get a "beat N" line every interval from a LoopingCall
// (Twisted's task.LoopingCall) on their own event loop, and are dropped
// when they have been silent for the timeout, with one DelayedCall pushed
// back by Reset on every read (Twisted's callLater(...).reset(...)):
//
//	class Heartbeat(Protocol):
//	    def connectionMade(self):
//	        self.beat = task.LoopingCall(self.sendBeat)
//	        self.beat.start(interval, now=False)
//	        self.idle = reactor.callLater(timeout, self.timedOut)
//	    def dataReceived(self, data):
//	        self.idle.reset(timeout)
//	        self.transport.write(data)
//	    def connectionLost(self, reason):
//	        self.beat.stop()
//	        if self.idle.active(): self.idle.cancel()
//
// Nothing sleeps and no goroutine per connection waits: both timers are
// entries in the loop's timer heap. The test replaces the clock with a
// reactor.FakeClock and moves time by hand, as Twisted's tests do with
// task.Clock.
//
//	go run ./examples/heartbeat -addr :8002 -interval 1s -timeout 5s
//	nc localhost 8002      # type anything to stay connected
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/wsreactor/wsreactor/reactor"
)

// Heartbeat is one connection's protocol.
type Heartbeat struct {
	reactor.BaseProtocol
	interval, timeout time.Duration

	beat *reactor.LoopingCall
	idle *reactor.DelayedCall
	line []byte // scratch for "beat N\r\n", reused
}

func (h *Heartbeat) ConnectionMade(t reactor.Transport) {
	h.Transport = t
	h.beat = reactor.NewLoopingCall(t, h.sendBeat) // t schedules on this connection's loop
	h.beat.Start(h.interval, false)
	h.idle = t.CallLater(h.timeout, h.timedOut)
	// The greeting goes last: a client (the test) that reads it knows both
	// timers are running.
	t.Write([]byte("hello: a beat every " + h.interval.String() + "; say something at least every " + h.timeout.String() + "\r\n"))
}

// DataReceived pushes the idle timeout back (an O(1) Reset of the same
// DelayedCall, no allocation, however often data comes) and echoes data.
func (h *Heartbeat) DataReceived(data []byte) {
	h.idle.Reset(h.timeout)
	h.Transport.Write(data)
}

// ConnectionLost stops both timers: the reactor does not cancel a
// connection's delayed calls for it.
func (h *Heartbeat) ConnectionLost(reason error) {
	h.beat.Stop()
	h.idle.Cancel()
}

func (h *Heartbeat) sendBeat() {
	h.line = strconv.AppendInt(append(h.line[:0], "beat "...), int64(h.beat.Calls()), 10)
	h.Transport.Write(append(h.line, '\r', '\n'))
}

func (h *Heartbeat) timedOut() {
	h.Transport.Write([]byte("silent for " + h.timeout.String() + "; goodbye\r\n"))
	h.beat.Stop()
	h.Transport.LoseConnection()
}

// listen starts a reactor serving Heartbeat on addr; opts configure the
// reactor (the test passes reactor.WithClock with a FakeClock).
func listen(addr string, interval, timeout time.Duration, opts ...reactor.Option) (*reactor.Reactor, error) {
	if interval <= 0 || timeout <= 0 {
		return nil, fmt.Errorf("heartbeat: -interval %v and -timeout %v must be positive", interval, timeout)
	}
	r := reactor.New(opts...)
	err := r.ListenTCP(addr, reactor.FactoryFunc(func(net.Addr) reactor.Protocol {
		return &Heartbeat{interval: interval, timeout: timeout}
	}))
	if err != nil {
		return nil, err
	}
	return r, r.Start()
}

func main() {
	addr := flag.String("addr", ":8002", "TCP address to listen on")
	interval := flag.Duration("interval", time.Second, "time between beats")
	timeout := flag.Duration("timeout", 5*time.Second, "a connection silent this long is closed")
	flag.Parse()
	r, err := listen(*addr, *interval, *timeout)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("heartbeat: listening on %s", r.Addr())
	<-r.Done()
}
