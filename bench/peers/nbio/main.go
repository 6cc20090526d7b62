// Command nbio is the benchmark's event-loop Go peer: a WebSocket echo server
// on github.com/lesismal/nbio (nbhttp engine + websocket upgrader), the
// strongest Go library for many connections.
//
//	nbio -addr 127.0.0.1:9001 -loops 1 [-executor pool|sync] [-reuseport] [-deflate [-deflate-level 1]]
//
// Settings follow nbio's own million-connection example (MaxLoad 1,000,000,
// ReleaseWebsocketPayload so payload buffers return to nbio's pool after
// OnMessage), in the pure non-blocking I/O mode (IOModNonBlocking), with
// NPoller = -loops and GOMAXPROCS = -loops. The read buffer stays at nbio's
// default 64 KiB (gnet's default too). Compression is off (nbio's default)
// unless -deflate (EnableCompression; nbio then compresses every echo of a
// connection that agreed, at -deflate-level, with compress/flate),
// the message limit is -max-message (64 MiB, like wsreactor's; nbio's own
// default is 4 MiB) and the idle read deadline nbio sets after each message
// (KeepaliveTime, 120 s by default) is turned off, as no other peer has one.
//
// -executor pool (nbio's default) runs OnMessage on nbio's goroutine pool,
// in order per connection; -executor sync runs it on the poller goroutine,
// like an event-loop server.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/wsreactor/wsreactor/bench/peers/internal/peer"
)

func main() {
	executor := flag.String("executor", "pool", "where OnMessage runs: pool (nbio's goroutine pool, the default) or sync (the poller goroutine)")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate (nbio: no context takeover) and compress every echo")
	level := flag.Int("deflate-level", 1, "with -deflate, compression level (nbio's default 1)")
	cfg := peer.Parse("nbio")

	upgrader := websocket.NewUpgrader()
	upgrader.EnableCompression(*deflate)
	if err := upgrader.SetCompressionLevel(*level); err != nil {
		peer.Fail("nbio", "-deflate-level %d: %v", *level, err)
	}
	upgrader.KeepaliveTime = 0
	upgrader.MessageLengthLimit = int(cfg.MaxMessage)
	upgrader.CheckOrigin = func(*http.Request) bool { return true }
	upgrader.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		if err := c.WriteMessage(mt, data); err != nil {
			_ = c.Close()
		}
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		_ = conn.SetReadDeadline(time.Time{})
	})

	conf := nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{cfg.Addr},
		NPoller:                 cfg.Loops,
		MaxLoad:                 1000000,
		ReleaseWebsocketPayload: true,
		IOMod:                   nbhttp.IOModNonBlocking,
		Handler:                 handler,
		Listen:                  func(network, addr string) (net.Listener, error) { return peer.Listen(network, addr, cfg.ReusePort) },
	}
	switch *executor {
	case "pool":
	case "sync":
		conf.ServerExecutor = func(f func()) { f() }
	default:
		peer.Fail("nbio", "unknown -executor %q", *executor)
	}
	engine := nbhttp.NewEngine(conf)
	if err := engine.Start(); err != nil {
		log.Fatalf("nbio: start: %v", err)
	}
	log.Printf("nbio: listening on %s (pollers %d, executor %s)", cfg.Addr, cfg.Loops, *executor)
	done := make(chan struct{})
	peer.OnSignal(func() { close(done) })
	<-done
	engine.Stop()
}
