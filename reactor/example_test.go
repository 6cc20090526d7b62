package reactor_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wsreactor/wsreactor/reactor"
)

// Echo sends back whatever it receives, in whatever pieces it arrives.
type Echo struct{ reactor.BaseProtocol }

func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }

func Example() {
	r := reactor.New(reactor.WithLoops(1))
	r.ListenTCP("127.0.0.1:0", reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return new(Echo) }))
	go r.Run()
	<-r.Started()
	defer r.Stop(context.Background())

	c, _ := net.Dial("tcp", r.Addr().String())
	defer c.Close()
	fmt.Fprintf(c, "hello, reactor\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(line)
	// Output: hello, reactor
}

// Greeter writes on connect, then hangs up: LoseConnection closes only
// after the greeting has gone out.
type Greeter struct{ reactor.BaseProtocol }

func (g *Greeter) ConnectionMade(t reactor.Transport) {
	t.Write([]byte("hello and goodbye\n"))
	t.LoseConnection()
}

func ExampleTransport_LoseConnection() {
	r := reactor.New(reactor.WithLoops(1))
	r.ListenTCP("127.0.0.1:0", reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return new(Greeter) }))
	go r.Run()
	<-r.Started()
	defer r.Stop(context.Background())

	c, _ := net.Dial("tcp", r.Addr().String())
	defer c.Close()
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(line)
	// Output: hello and goodbye
}

func ExampleFakeClock() {
	var clock reactor.FakeClock
	timeout := clock.CallLater(10*time.Second, func() { fmt.Println("timed out") })
	clock.Advance(9 * time.Second)
	timeout.Reset(10 * time.Second) // traffic: push the deadline back
	clock.Advance(9 * time.Second)
	fmt.Println("still waiting:", timeout.Active())
	clock.Advance(time.Second)
	// Output:
	// still waiting: true
	// timed out
}

// A LoopingCall keeps a cadence on whatever schedules it: here a FakeClock,
// in a server a connection's Transport (see examples/heartbeat).
func ExampleLoopingCall() {
	clock := reactor.NewFakeClock(time.Unix(0, 0))
	start := clock.Now()
	var beat *reactor.LoopingCall
	beat = reactor.NewLoopingCall(clock, func() {
		fmt.Println("beat", beat.Calls(), "at", clock.Now().Sub(start))
		if beat.Calls() == 3 {
			beat.Stop()
		}
	})
	beat.Start(30*time.Second, true) // now: the first beat at once
	clock.Advance(10 * time.Minute)
	fmt.Println("running:", beat.Running())
	// Output:
	// beat 1 at 0s
	// beat 2 at 30s
	// beat 3 at 1m0s
	// running: false
}

// Lookup does its slow work on another goroutine and brings the answer
// back to the connection's loop with CallFromThread: a callback never
// blocks, and a Transport is used only on its loop.
type Lookup struct{ reactor.BaseProtocol }

func (l *Lookup) DataReceived(data []byte) {
	name := string(bytes.TrimSpace(data)) // a copy: data is lent for this call only
	t := l.Transport
	go func() {
		answer := strings.ToUpper(name) // stands for a blocking lookup
		t.CallFromThread(func() { t.Write([]byte(name + " is " + answer + "\n")) })
	}()
}

func ExampleTransport_CallFromThread() {
	r := reactor.New(reactor.WithLoops(2))
	r.ListenTCP("127.0.0.1:0", reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return new(Lookup) }))
	if err := r.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer r.Stop(context.Background())

	c, _ := net.Dial("tcp", r.Addr().String())
	defer c.Close()
	fmt.Fprintf(c, "gnet\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(line)
	// Output: gnet is GNET
}
