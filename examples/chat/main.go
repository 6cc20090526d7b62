// Command chat is a line-based chat server like Twisted's LineReceiver chat
// example, on package reactor, with its connections spread over several
// event loops:
//
//	class Chat(LineReceiver):
//	    def connectionMade(self):
//	        self.sendLine(b"What's your name?")
//	    def lineReceived(self, line):
//	        if self.state == "GETNAME": self.handle_GETNAME(line)
//	        else: self.handle_CHAT(line)
//	    def handle_CHAT(self, message):
//	        for name, protocol in self.users.items():
//	            if protocol != self:
//	                protocol.sendLine(message)
//
// Twisted runs every protocol on one thread, so handle_CHAT can write to
// any other protocol. Here each connection lives on one of several event
// loops and its Transport may be used only there: a line for a user on
// another loop crosses over with that user's Transport.CallFromThread, and
// the line's bytes are copied first, because the buffer DataReceived lends
// is overwritten by the next read.
//
//	go run ./examples/chat -addr :8001 -loops 2
//	nc localhost 8001      # in two terminals
package main

import (
	"bytes"
	"flag"
	"log"
	"net"
	"sync"
	"unicode/utf8"

	"github.com/wsreactor/wsreactor/reactor"
)

// Limits, each a policy: a line longer than MaxLineLength closes the
// connection (LineReceiver's lineLengthExceeded); a user who has not read
// MaxBacklog bytes of the room's output is dropped rather than let the room
// queue for them without end (gnet's output queue has no bound).
const (
	MaxLineLength = 4096
	MaxBacklog    = 1 << 20
	MaxNameLength = 32
)

// Room is everyone with a name. Its map is shared by every event loop, so
// it has a lock; the users' protocols are not touched under it.
type Room struct {
	mu    sync.Mutex
	users map[string]*Chat
}

func NewRoom() *Room { return &Room{users: make(map[string]*Chat)} }

// join adds c under name, false if the name is taken.
func (r *Room) join(name string, c *Chat) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.users[name]; taken {
		return false
	}
	r.users[name] = c
	return true
}

func (r *Room) leave(name string) {
	r.mu.Lock()
	delete(r.users, name)
	r.mu.Unlock()
}

// others returns every user but from, at this moment.
func (r *Room) others(from *Chat) []*Chat {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := make([]*Chat, 0, len(r.users))
	for _, u := range r.users {
		if u != from {
			list = append(list, u)
		}
	}
	return list
}

// broadcast sends line to every user but from. It runs on from's event
// loop. line may be lent: it is copied once, and the copy is shared,
// read-only, by every loop it goes to.
func (r *Room) broadcast(from *Chat, line []byte) {
	msg := append(append(make([]byte, 0, len(line)+2), line...), '\r', '\n')
	for _, u := range r.others(from) {
		if u.loop == from.loop {
			u.write(msg) // same loop: we are on its goroutine already
			continue
		}
		u.Transport.CallFromThread(func() { u.write(msg) })
	}
}

// Chat is one user's connection: Twisted's Chat(LineReceiver).
type Chat struct {
	reactor.BaseProtocol
	room *Room
	loop int    // the event loop this connection lives on (Transport.Loop)
	name string // "" until chosen
	buf  []byte // the start of a line whose end has not arrived yet (a copy)
	done bool   // LoseConnection or AbortConnection called
}

func (c *Chat) ConnectionMade(t reactor.Transport) {
	c.Transport, c.loop = t, t.Loop()
	c.write([]byte("What's your name?\r\n"))
}

// DataReceived splits the bytes into lines (LF, with or without CR), in
// whatever pieces they arrive: the unfinished end of a read is copied into
// c.buf and completed by the next read.
func (c *Chat) DataReceived(data []byte) {
	for len(data) > 0 && !c.done {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(c.buf)+len(data) > MaxLineLength {
				c.lineLengthExceeded()
				return
			}
			c.buf = append(c.buf, data...)
			return
		}
		line := data[:i]
		data = data[i+1:]
		if len(c.buf) > 0 {
			line = append(c.buf, line...)
			c.buf = c.buf[:0]
		}
		if len(line) > MaxLineLength+1 { // +1: the CR
			c.lineLengthExceeded()
			return
		}
		c.lineReceived(bytes.TrimSuffix(line, []byte("\r")))
	}
}

func (c *Chat) ConnectionLost(reason error) {
	if c.name != "" {
		c.room.leave(c.name)
		c.room.broadcast(c, []byte("* "+c.name+" has left"))
	}
}

func (c *Chat) lineReceived(line []byte) {
	if c.name == "" {
		c.handleGetName(string(line))
		return
	}
	c.room.broadcast(c, append([]byte("<"+c.name+"> "), line...))
}

func (c *Chat) handleGetName(name string) {
	switch {
	case name == "" || len(name) > MaxNameLength || !utf8.ValidString(name) || bytes.ContainsAny([]byte(name), " <>*"):
		c.write([]byte("A name is 1 to 32 bytes of UTF-8 without spaces or <>*; try another.\r\n"))
	case !c.room.join(name, c):
		c.write([]byte("Name taken, please choose another.\r\n"))
	default:
		c.name = name
		// Announce before the welcome: once the newcomer reads it, everyone
		// who joins later is told by their own join, never by this one
		// (the other order let a user who joined in between hear of this
		// one too, when this loop was slow to reach the broadcast).
		c.room.broadcast(c, []byte("* "+name+" has joined"))
		c.write([]byte("Welcome, " + name + "!\r\n"))
	}
}

func (c *Chat) lineLengthExceeded() {
	c.write([]byte("Line too long; goodbye.\r\n"))
	c.done = true
	c.Transport.LoseConnection()
}

// write sends msg unless the connection is closing; a reader that has let
// MaxBacklog bytes pile up is dropped. Event-loop goroutine of c only.
func (c *Chat) write(msg []byte) {
	if c.done {
		return
	}
	c.Transport.Write(msg)
	if c.Transport.OutboundBuffered() > MaxBacklog {
		c.done = true
		c.Transport.AbortConnection()
	}
}

// listen starts a reactor with the given number of event loops serving a
// new Room on addr.
func listen(addr string, loops int) (*reactor.Reactor, *Room, error) {
	room := NewRoom()
	r := reactor.New(reactor.WithLoops(loops))
	err := r.ListenTCP(addr, reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return &Chat{room: room} }))
	if err != nil {
		return nil, nil, err
	}
	return r, room, r.Start()
}

func main() {
	addr := flag.String("addr", ":8001", "TCP address to listen on")
	loops := flag.Int("loops", 2, "event loops (connections are spread over them)")
	flag.Parse()
	r, _, err := listen(*addr, *loops)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("chat: listening on %s with %d event loops", r.Addr(), *loops)
	<-r.Done()
}
