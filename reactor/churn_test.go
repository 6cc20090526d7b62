package reactor

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// churnProtocol keeps an idle timer reset on traffic and ends its
// connection the way the client's first byte asks.
type churnProtocol struct {
	BaseProtocol
	idle *DelayedCall
}

func (p *churnProtocol) ConnectionMade(t Transport) {
	p.Transport = t
	p.idle = t.CallLater(time.Minute, t.AbortConnection)
}

func (p *churnProtocol) DataReceived(d []byte) {
	p.idle.Reset(time.Minute)
	switch d[0] {
	case 'e':
		p.Transport.Write(d)
	case 'l':
		p.Transport.Write(make([]byte, 256<<10))
		p.Transport.LoseConnection()
	case 'a':
		p.Transport.Write(make([]byte, 256<<10))
		p.Transport.AbortConnection()
	case 'p':
		panic("churn: protocol bug")
	}
}

func (p *churnProtocol) ConnectionLost(error) { p.idle.Cancel() }

// TestChurn opens and ends 400 connections in every way and checks that the
// connection and timer counts return to zero.
func TestChurn(t *testing.T) {
	var refuse sync.Mutex
	n := 0
	r := start(t, FactoryFunc(func(net.Addr) Protocol {
		refuse.Lock()
		defer refuse.Unlock()
		if n++; n%9 == 0 {
			return nil
		}
		return new(churnProtocol)
	}), WithLingerTimeout(100*time.Millisecond))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := 0; i < 400; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", r.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			tc := c.(*net.TCPConn)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			switch i % 6 {
			case 0: // echo, then clean close
				c.Write([]byte("echo"))
				io.ReadFull(c, make([]byte, 4))
				c.Close()
			case 1: // reset
				c.Write([]byte("e"))
				tc.SetLinger(0)
				c.Close()
			case 2: // server LoseConnection after output; client reads it all
				c.Write([]byte("l"))
				io.Copy(io.Discard, c)
				c.Close()
			case 3: // server abort
				c.Write([]byte("a"))
				io.Copy(io.Discard, c)
				c.Close()
			case 4: // protocol panics: aborted
				c.Write([]byte("p"))
				io.Copy(io.Discard, c)
				c.Close()
			case 5: // server LoseConnection; client never closes its side
				c.Write([]byte("l"))
				io.Copy(io.Discard, c)
				time.Sleep(150 * time.Millisecond)
				c.Close()
			}
		}(i)
	}
	wg.Wait()
	waitFor(t, "connections to reach 0", func() bool { return r.Connections() == 0 })
	waitFor(t, "timers to reach 0", func() bool { return r.PendingTimers() == 0 })
	// The reactor still serves.
	c := dial(t, r)
	c.Write([]byte("echo"))
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
}
