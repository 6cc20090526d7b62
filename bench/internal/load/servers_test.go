//go:build linux

package load

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// Throwaway servers for the tests: a gorilla/websocket echo (optionally
// corrupting or fragmenting its echoes), a plain TCP echo, and a server that
// answers the upgrade with a wrong accept key.

type wsServerOpts struct {
	corrupt     bool // flip one payload bit of every echo
	writeBuffer int  // gorilla write buffer; small values fragment echoes
	compress    bool // negotiate permessage-deflate and compress every echo
}

// startWSEcho starts a gorilla echo server and returns its host:port.
func startWSEcho(t *testing.T, o wsServerOpts) string {
	t.Helper()
	up := websocket.Upgrader{
		CheckOrigin:       func(*http.Request) bool { return true },
		WriteBufferSize:   o.writeBuffer,
		EnableCompression: o.compress,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.EnableWriteCompression(o.compress)
		for {
			op, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if o.corrupt && len(msg) > 0 {
				msg[len(msg)/2] ^= 1
			}
			if o.writeBuffer > 0 {
				wr, err := c.NextWriter(op)
				if err != nil {
					return
				}
				wr.Write(msg)
				if wr.Close() != nil {
					return
				}
				continue
			}
			if c.WriteMessage(op, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// tcpServer is a plain TCP server running handle on every connection; it
// records the remote addresses it saw.
type tcpServer struct {
	ln    net.Listener
	mu    sync.Mutex
	peers map[string]int
	wg    sync.WaitGroup
}

func startTCP(t *testing.T, handle func(net.Conn)) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpServer{ln: ln, peers: map[string]int{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			s.mu.Lock()
			s.peers[host]++
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *tcpServer) addr() string { return s.ln.Addr().String() }

// rawEcho returns every byte verbatim.
func rawEcho(c net.Conn) { io.Copy(c, c) }

// rawCorrupt returns every byte, with one bit of the 100th byte flipped.
func rawCorrupt(c net.Conn) {
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if total <= 100 && total+n > 100 {
				buf[100-total] ^= 1
			}
			total += n
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// badAccept answers any request with a 101 carrying a wrong accept key.
func badAccept(c net.Conn) {
	buf := make([]byte, 4096)
	head := ""
	for !strings.Contains(head, "\r\n\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		head += string(buf[:n])
	}
	io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n")
	c.Read(buf)
}
