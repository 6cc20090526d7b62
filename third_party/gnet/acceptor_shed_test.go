// Copyright (c) 2026 The wsreactor Authors. Licensed under the Apache License,
// Version 2.0, like the rest of gnet (see LICENSE).

//go:build linux

// Tests of wsreactor's patch (PATCH.md): at the open-file limit the engine
// sheds connections through its spare descriptor, pauses the listener when
// it cannot, keeps serving what it has, and accepts again once descriptors
// are free. The test lowers this process's own RLIMIT_NOFILE, so it must
// not run in parallel with anything.

package gnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type shedTestHandler struct {
	BuiltinEventEngine
	booted chan struct{}
	eng    Engine

	mu            sync.Mutex
	sheds, pauses int
}

func (h *shedTestHandler) OnBoot(e Engine) Action {
	h.eng = e
	close(h.booted)
	return None
}

func (h *shedTestHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	_, _ = c.Write(b)
	return None
}

func (h *shedTestHandler) OnAcceptError(_ error, shed int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if shed > 0 {
		h.sheds += shed
	} else {
		h.pauses++
	}
}

func (h *shedTestHandler) counts() (sheds, pauses int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sheds, h.pauses
}

func TestAcceptShedAndPause(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reuseport=%v", reuse), func(t *testing.T) { testAcceptShedAndPause(t, reuse) })
	}
}

// echoOK writes a line on c and reads it back.
func echoOK(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("echo %q: write: %v", msg, err)
	}
	buf := make([]byte, len(msg))
	if _, err := c.Read(buf); err != nil || string(buf) != msg {
		t.Fatalf("echo %q: read %q, %v", msg, buf, err)
	}
}

func testAcceptShedAndPause(t *testing.T, reuse bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	_ = ln.Close()

	h := &shedTestHandler{booted: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- Run(h, "tcp://"+addr.String(), WithNumEventLoop(2), WithReusePort(reuse))
	}()
	select {
	case <-h.booted:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.eng.Stop(ctx)
		<-done
	}()
	var served net.Conn
	for i := 0; ; i++ { // the loops start after OnBoot
		if served, err = net.Dial("tcp", addr.String()); err == nil {
			break
		} else if i == 50 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer served.Close()
	echoOK(t, served, "before")

	// Client sockets are made now: at the limit this process cannot.
	const nShed, nWait = 10, 4
	clients := make([]int, nShed+nWait)
	for i := range clients {
		if clients[i], err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(clients[i])
	}
	sa := &unix.SockaddrInet4{Port: addr.Port, Addr: [4]byte{127, 0, 0, 1}}

	// Fill the descriptor table: the limit just above the highest open
	// descriptor, every hole below it taken by /dev/null.
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	high := 0
	for _, e := range ents {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err == nil && fd > high {
			high = fd
		}
	}
	lim := orig
	lim.Cur = uint64(high + 1)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var fillers []int
	defer func() {
		for _, fd := range fillers {
			_ = unix.Close(fd)
		}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	}()
	fill := func() {
		for {
			fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return
			}
			fillers = append(fillers, fd)
		}
	}
	fill()

	// Shed: each connection is accepted and closed at once (EOF on read),
	// and the served connection still echoes.
	for _, fd := range clients[:nShed] {
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatalf("connect: %v", err)
		}
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
		var b [1]byte
		if n, err := unix.Read(fd, b[:]); n != 0 || err != nil {
			t.Fatalf("shed connection: read = %d, %v; want EOF", n, err)
		}
	}
	for i := 0; i < 100; i++ { // the count follows the close the client saw
		if sheds, _ := h.counts(); sheds == nShed {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if sheds, pauses := h.counts(); sheds != nShed || pauses != 0 {
		t.Errorf("after %d connections at the limit: %d shed, %d pauses; want %d, 0", nShed, sheds, pauses, nShed)
	}
	echoOK(t, served, "at the limit")

	// Pause: with the spare gone and its slot taken, nothing can be shed;
	// the listener is left alone for a growing backoff, not spun on.
	s := h.eng.eng.shedder
	s.mu.Lock()
	_ = unix.Close(s.spare)
	s.spare = -1
	s.mu.Unlock()
	fill()
	for _, fd := range clients[nShed:] {
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatalf("connect: %v", err)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	_, pauses := h.counts()
	// 10+20+40+...+640ms: 7 pauses per listener in 1.27s; two listeners
	// with reuse-port. A spin would make thousands.
	if pauses < 1 || pauses > 20 {
		t.Errorf("%d pauses in 1.5s with no descriptor to shed with; want 1 to 20", pauses)
	}
	echoOK(t, served, "paused")

	// Descriptors free again: the waiting connections are accepted and
	// served (within the 1s backoff), and the spare is taken back.
	for _, fd := range fillers {
		_ = unix.Close(fd)
	}
	fillers = nil
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	for _, fd := range clients[nShed:] {
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
		if _, err := unix.Write(fd, []byte("x")); err != nil {
			t.Fatalf("waiting connection: write: %v", err)
		}
		var b [1]byte
		if n, err := unix.Read(fd, b[:]); n != 1 || err != nil {
			t.Fatalf("waiting connection, after descriptors were freed: read = %d, %v; want the echo", n, err)
		}
	}
	if sheds, _ := h.counts(); sheds != nShed {
		t.Errorf("%d shed in all; want %d (the waiting ones are served, not shed)", sheds, nShed)
	}
	s.mu.Lock()
	spare := s.spare
	s.mu.Unlock()
	if spare < 0 {
		t.Error("the spare descriptor was not taken back when the listener resumed")
	}
}
