package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/reactor"
)

// TestHeartbeat runs the server on a FakeClock: beats come exactly when
// the clock says, data pushes the idle timeout back, and silence ends the
// connection. Nothing sleeps: the echo of what the client sends tells it
// the server has read it, and the server writes in order, so a beat sent
// too early would arrive before the echo.
func TestHeartbeat(t *testing.T) {
	clock := reactor.NewFakeClock(time.Unix(0, 0))
	r, err := listen("127.0.0.1:0", time.Second, 2500*time.Millisecond, reactor.WithClock(clock), reactor.WithLoops(2))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())

	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	expect := func(want string) {
		t.Helper()
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if got := strings.TrimSuffix(line, "\r\n"); got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
	}
	say := func(s string) { // and wait until the server has read it
		t.Helper()
		if _, err := io.WriteString(c, s+"\r\n"); err != nil {
			t.Fatal(err)
		}
		expect(s)
	}
	expect("hello: a beat every 1s; say something at least every 2.5s") // ConnectionMade has run

	clock.Advance(999 * time.Millisecond)
	say("not yet") // no beat came before this echo
	clock.Advance(time.Millisecond)
	expect("beat 1")

	say("still here") // t=1s: the timeout moves from 2.5s to 3.5s
	clock.Advance(2 * time.Second)
	expect("beat 2")
	expect("beat 3")
	say("still here") // t=3s: to 5.5s
	clock.Advance(2 * time.Second)
	expect("beat 4")
	expect("beat 5")
	say("last words") // t=5s: to 7.5s
	clock.Advance(2400 * time.Millisecond)
	expect("beat 6")
	expect("beat 7")
	clock.Advance(100 * time.Millisecond) // t=7.5s
	expect("silent for 2.5s; goodbye")
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the timeout: %v; want EOF", err)
	}
}

func TestHeartbeatBadFlags(t *testing.T) {
	if _, err := listen("127.0.0.1:0", 0, time.Second); err == nil {
		t.Fatal("listen with -interval 0 = nil; want an error")
	}
}
