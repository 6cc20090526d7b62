// Command wschat makes the seed's "chat" subprotocol real: a WebSocket
// chat room on packages protocol and reactor. Every text message from a
// client that negotiated "chat" goes to every such client (the sender
// too, so everyone sees one order), whichever event loop each lives on.
//
// The pieces:
//
//   - protocol.Server does the handshake and framing; the room is its
//     application, one member Handler per connection, gathering each
//     message with protocol.Messages.
//
//   - A member on another event loop is reached with its reactor
//     Transport's CallFromThread; the message is copied once and shared,
//     read-only, by every loop.
//
//   - A slow reader does not slow the room: when the output waiting for it
//     passes -write-buffer-limit, protocol closes it with 1008 (the same
//     write-buffer policy as the echo server) and the room drops it.
//
//     go run ./examples/wschat -addr :8003
//
// then, in the consoles of two browser tabs (any page):
//
//	ws = new WebSocket("ws://localhost:8003/", "chat")
//	ws.onmessage = (e) => console.log(e.data)
//	ws.send("hi")
package main

import (
	"flag"
	"log"
	"net"
	"sync"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// Room is everyone who negotiated "chat". Its set is shared by every event
// loop, so it has a lock; the members' connections are not touched under
// it.
type Room struct {
	mu      sync.Mutex
	members map[*member]struct{}
}

func NewRoom() *Room { return &Room{members: make(map[*member]struct{})} }

func (r *Room) join(m *member) {
	r.mu.Lock()
	r.members[m] = struct{}{}
	r.mu.Unlock()
}

func (r *Room) leave(m *member) {
	r.mu.Lock()
	delete(r.members, m)
	r.mu.Unlock()
}

// Size is the number of members.
func (r *Room) Size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

func (r *Room) snapshot() []*member {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := make([]*member, 0, len(r.members))
	for m := range r.members {
		list = append(list, m)
	}
	return list
}

// broadcast sends msg to every member. It runs on from's event loop; msg
// is lent (it may be the read buffer itself) and is copied once.
func (r *Room) broadcast(from *member, msg []byte) {
	msg = append([]byte(nil), msg...)
	for _, m := range r.snapshot() {
		if m.loop == from.loop {
			m.send(msg)
			continue
		}
		m.tr.CallFromThread(func() { m.send(msg) })
	}
}

// member is the application side of one connection (a protocol.Handler):
// protocol.Messages gathers each message and calls onMessage.
type member struct {
	protocol.Handler
	room *Room
	conn *protocol.Conn
	tr   reactor.Transport // for CallFromThread from other loops
	loop int
}

func (m *member) OnOpen(c *protocol.Conn) {
	if c.Subprotocol() != "chat" {
		c.Close(frame.ClosePolicyViolation, `this room speaks the "chat" subprotocol`)
		return
	}
	m.conn, m.tr = c, c.Transport().(*transport).Transport
	m.loop = m.tr.Loop()
	m.room.join(m)
}

func (m *member) OnClose(c *protocol.Conn, code frame.CloseCode, reason string) {
	m.Handler.OnClose(c, code, reason)
	m.room.leave(m)
}

func (m *member) onMessage(c *protocol.Conn, op frame.Opcode, msg []byte) {
	if op != frame.OpText {
		c.Close(frame.CloseUnsupportedData, "chat messages are text")
		return
	}
	m.room.broadcast(m, msg)
}

// send writes msg to m, on m's event loop. A member whose connection is
// closing (the write-buffer limit closed it with 1008, say) leaves the
// room at once.
func (m *member) send(msg []byte) {
	if m.conn.WriteMessage(frame.OpText, msg) != nil {
		m.room.leave(m)
	}
}

// wsConn adapts protocol.Conn, which knows nothing of the reactor, to
// reactor.Protocol, as the wsreactor command does (server.go).
type wsConn struct {
	conn protocol.Conn
	tr   transport
}

func (p *wsConn) ConnectionMade(t reactor.Transport) {
	p.tr.Transport = t
	p.conn.ConnectionMade(&p.tr)
}
func (p *wsConn) DataReceived(data []byte)    { p.conn.DataReceived(data) }
func (p *wsConn) ConnectionLost(reason error) { p.conn.ConnectionLost(reason) }

// transport is a reactor.Transport as a protocol.Transport: they differ
// only in the type CallLater returns.
type transport struct{ reactor.Transport }

func (t *transport) CallLater(d time.Duration, fn func()) protocol.DelayedCall {
	return t.Transport.CallLater(d, fn)
}

// listen starts a reactor with loops event loops serving a new Room on
// addr, with cfg (its Subprotocols are set to "chat", its Loops to loops).
func listen(addr string, loops int, cfg protocol.Config) (*reactor.Reactor, *Room, error) {
	room := NewRoom()
	cfg.Subprotocols = []string{"chat"}
	cfg.Loops = loops // the Server keeps counters per event loop: one set per loop
	srv := protocol.NewServer(cfg, func() protocol.Handler {
		m := &member{room: room}
		m.Handler = protocol.Messages(m.onMessage)
		return m
	})
	r := reactor.New(reactor.WithLoops(loops))
	err := r.ListenTCP(addr, reactor.FactoryFunc(func(net.Addr) reactor.Protocol {
		p := new(wsConn)
		srv.InitConn(&p.conn)
		return p
	}))
	if err != nil {
		return nil, nil, err
	}
	return r, room, r.Start()
}

func main() {
	cfg := protocol.DefaultConfig()
	addr := flag.String("addr", ":8003", "TCP address to listen on")
	loops := flag.Int("loops", 2, "event loops (connections are spread over them)")
	flag.IntVar(&cfg.WriteBufferLimit, "write-buffer-limit", cfg.WriteBufferLimit, "output a member may leave unread before it is closed with 1008 and dropped")
	flag.Int64Var(&cfg.MaxMessageSize, "max-message", 1<<20, "largest chat message in bytes (close 1009 past it)")
	flag.DurationVar(&cfg.CloseTimeout, "close-timeout", cfg.CloseTimeout, "time to wait for a client's close frame after the server's")
	flag.Parse()
	r, _, err := listen(*addr, *loops, cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("wschat: listening on %s with %d event loops", r.Addr(), *loops)
	<-r.Done()
}
