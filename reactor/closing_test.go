package reactor

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }
func isDone(err error) bool {
	return errors.Is(err, ErrConnectionDone) && !errors.Is(err, ErrConnectionLost)
}
func isLost(err error) bool {
	return errors.Is(err, ErrConnectionLost) && !errors.Is(err, ErrConnectionDone)
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>13)
	}
	return b
}

// TestLoseConnectionFlushesLargeOutput writes 8 MiB to a client that reads
// slowly, then calls LoseConnection: the client must get every byte, then
// EOF, although gnet alone would give the backlog one try at close.
func TestLoseConnectionFlushesLargeOutput(t *testing.T) {
	const size = 8 << 20
	payload := pattern(size)
	buffered := make(chan int, 1)
	f := newRecorders(func(p *recorder) {
		p.onData = func(tr Transport, _ []byte) {
			tr.Write(payload)
			buffered <- tr.OutboundBuffered()
			tr.LoseConnection()
			if _, err := tr.Write([]byte("late")); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after LoseConnection: %v; want ErrClosed", err)
			}
		}
	})
	r := start(t, f)
	c := dial(t, r)
	c.SetReadBuffer(16 << 10)
	c.Write([]byte("go"))
	p := f.next(t)
	if n := <-buffered; n == 0 {
		t.Fatal("OutboundBuffered() = 0 right after an 8 MiB write; the drain path was not exercised")
	}
	// Read slowly at first, so the backlog outlives several drain polls.
	begin := time.Now()
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	rest, err := readAll(c)
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(head)+len(rest), err)
	}
	got := append(head, rest...)
	if len(got) != size || !bytes.Equal(got, payload) {
		t.Fatalf("received %d bytes (equal=%v); want all %d", len(got), bytes.Equal(got, payload), size)
	}
	t.Logf("read all after %v", time.Since(begin))
	c.Close() // our FIN ends the server's linger
	if err := p.waitLost(t); !isDone(err) {
		t.Fatalf("reason %v; want ErrConnectionDone", err)
	}
	t.Logf("lost after %v", time.Since(begin))
	waitFor(t, "timers", func() bool { return r.PendingTimers() == 0 })
}

// TestLoseConnectionLingerTimeout: a peer that never closes its side is
// closed after the linger timeout; one that never reads stays until aborted.
func TestLoseConnectionLingerTimeout(t *testing.T) {
	f := newRecorders(func(p *recorder) {
		p.onData = func(tr Transport, _ []byte) {
			tr.Write([]byte("bye"))
			tr.LoseConnection()
		}
	})
	r := start(t, f, WithLingerTimeout(50*time.Millisecond))
	c := dial(t, r)
	c.Write([]byte("x"))
	p := f.next(t)
	got := make([]byte, 3)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(got); n != 0 || err != io.EOF {
		t.Fatalf("after bye: %d, %v; want EOF (half-close)", n, err)
	}
	// We keep our side open (and even send more, which is read and dropped).
	c.Write([]byte("ignored"))
	begin := time.Now()
	if err := p.waitLost(t); !isDone(err) {
		t.Fatalf("reason %v; want ErrConnectionDone", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("closed after %v; linger is 50ms", d)
	}
	if len(p.data) != 1 {
		t.Fatalf("%d DataReceived calls; none should follow LoseConnection", len(p.data))
	}
}

func TestLoseConnectionNoLinger(t *testing.T) {
	f := newRecorders(func(p *recorder) {
		p.onData = func(tr Transport, _ []byte) {
			tr.Write([]byte("bye"))
			tr.LoseConnection()
		}
	})
	r := start(t, f, WithLingerTimeout(0))
	c := dial(t, r)
	c.Write([]byte("x"))
	p := f.next(t)
	if err := p.waitLost(t); !isDone(err) {
		t.Fatalf("reason %v; want ErrConnectionDone", err)
	}
	if got, err := readAll(c); string(got) != "bye" || err != nil {
		t.Fatalf("got %q, %v; want bye then EOF", got, err)
	}
}

func TestAbortConnection(t *testing.T) {
	f := newRecorders(func(p *recorder) {
		p.onData = func(tr Transport, _ []byte) {
			tr.Write(pattern(8 << 20))
			tr.AbortConnection()
			tr.AbortConnection()
			tr.LoseConnection() // no effect after abort
			if _, err := tr.Write([]byte("x")); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after AbortConnection: %v; want ErrClosed", err)
			}
		}
	})
	r := start(t, f)
	c := dial(t, r)
	c.SetReadBuffer(16 << 10)
	c.Write([]byte("go"))
	p := f.next(t)
	err := p.waitLost(t)
	if !isLost(err) || !errors.Is(err, ErrAborted) {
		t.Fatalf("reason %v; want ErrConnectionLost wrapping ErrAborted", err)
	}
	got, rerr := readAll(c)
	if len(got) >= 8<<20 {
		t.Fatalf("client got all %d bytes; abort should drop the backlog", len(got))
	}
	if !isReset(rerr) {
		t.Fatalf("client read ended with %v; want a reset", rerr)
	}
}

func TestConnectionLostReasons(t *testing.T) {
	f := newRecorders(nil)
	r := start(t, f)

	t.Run("peer closes cleanly", func(t *testing.T) {
		c := dial(t, r)
		p := f.next(t)
		<-p.made
		c.Close()
		err := p.waitLost(t)
		if !isDone(err) || !errors.Is(err, io.EOF) {
			t.Fatalf("reason %v; want ErrConnectionDone wrapping io.EOF", err)
		}
	})
	t.Run("peer resets", func(t *testing.T) {
		c := dial(t, r)
		p := f.next(t)
		<-p.made
		resetClose(t, c)
		err := p.waitLost(t)
		if !isLost(err) || !isReset(err) {
			t.Fatalf("reason %v; want ErrConnectionLost wrapping ECONNRESET", err)
		}
	})
	t.Run("we close", func(t *testing.T) {
		c := dial(t, r)
		p := f.next(t)
		tr := <-p.made
		tr.CallFromThread(tr.LoseConnection)
		if got, err := readAll(c); len(got) != 0 || err != nil {
			t.Fatalf("client got %q, %v; want EOF", got, err)
		}
		c.Close()
		if err := p.waitLost(t); !isDone(err) {
			t.Fatalf("reason %v; want ErrConnectionDone", err)
		}
	})
	t.Run("we abort", func(t *testing.T) {
		c := dial(t, r)
		p := f.next(t)
		tr := <-p.made
		tr.CallFromThread(tr.AbortConnection)
		if _, err := readAll(c); !isReset(err) {
			t.Fatalf("client read ended with %v; want a reset", err)
		}
		if err := p.waitLost(t); !isLost(err) {
			t.Fatalf("reason %v; want ErrConnectionLost", err)
		}
	})
	if t.Failed() {
		return
	}
	waitFor(t, "connections to close", func() bool { return r.Connections() == 0 })
}

func TestFactoryRefuses(t *testing.T) {
	addrs := make(chan net.Addr, 10)
	r := start(t, FactoryFunc(func(a net.Addr) Protocol {
		addrs <- a
		return nil
	}), WithLoops(1))
	c := dial(t, r)
	if got, err := readAll(c); len(got) != 0 || (err != nil && !isReset(err)) {
		t.Fatalf("refused connection: %q, %v; want EOF", got, err)
	}
	if r.Connections() != 0 {
		t.Fatalf("Connections() = %d; want 0", r.Connections())
	}
	ln := c.LocalAddr().(*net.TCPAddr)
	if a := <-addrs; a.(*net.TCPAddr).Port != ln.Port || len(addrs) != 0 {
		t.Fatalf("factory saw %v; want the client's address %v once", a, ln)
	}
}

func TestTransportAddrs(t *testing.T) {
	f := newRecorders(nil)
	r := start(t, f)
	c := dial(t, r)
	tr := <-f.next(t).made
	addrs := make(chan [2]net.Addr, 1)
	tr.CallFromThread(func() { addrs <- [2]net.Addr{tr.LocalAddr(), tr.RemoteAddr()} })
	a := <-addrs
	if a[0].String() != c.RemoteAddr().String() || a[1].String() != c.LocalAddr().String() {
		t.Fatalf("LocalAddr, RemoteAddr = %v, %v; want %v, %v", a[0], a[1], c.RemoteAddr(), c.LocalAddr())
	}
}
