// Command wschat makes the seed's "chat" subprotocol real: a WebSocket
// chat room on package service (the server the wsreactor command runs,
// importable) with a handler of its own. Every text message from a client
// that negotiated "chat" goes to every such client (the sender too, so
// everyone sees one order), whichever event loop each lives on.
//
// The pieces:
//
//   - service.Start runs the server: the reactor, the protocol.Server that
//     does the handshake and framing, and the adapter between them (the
//     same code as the wsreactor command, nothing copied); the room is its
//     application (service.Config.Handler), one member Handler per
//     connection, gathering each message with protocol.Messages.
//
//   - A member on another event loop is reached with its reactor
//     Transport's CallFromThread (service.ReactorTransport); the message is
//     copied once and shared, read-only, by every loop.
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
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
	"github.com/wsreactor/wsreactor/service"
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
	m.conn, m.tr = c, service.ReactorTransport(c)
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

// listen starts a server with cfg (its Subprotocols set to "chat") whose
// connections are members of a new Room.
func listen(cfg service.Config) (*service.Server, *Room, error) {
	room := NewRoom()
	cfg.Subprotocols = []string{"chat"}
	cfg.Handler = func() protocol.Handler {
		m := &member{room: room}
		m.Handler = protocol.Messages(m.onMessage)
		return m
	}
	srv, err := service.Start(cfg)
	return srv, room, err
}

func main() {
	cfg := service.DefaultConfig()
	cfg.Addr = ":8003"
	cfg.Loops = 2
	cfg.AdminAddr = "" // -admin-addr turns /metrics, /healthz and /readyz on
	cfg.Demo = false   // the demo page is the echo server's
	cfg.MaxMessage = 1 << 20
	flag.StringVar(&cfg.Addr, "addr", cfg.Addr, "TCP address to listen on")
	flag.IntVar(&cfg.Loops, "loops", cfg.Loops, "event loops (connections are spread over them)")
	flag.IntVar(&cfg.WriteBufferLimit, "write-buffer-limit", cfg.WriteBufferLimit, "output a member may leave unread before it is closed with 1008 and dropped")
	flag.Int64Var(&cfg.MaxMessage, "max-message", cfg.MaxMessage, "largest chat message in bytes (close 1009 past it)")
	flag.DurationVar(&cfg.CloseTimeout, "close-timeout", cfg.CloseTimeout, "time to wait for a client's close frame after the server's")
	flag.StringVar(&cfg.AdminAddr, "admin-addr", cfg.AdminAddr, "address of the admin HTTP server (/metrics, /healthz, /readyz); empty turns it off")
	flag.Parse()
	srv, _, err := listen(cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("wschat: listening on %s with %d event loops", srv.Addr(), cfg.Loops)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		if err := srv.Drain(); err != nil { // close 1001 to every member, then stop
			log.Fatal(err)
		}
	case err := <-wait(srv):
		log.Fatal(err)
	}
}

// wait returns a channel that gets the server's error if it stops on its own.
func wait(srv *service.Server) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- srv.Wait() }()
	return ch
}
