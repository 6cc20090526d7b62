package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsreactor/wsreactor/service"
)

// testConfig is the room's configuration for a test: loopback, two event
// loops, no admin server.
func testConfig() service.Config {
	cfg := service.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.AdminAddr = ""
	cfg.ShutdownTimeout = time.Second
	return cfg
}

func startRoom(t *testing.T, cfg service.Config) (string, *Room) {
	t.Helper()
	srv, room, err := listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	return "ws://" + srv.Addr().String() + "/", room
}

// join dials url offering subprotocols, with d's socket options.
func join(t *testing.T, url string, d *websocket.Dialer, subprotocols ...string) *websocket.Conn {
	t.Helper()
	dd := *d
	dd.Subprotocols = subprotocols
	c, _, err := dd.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	return c
}

// waitSize waits until the room has n members.
func waitSize(t *testing.T, room *Room, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for room.Size() != n {
		if time.Now().After(deadline) {
			t.Fatalf("room has %d members; want %d", room.Size(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *Room) loops() map[int]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := map[int]bool{}
	for m := range r.members {
		set[m.loop] = true
	}
	return set
}

func expectText(t *testing.T, c *websocket.Conn, want string) {
	t.Helper()
	op, got, err := c.ReadMessage()
	if err != nil || op != websocket.TextMessage || string(got) != want {
		t.Fatalf("ReadMessage = %d %q %v; want text %q", op, got, err, want)
	}
}

func expectClose(t *testing.T, c *websocket.Conn, code int) {
	t.Helper()
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, code) {
			t.Fatalf("connection ended with %v; want close %d", err, code)
		}
		return
	}
}

// TestWSChat: clients on two event loops that negotiated "chat" all get
// every text message, in one order; others are turned away.
func TestWSChat(t *testing.T) {
	url, room := startRoom(t, testConfig())
	d := websocket.DefaultDialer
	a := join(t, url, d, "chat")
	b := join(t, url, d, "superchat", "chat")
	c := join(t, url, d, "chat")
	waitSize(t, room, 3)
	if got := b.Subprotocol(); got != "chat" {
		t.Fatalf("negotiated %q; want chat", got)
	}
	if len(room.loops()) < 2 {
		t.Fatalf("members on loops %v; the test needs two loops", room.loops())
	}

	a.WriteMessage(websocket.TextMessage, []byte("hello from a"))
	for _, cl := range []*websocket.Conn{a, b, c} {
		expectText(t, cl, "hello from a")
	}
	// Messages from clients on different loops: each arrives everywhere,
	// each sender's messages in the order sent.
	for i := range 20 {
		b.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "b%d", i))
		c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "c%d", i))
	}
	for _, cl := range []*websocket.Conn{a, b, c} {
		next := map[byte]int{}
		for range 40 {
			_, msg, err := cl.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%c%d", msg[0], next[msg[0]]); string(msg) != want {
				t.Fatalf("got %q; want %q (one sender's order)", msg, want)
			}
			next[msg[0]]++
		}
	}

	// No "chat": closed with 1008. Binary: closed with 1003, and gone.
	expectClose(t, join(t, url, d, "superchat"), websocket.ClosePolicyViolation)
	expectClose(t, join(t, url, d), websocket.ClosePolicyViolation)
	c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	expectClose(t, c, websocket.CloseUnsupportedData)
	waitSize(t, room, 2)
	a.WriteMessage(websocket.TextMessage, []byte("still two"))
	expectText(t, a, "still two")
	expectText(t, b, "still two")
}

// TestWSChatSlowReader: a member that never reads, on a socket with a
// small receive buffer, is closed with 1008 and dropped when its backlog
// passes the write-buffer limit, while the others get every message.
//
// The sender is paced against the readers: it sends message i only once
// both readers have read message i-window, so the room's backlog for a
// reader is never more than window messages (128 KiB, half the limit)
// however slowly the machine runs the reader goroutines; only the member
// that never reads passes the limit.
func TestWSChatSlowReader(t *testing.T) {
	cfg := testConfig()
	cfg.WriteBufferLimit = 256 << 10
	cfg.CloseTimeout = time.Second
	url, room := startRoom(t, cfg)
	fast := join(t, url, websocket.DefaultDialer, "chat")
	other := join(t, url, websocket.DefaultDialer, "chat")
	small := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return errors.Join(err, serr)
		}}
		return nd.Dial(network, addr)
	}}
	slow := join(t, url, small, "chat")
	waitSize(t, room, 3)

	const n, size, window = 400, 32 << 10, 4 // 12.5 MiB: far past the limit and any socket buffer
	msg := []byte(strings.Repeat("m", size))
	var wg sync.WaitGroup
	got := make([]int, 2)
	progress := []chan struct{}{make(chan struct{}, n), make(chan struct{}, n)} // a token per message read
	for i, cl := range []*websocket.Conn{fast, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(progress[i])
			for got[i] < n {
				_, m, err := cl.ReadMessage()
				if err != nil || len(m) != size {
					t.Errorf("reader %d after %d messages: %d bytes, %v", i, got[i], len(m), err)
					return
				}
				got[i]++
				progress[i] <- struct{}{}
			}
		}()
	}
	for i := range n {
		if i >= window {
			for _, p := range progress {
				if _, ok := <-p; !ok {
					t.Fatalf("a reader stopped before message %d", i-window)
				}
			}
		}
		if err := fast.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got[0] != n || got[1] != n {
		t.Fatalf("the readers got %v of %d messages", got, n)
	}
	waitSize(t, room, 2)

	// The slow member finds, after what its buffers held, close 1008 or
	// (the server gave up waiting for it to read) a reset.
	read := 0
	for {
		_, _, err := slow.ReadMessage()
		if err == nil {
			read++
			continue
		}
		if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("slow member ended with %v after %d messages; want close 1008 or a reset", err, read)
		}
		break
	}
	if read >= n {
		t.Fatalf("slow member read all %d messages; it should have been dropped", read)
	}
	t.Logf("slow member got %d of %d messages before being dropped", read, n)
}
