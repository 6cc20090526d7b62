package interop

// Interoperability with permessage-deflate (RFC 7692) negotiated: gorilla
// and coder/websocket with compression on, against the server with
// -deflate, through the same data-path table as without compression.
// Python's websockets and Node's ws: TestInteropPythonDeflate and
// TestInteropNodeDeflate.

import (
	"strings"
	"testing"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// deflateServer starts the server with -deflate (and takeover allowed
// when takeover is set).
func deflateServer(t *testing.T, takeover bool) string {
	cfg := testkit.Config()
	cfg.Deflate = true
	cfg.DeflateContextTakeover = takeover
	return testkit.StartAddr(t, cfg)
}

func TestInteropGorillaDeflate(t *testing.T) {
	t.Parallel()
	addr := deflateServer(t, false)
	// gorilla offers "permessage-deflate; server_no_context_takeover;
	// client_no_context_takeover" and compresses every message it writes.
	c, resp := gorillaDial(t, addr, gorilla.Dialer{EnableCompression: true})
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("gorilla: answer Sec-WebSocket-Extensions %q; want permessage-deflate", ext)
	}
	c.Close()
	interopDataTests(t, addr, func(t testing.TB, addr string, fragmented bool) interopConn {
		d := gorilla.Dialer{EnableCompression: true}
		if fragmented {
			d.WriteBufferSize = 64
		}
		c, _ := gorillaDial(t, addr, d)
		return gorillaConn{c}
	})
}

func TestInteropCoderDeflate(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name     string
		mode     coder.CompressionMode
		takeover bool
	}{
		{"NoContextTakeover", coder.CompressionNoContextTakeover, false},
		{"ContextTakeover", coder.CompressionContextTakeover, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			addr := deflateServer(t, mode.takeover)
			opts := &coder.DialOptions{CompressionMode: mode.mode, CompressionThreshold: 1}
			c, resp := coderDial(t, addr, opts)
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if !strings.HasPrefix(ext, "permessage-deflate") {
				t.Fatalf("coder: answer Sec-WebSocket-Extensions %q; want permessage-deflate", ext)
			}
			t.Logf("offer answered with %q", ext)
			c.CloseNow()
			interopDataTests(t, addr, func(t testing.TB, addr string, fragmented bool) interopConn {
				c, _ := coderDial(t, addr, opts)
				return coderConn{c}
			})
		})
	}
}
