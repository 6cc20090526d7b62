// Command gorilla is the benchmark's goroutine-per-connection peer: a
// WebSocket echo server on github.com/gorilla/websocket, written the classic
// way, with one goroutine per connection that reads a message and writes it
// back.
//
//	gorilla -addr 127.0.0.1:9001 -loops 1 [-mode message|copy] [-buffer 4096] [-deflate [-deflate-level 1]]
//
// -mode message (the default, the loop of gorilla's own echo example) uses
// ReadMessage and WriteMessage, which hold the whole message and write it as
// one frame with one writev; -mode copy streams each message through
// NextReader and NextWriter with io.Copy (gorilla's Autobahn echo), which
// allocates nothing per message but sends a message larger than the 4 KiB
// write buffer as 4 KiB fragments, one write each. bench/README.md has the
// measurements behind the default. Compression is off; the message limit is
// -max-message (64 MiB by default, like wsreactor's); -loops sets GOMAXPROCS.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/wsreactor/wsreactor/bench/peers/internal/peer"
)

func main() {
	mode := flag.String("mode", "message", "echo with ReadMessage/WriteMessage (message) or NextReader/NextWriter + io.Copy (copy)")
	bufSize := flag.Int("buffer", 4096, "read and write buffer size per connection")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate (gorilla: no context takeover) and compress every echo")
	level := flag.Int("deflate-level", 1, "with -deflate, compression level (gorilla's default 1)")
	cfg := peer.Parse("gorilla")
	echo := map[string]func(*websocket.Conn) error{"copy": echoCopy, "message": echoMessage}[*mode]
	if echo == nil {
		peer.Fail("gorilla", "unknown -mode %q", *mode)
	}
	upgrader := websocket.Upgrader{
		ReadBufferSize:    *bufSize,
		WriteBufferSize:   *bufSize,
		EnableCompression: *deflate,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		defer conn.Close()
		conn.SetReadLimit(cfg.MaxMessage)
		if *deflate {
			conn.EnableWriteCompression(true)
			if err := conn.SetCompressionLevel(*level); err != nil {
				return
			}
		}
		for echo(conn) == nil {
		}
	})
	log.Printf("gorilla: listening on %s (mode %s, GOMAXPROCS %d)", cfg.Addr, *mode, cfg.Loops)
	log.Fatal(http.ListenAndServe(cfg.Addr, handler))
}

// echoCopy streams one message back without holding it whole.
func echoCopy(conn *websocket.Conn) error {
	mt, r, err := conn.NextReader()
	if err != nil {
		return err
	}
	w, err := conn.NextWriter(mt)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return w.Close()
}

// echoMessage reads one whole message and writes it back.
func echoMessage(conn *websocket.Conn) error {
	mt, msg, err := conn.ReadMessage()
	if err != nil {
		return err
	}
	return conn.WriteMessage(mt, msg)
}
