package conformance

// Conformance of permessage-deflate (RFC 7692) over loopback, on the ground
// of Autobahn's groups 12 and 13: compressed messages of 16 B to 128 KiB,
// whole or in 256-byte frames, text and binary, echoed byte-exact, for each
// offer a client may make (context takeover asked or refused, window bits
// from 8 to 15, several offers in one header) against the server with
// and without -deflate-context-takeover. The client side compresses with
// compress/flate (or klauspost's custom-window writer for a client window
// below 15 bits) and inflates with this project's inflate package, set to
// the negotiated server window, so a back-reference beyond it fails.

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// dfOffers are the offers of Autobahn's cases 12.* and 13.*, and the
// window the client compresses with.
var dfOffers = []struct {
	offer      string
	clientBits int
}{
	{"permessage-deflate", 15},
	{"permessage-deflate; client_max_window_bits", 15},
	{"permessage-deflate; client_no_context_takeover; client_max_window_bits", 15},
	{"permessage-deflate; server_no_context_takeover", 15},
	{"permessage-deflate; server_max_window_bits=8", 15},
	{"permessage-deflate; server_max_window_bits=15", 15},
	{"permessage-deflate; server_no_context_takeover; server_max_window_bits=8", 15},
	{"permessage-deflate; server_no_context_takeover; server_max_window_bits=15", 15},
	{"permessage-deflate; client_max_window_bits=9", 9},
	{"permessage-deflate; server_no_context_takeover; server_max_window_bits=9, permessage-deflate; server_no_context_takeover, permessage-deflate", 15},
}

func TestConformanceDeflate(t *testing.T) {
	t.Parallel()
	sizes := []int{16, 64, 256, 1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10}
	perSize := 3
	if testing.Short() {
		perSize = 1
	}
	for _, takeover := range []bool{false, true} {
		cfg := testkit.Config()
		cfg.Deflate = true
		cfg.DeflateContextTakeover = takeover
		addr := testkit.StartAddr(t, cfg)
		for _, o := range dfOffers {
			for _, frag := range []int{0, 256} {
				name := fmt.Sprintf("takeover=%v/%s/frames=%d", takeover, o.offer, frag)
				c := testkit.DialDeflate(t, addr, o.offer, o.clientBits)
				c.WS.SetDeadline(time.Now().Add(60 * time.Second))
				for _, size := range sizes {
					for i := 0; i < perSize; i++ {
						for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
							want := testkit.Payload(op, size, uint64(i))
							if err := c.Send(op, want, frag); err != nil {
								t.Fatalf("%s: send %d bytes: %v", name, size, err)
							}
							gotOp, got, comp, err := c.Recv()
							if err != nil {
								t.Fatalf("%s: echo of %v %d bytes: %v", name, op, size, err)
							}
							if gotOp != op || !bytes.Equal(got, want) {
								t.Fatalf("%s: echo of %v %d bytes is %v %d bytes (equal %v)", name, op, size, gotOp, len(got), bytes.Equal(got, want))
							}
							if !comp && size >= 128 {
								t.Fatalf("%s: echo of %d bytes not compressed", name, size)
							}
						}
					}
				}
				c.WS.Close()
			}
		}
	}
}
