package conformance

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// 500 connections open at once, each echoing a few messages and closing
// cleanly. Each client runs on its own goroutine; all complete the
// handshake before any sends a message.
func TestConformanceConcurrent(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	const n = 500
	var opened, done sync.WaitGroup
	opened.Add(n)
	errs := make(chan error, n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			if err := rfcConcurrentClient(addr, i, &opened); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			}
		}()
	}
	done.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 5 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d connections failed", failed, n)
	}
}

// 20 connections echo 1 MiB messages at the same time, text and binary,
// cut into fragments of different sizes: connections on one event loop
// share its buffers, and must not see each other's bytes.
func TestConformanceConcurrentLarge(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := []byte{rfcOpText, rfcOpBinary}[i%2]
			payload := rfcBinaryPayload(1<<20, uint64(i))
			if op == rfcOpText {
				payload = rfcTextPayload(1<<20 - i)
			}
			if err := rfcEchoOnce(addr, op, payload, 1000+997*i); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// rfcEchoOnce opens a connection, sends payload as a message of op in
// fragments of fragSize while reading its echo, and closes.
func rfcEchoOnce(addr string, op byte, payload []byte, fragSize int) error {
	c, err := rfcOpen(addr)
	if err != nil {
		return err
	}
	defer c.conn.Close()
	done := c.writeAsync(rfcWire(rfcFragments(op, payload, fragSize)...), 64<<10)
	if err := c.checkMessage(op, payload); err != nil {
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	return c.closeHandshake()
}

// rfcConcurrentClient opens a connection, waits until every client has
// opened its own, then echoes three messages (one fragmented, one
// interleaved with a ping) and closes.
func rfcConcurrentClient(addr string, i int, opened *sync.WaitGroup) error {
	c, err := rfcOpen(addr)
	opened.Done()
	if err != nil {
		return err
	}
	defer c.conn.Close()
	opened.Wait()
	text := []byte(fmt.Sprintf("connection %d says hello", i))
	bin := rfcBinaryPayload(1000+i, uint64(i))
	frags := rfcFragments(rfcOpText, rfcTextPayload(300), 64)
	wire := rfcWire(append([]rfcFrame{rfcMsg(rfcOpText, text), rfcMsg(rfcOpBinary, bin), frags[0], rfcPing("p")}, frags[1:]...)...)
	if err := c.write(wire); err != nil {
		return err
	}
	if err := c.checkMessage(rfcOpText, text); err != nil {
		return err
	}
	if err := c.checkMessage(rfcOpBinary, bin); err != nil {
		return err
	}
	if ev, err := c.readEvent(); err != nil || ev.op != rfcOpPong || string(ev.payload) != "p" {
		return fmt.Errorf("got %v, %v; want pong \"p\"", ev, err)
	}
	if err := c.checkMessage(rfcOpText, rfcTextPayload(300)); err != nil {
		return err
	}
	return c.closeHandshake()
}

// Garbage, oversized and abandoned request heads, resets and protocol
// violations, many at once, do not stop the server from serving
// well-behaved clients at the same time: an open connection keeps echoing
// and new ones complete their handshakes. Each hostile connection gets
// the answer the RFC and the contract give it.
func TestConformanceHostile(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	good := openConn(t, addr)
	key := rfcNewKey()
	head := string(rfcRequest("/", key))
	// Each attack runs on a connection of its own and returns nil when the
	// server answered as it should.
	attacks := []struct {
		name string
		run  func(c *rfcClient) error
	}{
		{"binary garbage with a head end: 400", func(c *rfcClient) error {
			return rfcRejected(c, []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\xff garbage\r\n\r\n"), 400)
		}},
		{"oversized head: 431", func(c *rfcClient) error {
			return rfcRejected(c, []byte(strings.TrimSuffix(head, "\r\n")+"X-Big: "+strings.Repeat("a", 20<<10)+"\r\n\r\n"), 431)
		}},
		{"endless head: 431", func(c *rfcClient) error {
			return rfcRejected(c, append([]byte("GET / HTTP/1.1\r\n"), bytes.Repeat([]byte("X-A: b\r\n"), 2000)...), 431)
		}},
		{"random bytes: 400 or 431", func(c *rfcClient) error {
			// No empty line, so no end of head: the server may reject
			// the first line, or the head's size.
			return rfcRejected(c, bytes.ReplaceAll(rfcBinaryPayload(16<<10, 7), []byte("\n"), []byte("\n\x01")), 400, 431)
		}},
		{"half a head, abandoned open", func(c *rfcClient) error {
			return c.write([]byte(head[:len(head)/2]))
		}},
		{"reset at once", func(c *rfcClient) error {
			c.conn.(*net.TCPConn).SetLinger(0)
			return c.conn.Close()
		}},
		{"reset after half a head", func(c *rfcClient) error {
			if err := c.write([]byte(head[:len(head)/2])); err != nil {
				return err
			}
			c.conn.(*net.TCPConn).SetLinger(0)
			return c.conn.Close()
		}},
		{"unmasked frames after the handshake: 1002", func(c *rfcClient) error {
			f := rfcText("unmasked")
			f.unmasked = true
			if _, err := c.upgrade(append([]byte(head), rfcWire(f, f, f)...)); err != nil {
				return err
			}
			return c.checkClose(1002)
		}},
		{"frame declaring 2^63-1 bytes after the handshake, then silence", func(c *rfcClient) error {
			f := rfcMsg(rfcOpBinary, []byte("x"))
			n := uint64(1)<<63 - 1
			f.declared = &n
			_, err := c.upgrade(append([]byte(head), rfcWire(f)...))
			return err
		}},
		{"a well-behaved newcomer", func(c *rfcClient) error {
			k := rfcNewKey()
			resp, err := c.upgrade(rfcRequest("/", k))
			if err == nil {
				err = resp.checkUpgrade(k)
			}
			if err == nil {
				err = c.write(rfcWire(rfcText("newcomer")))
			}
			if err == nil {
				err = c.checkMessage(rfcOpText, []byte("newcomer"))
			}
			if err == nil {
				err = c.closeHandshake()
			}
			return err
		}},
	}
	const copies = 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	var hold []*rfcClient // abandoned connections, closed at the end
	for _, a := range attacks {
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := rfcDial(addr)
				if err == nil {
					err = a.run(c)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil && len(failures) < 10 {
					failures = append(failures, fmt.Sprintf("%s #%d: %v", a.name, i, err))
				}
				if c != nil {
					hold = append(hold, c)
				}
			}()
		}
	}
	stormDone := make(chan struct{})
	go func() { wg.Wait(); close(stormDone) }()
	// The good connection echoes all through the storm.
	echoes := 0
	for storming := true; storming; echoes++ {
		select {
		case <-stormDone:
			storming = false
		default:
		}
		msg := fmt.Sprintf("still here %d", echoes)
		good.send(rfcText(msg))
		good.expectText(msg)
	}
	good.closeNormally()
	openConn(t, addr).closeNormally()
	for _, c := range hold {
		c.conn.Close()
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d echoes on the good connection during the storm", echoes)
}

// rfcRejected sends req and checks the server answers with one of statuses
// and then closes the connection. The server may close before it has read
// all of req (a write then fails); what it said before closing decides.
func rfcRejected(c *rfcClient, req []byte, statuses ...int) error {
	werr := c.write(req)
	resp, err := c.readResponse()
	switch {
	case err != nil && werr != nil:
		return fmt.Errorf("write: %v; then %w", werr, err)
	case err != nil:
		return err
	case !slices.Contains(statuses, resp.status):
		return fmt.Errorf("status %d; want %v: %q", resp.status, statuses, resp.raw)
	}
	return c.checkTCPClosed("the error response", true)
}
