package process

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestIdleMemoryDeflate: a connection that negotiated permessage-deflate
// and has echoed a compressed message costs no more, idle, than a plain
// one: at most 1 KiB of RSS, the same bar as TestIdleMemoryPerConnection
// (without context takeover its compression state went back to its loop's
// pool when the message ended). Both are measured here, side by side.
func TestIdleMemoryDeflate(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2 × 8,000 connections")
	}
	const n = 8000
	plain := idleDeflateRSS(t, n, false, false)
	compressed := idleDeflateRSS(t, n, true, false)
	t.Logf("idle memory per connection: %.0f B compressed, %.0f B plain (%.2f×)", compressed, plain, compressed/plain)
	if compressed > 1024 {
		t.Errorf("%.0f bytes of RSS per idle compressed connection; want at most 1024", compressed)
	}
}

// TestIdleMemoryDeflateTakeover measures what -deflate-context-takeover
// costs an idle connection whose offer allows takeover both ways (it keeps
// a compressor and a decompressor for its life). It opens 200 connections
// and takes a few hundred MiB, so it runs only on request:
//
//	DEFLATE_TAKEOVER_MEMORY=1 go test -run TestIdleMemoryDeflateTakeover -v .
func TestIdleMemoryDeflateTakeover(t *testing.T) {
	if os.Getenv("DEFLATE_TAKEOVER_MEMORY") == "" {
		t.Skip("set DEFLATE_TAKEOVER_MEMORY=1 to measure (200 connections, a few hundred MiB)")
	}
	for _, level := range []string{"1", "9"} {
		per := idleDeflateRSS(t, 200, true, true, "-deflate-level", level)
		t.Logf("-deflate-context-takeover -deflate-level %s: %.0f KiB per idle connection", level, per/1024)
	}
}

// idleDeflateRSS opens n connections to a new server process (-loops 2,
// with -deflate when deflate is set, -deflate-context-takeover when
// takeover is), each echoing one 1 KiB text message (compressed when
// negotiated), and returns the server's RSS growth per connection.
func idleDeflateRSS(t *testing.T, n int, deflate, takeover bool, extra ...string) float64 {
	msg := testkit.Payload(frame.OpText, 1<<10, 7)
	{
		args := append([]string{"-loops", "2"}, extra...)
		if deflate {
			args = append(args, "-deflate")
		}
		if takeover {
			args = append(args, "-deflate-context-takeover")
		}
		p := testkit.StartProc(t, args...)
		dial := func() *testkit.DeflateClient {
			if !deflate {
				ws := mustDial(t, p.Addr)
				if ws == nil {
					t.FailNow()
				}
				ws.Echo(t, frame.OpText, msg)
				return &testkit.DeflateClient{WS: ws}
			}
			offer := "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
			if takeover {
				offer = "permessage-deflate; client_max_window_bits"
			}
			c := testkit.DialDeflate(t, p.Addr, offer, 15)
			c.WS.SetDeadline(time.Now().Add(10 * time.Second))
			if err := c.Send(frame.OpText, msg, 0); err != nil {
				t.Fatal(err)
			}
			if _, got, comp, err := c.Recv(); err != nil || !comp || !bytes.Equal(got, msg) {
				t.Fatalf("compressed echo: %v (compressed %v, equal %v)", err, comp, bytes.Equal(got, msg))
			}
			c.WS.SetDeadline(time.Time{})
			c.DropWriter() // the client's memory is not measured, but keep it small
			return c
		}
		for i := 0; i < 10; i++ {
			dial().WS.Close()
		}
		time.Sleep(200 * time.Millisecond)
		base := p.RSSKB(t)
		conns := make([]*testkit.DeflateClient, 0, n)
		for i := 0; i < n; i++ {
			conns = append(conns, dial())
		}
		time.Sleep(500 * time.Millisecond)
		after := p.RSSKB(t)
		per := float64(after-base) * 1024 / float64(n)
		t.Logf("deflate %v takeover %v %q: %d idle connections after one echo each: RSS %d KiB before, %d KiB after: %.0f bytes each", deflate, takeover, extra, n, base, after, per)
		for _, c := range conns {
			c.WS.Close()
		}
		return per
	}
}
