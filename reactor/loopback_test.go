package reactor

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEchoLoopback(t *testing.T) {
	r := start(t, echoFactory())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			c, err := net.Dial("tcp", r.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			rng := rand.New(rand.NewSource(seed))
			msg := make([]byte, 200_000)
			rng.Read(msg)
			go func() {
				// Write in random pieces.
				for p := msg; len(p) > 0; {
					n := min(len(p), 1+rng.Intn(9000))
					if _, err := c.Write(p[:n]); err != nil {
						return
					}
					p = p[n:]
				}
			}()
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Errorf("client %d: %v", seed, err)
				return
			}
			if !bytes.Equal(got, msg) {
				t.Errorf("client %d: echo differs", seed)
			}
		}(int64(i))
	}
	wg.Wait()
	waitFor(t, "connections to close", func() bool { return r.Connections() == 0 })
}

// TestDataSplit checks that a stream arrives whole however it is cut: one
// byte at a time, and larger than the read buffer (several DataReceived).
func TestDataSplit(t *testing.T) {
	f := newRecorders(nil)
	r := start(t, f)

	c := dial(t, r)
	p := f.next(t)
	msg := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for i := range msg {
		if _, err := c.Write(msg[i : i+1]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 64*1024) // 1 MiB > 64 KiB read buffer
	if _, err := c.Write(big); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), msg...), big...)
	var got []byte
	calls := 0
	for len(got) < len(want) {
		select {
		case d := <-p.data:
			if len(d) == 0 {
				t.Fatal("DataReceived with empty data")
			}
			if len(d) > 64*1024 {
				t.Fatalf("DataReceived with %d bytes; read buffer is 64 KiB", len(d))
			}
			got = append(got, d...)
			calls++
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d bytes", len(got), len(want))
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("stream differs")
	}
	if calls < len(msg)/2 || calls < 17 {
		t.Errorf("%d DataReceived calls; expected the stream in many pieces", calls)
	}
}

// TestDataReceivedMayModify checks that a protocol can modify data in place
// (unmasking, say) without affecting anything else.
func TestDataReceivedMayModify(t *testing.T) {
	r := start(t, FactoryFunc(func(net.Addr) Protocol {
		return &funcProtocol{data: func(tr Transport, d []byte) {
			for i := range d {
				d[i] ^= 0x20
			}
			tr.Write(d)
		}}
	}))
	c := dial(t, r)
	c.Write([]byte("hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "HELLO" {
		t.Fatalf("got %q, %v; want HELLO", got, err)
	}
}

type funcProtocol struct {
	BaseProtocol
	made func(Transport)
	data func(Transport, []byte)
	lost func(error)
}

func (p *funcProtocol) ConnectionMade(t Transport) {
	p.Transport = t
	if p.made != nil {
		p.made(t)
	}
}

func (p *funcProtocol) DataReceived(d []byte) {
	if p.data != nil {
		p.data(p.Transport, d)
	}
}

func (p *funcProtocol) ConnectionLost(err error) {
	if p.lost != nil {
		p.lost(err)
	}
}

func TestAddr(t *testing.T) {
	r := start(t, echoFactory())
	a, ok := r.Addr().(*net.TCPAddr)
	if !ok || a.Port == 0 || !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("Addr() = %v; want 127.0.0.1 with a real port", r.Addr())
	}
}

func TestReusePortZero(t *testing.T) {
	r := start(t, echoFactory(), WithReusePort(true))
	a := r.Addr().(*net.TCPAddr)
	if a.Port == 0 {
		t.Fatalf("Addr() = %v", a)
	}
	// Every loop listens on the same port: all connections echo.
	for i := 0; i < 20; i++ {
		c := dial(t, r)
		c.Write([]byte("x"))
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
}

func TestListenErrors(t *testing.T) {
	r := New()
	if err := r.Run(); err == nil {
		t.Error("Run before ListenTCP succeeded")
	}
	r = New()
	if err := r.ListenTCP("nonsense", echoFactory()); err == nil {
		t.Error("ListenTCP(\"nonsense\") succeeded")
	}
	if err := r.ListenTCP("127.0.0.1:0", nil); err == nil {
		t.Error("ListenTCP with nil factory succeeded")
	}
	// An address in use: Run returns the error and Started stays open.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r = New(WithLoops(1))
	if err := r.ListenTCP(busy.Addr().String(), echoFactory()); err != nil {
		t.Fatal(err)
	}
	if err := r.ListenTCP("127.0.0.1:0", echoFactory()); err == nil {
		t.Error("second ListenTCP succeeded")
	}
	if err := r.Run(); err == nil {
		t.Error("Run on a busy address succeeded")
	}
	select {
	case <-r.Started():
		t.Error("Started closed though listening failed")
	default:
	}
}

func TestStopBeforeRun(t *testing.T) {
	r := New(WithLoops(1))
	r.ListenTCP("127.0.0.1:0", echoFactory())
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- r.Run() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run after Stop did not return")
	}
}

func TestCallFromThread(t *testing.T) {
	f := newRecorders(nil)
	r := start(t, f)
	c := dial(t, r)
	p := f.next(t)
	tr := <-p.made
	var wg sync.WaitGroup
	var n atomic.Int32
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tr.CallFromThread(func() {
				n.Add(1)
				tr.Write([]byte("x"))
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := make([]byte, 10)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "xxxxxxxxxx" {
		t.Fatalf("got %q, %v", got, err)
	}
	if n.Load() != 10 {
		t.Fatalf("%d functions ran; want 10", n.Load())
	}
}

func TestCallLaterOnLoop(t *testing.T) {
	fired := make(chan time.Duration, 1)
	var pending *DelayedCall
	r := start(t, FactoryFunc(func(net.Addr) Protocol {
		return &funcProtocol{made: func(tr Transport) {
			begin := time.Now()
			cancelled := tr.CallLater(10*time.Millisecond, func() { t.Error("cancelled call ran") })
			cancelled.Cancel()
			pending = tr.CallLater(time.Hour, func() {})
			tr.CallLater(30*time.Millisecond, func() {
				fired <- time.Since(begin)
				tr.Write([]byte("tick"))
				pending.Cancel()
			})
		}}
	}))
	c := dial(t, r)
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "tick" {
		t.Fatalf("got %q, %v; want tick", got, err)
	}
	if d := <-fired; d < 30*time.Millisecond || d > 2*time.Second {
		t.Errorf("CallLater(30ms) ran after %v", d)
	}
	waitFor(t, "timers to drain", func() bool { return r.PendingTimers() == 0 })
}

func TestReactorCallLater(t *testing.T) {
	r := start(t, echoFactory())
	done := make(chan struct{})
	cancelled := r.CallLater(5*time.Millisecond, func() { t.Error("cancelled call ran") })
	r.CallLater(20*time.Millisecond, func() { close(done) })
	cancelled.Cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Reactor.CallLater did not fire")
	}
	if n := r.PendingTimers(); n != 0 {
		t.Fatalf("PendingTimers = %d; want 0", n)
	}
}

// TestManyTimersOnLoops schedules thousands of timers from connections and
// checks every one fires, on time order, with few driver wake-ups.
func TestManyTimersOnLoops(t *testing.T) {
	const conns, perConn = 20, 200
	var fired atomic.Int64
	r := start(t, FactoryFunc(func(net.Addr) Protocol {
		return &funcProtocol{made: func(tr Transport) {
			for i := 0; i < perConn; i++ {
				tr.CallLater(time.Duration(i%50)*time.Millisecond, func() { fired.Add(1) })
			}
		}}
	}))
	for i := 0; i < conns; i++ {
		dial(t, r)
	}
	waitFor(t, "all timers to fire", func() bool { return fired.Load() == conns*perConn })
	waitFor(t, "no timers pending", func() bool { return r.PendingTimers() == 0 })
}

func TestForEachProtocol(t *testing.T) {
	f := newRecorders(nil)
	r := start(t, f)
	const n = 10
	var clients []net.Conn
	for i := 0; i < n; i++ {
		clients = append(clients, dial(t, r))
		f.next(t)
	}
	waitFor(t, "connections", func() bool { return r.Connections() == n })
	var visited atomic.Int32
	r.ForEachProtocol(func(p Protocol) {
		visited.Add(1)
		rp := p.(*recorder)
		rp.Transport.Write([]byte("bye"))
		rp.Transport.LoseConnection()
	})
	if visited.Load() != n {
		t.Fatalf("ForEachProtocol visited %d protocols; want %d", visited.Load(), n)
	}
	for i, c := range clients {
		got, err := readAll(c)
		if err != nil || string(got) != "bye" {
			t.Errorf("client %d: got %q, %v; want bye then EOF", i, got, err)
		}
		c.Close()
	}
	waitFor(t, "connections to close", func() bool { return r.Connections() == 0 })
}

func TestStopListening(t *testing.T) {
	var built atomic.Int32
	r := start(t, FactoryFunc(func(net.Addr) Protocol {
		built.Add(1)
		return new(echo)
	}))
	old := dial(t, r)
	waitFor(t, "first connection", func() bool { return r.Connections() == 1 })
	r.StopListening()
	refused := dial(t, r)
	if got, err := readAll(refused); err != nil && !isReset(err) || len(got) != 0 {
		t.Fatalf("refused connection read %q, %v; want EOF", got, err)
	}
	if built.Load() != 1 {
		t.Fatalf("factory called %d times; want 1", built.Load())
	}
	old.Write([]byte("still here"))
	got := make([]byte, 10)
	if _, err := io.ReadFull(old, got); err != nil || string(got) != "still here" {
		t.Fatalf("old connection: %q, %v", got, err)
	}
}

func TestStopClosesConnections(t *testing.T) {
	f := newRecorders(func(p *recorder) {
		p.onData = func(tr Transport, _ []byte) { tr.CallLater(time.Hour, func() {}) }
	})
	r := New(WithLoops(2))
	r.ListenTCP("127.0.0.1:0", f)
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run() }()
	<-r.Started()
	var ps []*recorder
	for i := 0; i < 4; i++ {
		c := dial(t, r)
		c.Write([]byte("x"))
		p := f.next(t)
		<-p.data
		ps = append(ps, p)
	}
	r.CallLater(time.Hour, func() {})
	if n := r.PendingTimers(); n != 5 {
		t.Fatalf("PendingTimers = %d; want 5", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	begin := time.Now()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		err := p.waitLost(t)
		if !isDone(err) || !errorsIs(err, ErrStopped) {
			t.Errorf("connection %d: reason %v; want ErrConnectionDone and ErrStopped", i, err)
		}
	}
	if r.Connections() != 0 || r.PendingTimers() != 0 {
		t.Fatalf("after Stop: %d connections, %d timers", r.Connections(), r.PendingTimers())
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed")
	}
	if err := r.Run(); err == nil {
		t.Fatal("second Run succeeded")
	}
	r.ForEachProtocol(func(Protocol) { t.Error("ForEachProtocol after Stop ran fn") })
}

// TestReadBufferCap: WithReadBufferCap bounds what one DataReceived
// carries, and a large one takes what the socket has queued in one read
// (the reason service.DefaultReadBuffer is 512 KiB, not gnet's 64 KiB). The
// first DataReceived holds the loop for a while, so that the rest of the
// client's 600 KiB is queued in the socket (SO_RCVBUF 1 MiB) by the time
// of the next read.
func TestReadBufferCap(t *testing.T) {
	for _, tc := range []struct {
		readBuf  int
		min, max int // bounds on the largest DataReceived after the first
	}{
		{4096, 4096, 4096},
		{1 << 20, 64<<10 + 1, 1 << 20},
	} {
		chunks := make(chan int, 1024)
		first := true
		r := start(t, FactoryFunc(func(net.Addr) Protocol {
			return &funcProtocol{data: func(tr Transport, d []byte) {
				if first {
					first = false
					time.Sleep(300 * time.Millisecond)
				}
				chunks <- len(d)
			}}
		}), WithLoops(1), WithReadBufferCap(tc.readBuf), WithSocketBuffers(1<<20, 0))
		c := dial(t, r)
		const total = 600 << 10
		if _, err := c.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // the one byte is read alone; the loop now sleeps
		if _, err := c.Write(make([]byte, total-1)); err != nil {
			t.Fatal(err)
		}
		got, largest := 0, 0
		for got < total {
			select {
			case n := <-chunks:
				if got > 0 {
					largest = max(largest, n)
				}
				got += n
			case <-time.After(10 * time.Second):
				t.Fatalf("read buffer %d: received %d of %d bytes", tc.readBuf, got, total)
			}
		}
		if largest < tc.min || largest > tc.max {
			t.Errorf("read buffer %d: largest DataReceived %d bytes; want %d to %d", tc.readBuf, largest, tc.min, tc.max)
		}
		c.Close()
	}
}
