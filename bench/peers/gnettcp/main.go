// Command gnettcp is the benchmark's ceiling: a plain TCP echo server on
// gnet v2 that does no WebSocket work at all. Every OnTraffic hands the bytes
// that arrived straight back with one Write, so the load generator (run with
// -raw) gets its masked client frames back verbatim. No WebSocket server on
// the same event loop can beat it; the ratio to it is what the protocol layer
// costs. It reads with wsreactor's default read buffer (512 KiB,
// service.DefaultReadBuffer), not gnet's 64 KiB, so that the ceiling is the
// same event loop set up the same way.
//
//	gnettcp -addr 127.0.0.1:9001 -loops 1
package main

import (
	"context"
	"log"

	"github.com/panjf2000/gnet/v2"
	"github.com/wsreactor/wsreactor/bench/peers/internal/peer"
)

// readBuffer is wsreactor's -read-buffer default (service.DefaultReadBuffer;
// the bench module does not import the server's).
const readBuffer = 512 << 10

// echo is the whole server: OnTraffic writes back what it was given.
type echo struct {
	gnet.BuiltinEventEngine
}

// OnTraffic runs on the connection's event loop. The slice from Next is lent
// until the next read on this loop; Write copies what the socket does not
// take at once into the outbound buffer before returning.
func (*echo) OnTraffic(c gnet.Conn) gnet.Action {
	data, _ := c.Next(-1)
	if _, err := c.Write(data); err != nil {
		return gnet.Close
	}
	return gnet.None
}

func main() {
	cfg := peer.Parse("gnettcp")
	proto := "tcp://" + cfg.Addr
	peer.OnSignal(func() { _ = gnet.Stop(context.Background(), proto) })
	log.Printf("gnettcp: listening on %s (loops %d)", cfg.Addr, cfg.Loops)
	if err := gnet.Run(&echo{}, proto, gnet.WithNumEventLoop(cfg.Loops), gnet.WithReadBufferCap(readBuffer)); err != nil {
		log.Fatalf("gnettcp: %v", err)
	}
}
