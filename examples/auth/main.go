// Command auth shows the upgrade hook (service.Config.Upgrade, from
// protocol.Config.Upgrade): code that sees each opening handshake before
// the server answers it, the way gorilla's CheckOrigin and *http.Request,
// Python websockets' process_request or uWS's upgrade handler do.
//
// A client names itself with a token, in the query (?token=...) or in a
// cookie called token. The hook looks the token up: an unknown or missing
// one is refused with 401 Unauthorized and a plain-text body, before any
// WebSocket exists; a known one opens the connection with a handler of the
// hook's making that carries the user's name, so the handler greets the
// user and signs every echo with the name.
//
//	go run ./examples/auth -addr :8004 -tokens alice:s3cret,bob:hunter2
//
// then, in a browser console (any page):
//
//	ws = new WebSocket("ws://localhost:8004/?token=s3cret")
//	ws.onmessage = (e) => console.log(e.data)   // "hello, alice"
//	ws.send("hi")                                // "alice: hi"
//
// and new WebSocket("ws://localhost:8004/?token=wrong") fails (the
// server's answer, 401, shows in the browser's network tab); curl shows
// it too:
//
//	curl -i -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
//	     -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' 'http://localhost:8004/?token=wrong'
//
// The hook runs on the connection's event loop: it must not block. A
// token table in memory is fine; a database or an HTTP call is not (check
// such tokens in a proxy before the server, or after the open, in the
// handler).
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/service"
)

// Users maps tokens to user names. It is read by every event loop and
// never written after start, so it needs no lock.
type Users map[string]string

// ParseUsers reads "name:token,name:token".
func ParseUsers(s string) Users {
	u := Users{}
	for _, pair := range strings.Split(s, ",") {
		if name, token, ok := strings.Cut(strings.TrimSpace(pair), ":"); ok && name != "" && token != "" {
			u[token] = name
		}
	}
	return u
}

// Upgrade is the hook: it finds the token (query first, then cookie),
// refuses the handshake with 401 when it names nobody, and otherwise
// gives the connection a handler that knows the user.
func (users Users) Upgrade(u *protocol.UpgradeRequest) error {
	token := u.Query().Get("token")
	if token == "" {
		token, _ = u.Cookie("token")
	}
	name, ok := users[token]
	if !ok {
		return protocol.Refuse(401, "auth: missing or unknown token: connect with ?token=... or a token cookie")
	}
	u.SetHandler(newUser(name))
	return nil
}

// user is one authenticated connection's handler: protocol.Messages
// gathers each message, and the user's name came from the hook.
type user struct {
	protocol.Handler
	name string
}

func newUser(name string) *user {
	u := &user{name: name}
	u.Handler = protocol.Messages(u.onMessage)
	return u
}

func (u *user) OnOpen(c *protocol.Conn) {
	c.WriteMessage(frame.OpText, []byte("hello, "+u.name))
}

func (u *user) onMessage(c *protocol.Conn, op frame.Opcode, msg []byte) {
	c.WriteMessage(op, append([]byte(u.name+": "), msg...))
}

// listen starts the server with cfg and the users' hook.
func listen(cfg service.Config, users Users) (*service.Server, error) {
	cfg.Upgrade = users.Upgrade
	return service.Start(cfg)
}

func main() {
	cfg := service.DefaultConfig()
	flag.StringVar(&cfg.Addr, "addr", ":8004", "TCP address to listen on")
	tokens := flag.String("tokens", "alice:s3cret,bob:hunter2", "comma-separated name:token pairs")
	flag.Parse()
	cfg.AdminAddr = ""
	cfg.Demo = false
	srv, err := listen(cfg, ParseUsers(*tokens))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("auth: listening on %s", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := srv.Drain(); err != nil {
		log.Fatal(err)
	}
}
