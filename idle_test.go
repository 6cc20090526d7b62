package main

import (
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// TestIdleMemoryPerConnection: an open, idle WebSocket connection costs
// the server at most 1 KiB of memory (RSS), gnet's own share included,
// with the ping timer armed.
func TestIdleMemoryPerConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 8,000 connections")
	}
	const n = 8000
	p := startProc(t, "-loops", "2")
	// Warm up the pools and the loops' buffers with a few connections.
	for i := 0; i < 10; i++ {
		ws := mustDial(t, p.addr)
		ws.echo(t, frame.OpText, []byte("warm"))
		ws.Close()
	}
	time.Sleep(200 * time.Millisecond)
	base := p.rssKB(t)
	conns := make([]*wsConn, 0, n)
	defer func() {
		for _, ws := range conns {
			ws.Close()
		}
	}()
	for i := 0; i < n; i++ {
		ws := mustDial(t, p.addr)
		if ws == nil {
			t.FailNow()
		}
		conns = append(conns, ws)
	}
	time.Sleep(500 * time.Millisecond)
	per := float64(p.rssKB(t)-base) * 1024 / n
	t.Logf("%d idle connections: RSS %d KiB before, %d KiB after: %.0f bytes each", n, base, p.rssKB(t), per)
	if per > 1024 {
		t.Errorf("%.0f bytes of RSS per idle connection; want at most 1024", per)
	}
	// Every one of them still works.
	for i := 0; i < n; i += n / 100 {
		conns[i].echo(t, frame.OpBinary, []byte{byte(i)})
	}
}
