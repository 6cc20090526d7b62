package main

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// client is one chat user over loopback.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	cl := &client{t: t, c: c, br: bufio.NewReader(c)}
	cl.expect("What's your name?")
	return cl
}

func (cl *client) send(s string) {
	cl.t.Helper()
	if _, err := cl.c.Write([]byte(s)); err != nil {
		cl.t.Fatal(err)
	}
}

func (cl *client) expect(want string) {
	cl.t.Helper()
	line, err := cl.br.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("waiting for %q: %v", want, err)
	}
	if got := strings.TrimSuffix(line, "\r\n"); got != want {
		cl.t.Fatalf("got line %q; want %q", got, want)
	}
}

func (cl *client) join(name string) {
	cl.t.Helper()
	cl.send(name + "\r\n")
	cl.expect("Welcome, " + name + "!")
}

// loopOf is the event loop of a named user.
func (r *Room) loopOf(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users[name].loop
}

// TestChat: three users on two event loops talk; lines cross loops (and
// arrive in pieces) and reach everyone but the speaker.
func TestChat(t *testing.T) {
	r, room, err := listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	addr := r.Addr().String()

	alice := dial(t, addr)
	alice.join("alice")
	bob := dial(t, addr)
	bob.join("bob")
	alice.expect("* bob has joined")
	carol := dial(t, addr)
	carol.join("carol")
	alice.expect("* carol has joined")
	bob.expect("* carol has joined")

	loops := map[int]bool{room.loopOf("alice"): true, room.loopOf("bob"): true, room.loopOf("carol"): true}
	if len(loops) < 2 {
		t.Fatalf("all users on loop %v; the test needs them on different loops", loops)
	}

	alice.send("hello, everyone\n")
	bob.expect("<alice> hello, everyone")
	carol.expect("<alice> hello, everyone")

	// A line in three pieces, the CR and LF apart.
	bob.send("hi al")
	time.Sleep(20 * time.Millisecond)
	bob.send("ice\r")
	time.Sleep(20 * time.Millisecond)
	bob.send("\n")
	alice.expect("<bob> hi alice")
	carol.expect("<bob> hi alice")

	// Several lines in one write, from a user on the other loop.
	carol.send("one\ntwo\n")
	for _, cl := range []*client{alice, bob} {
		cl.expect("<carol> one")
		cl.expect("<carol> two")
	}

	// The speaker hears nothing of their own: the next line alice reads is
	// bob's.
	alice.send("am I alone?\n")
	bob.expect("<alice> am I alone?")
	bob.send("no\n")
	alice.expect("<bob> no")
	carol.expect("<alice> am I alone?")
	carol.expect("<bob> no")

	dave := dial(t, addr)
	dave.send("alice\n")
	dave.expect("Name taken, please choose another.")
	dave.send("d a v e\n")
	dave.expect("A name is 1 to 32 bytes of UTF-8 without spaces or <>*; try another.")
	dave.join("dave")

	bob.c.Close()
	for _, cl := range []*client{alice, carol} {
		cl.expect("* dave has joined")
		cl.expect("* bob has left")
	}
	dave.expect("* bob has left")
}

// TestChatLineTooLong: at the limit a line goes through; one byte past it,
// in pieces, the connection is closed with a word of explanation.
func TestChatLineTooLong(t *testing.T) {
	r, _, err := listen("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	a := dial(t, r.Addr().String())
	a.join("a")
	b := dial(t, r.Addr().String())
	b.join("b")
	a.expect("* b has joined")

	long := strings.Repeat("x", MaxLineLength)
	b.send(long + "\r\n")
	a.expect("<b> " + long)

	half := strings.Repeat("y", MaxLineLength/2+1)
	b.send(half)
	time.Sleep(20 * time.Millisecond)
	b.send(half)
	b.expect("Line too long; goodbye.")
	if _, err := b.br.ReadByte(); err == nil {
		t.Fatal("connection still open after an over-long line")
	}
	a.expect("* b has left")
}
