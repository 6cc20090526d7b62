package main

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
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"
	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/inflate"
)

// dfClient is a permessage-deflate client over a wsConn.
type dfClient struct {
	ws *wsConn
	w  interface {
		io.Writer
		Flush() error
		Reset(io.Writer)
	}
	buf            bytes.Buffer
	inf            inflate.Inflater
	serverBits     int
	clientTakeover bool // the answer lets the client keep its window
	serverTakeover bool // the answer lets the server keep its window
	started        bool
}

// dfDial opens a connection offering offer, and reads the answer; the
// client compresses with a window of clientBits.
func dfDial(t testing.TB, addr, offer string, clientBits int) *dfClient {
	t.Helper()
	ws, err := dialWSExt(addr, offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &dfClient{ws: ws, serverBits: 15, clientTakeover: true, serverTakeover: true}
	if !strings.HasPrefix(ws.extensions, "permessage-deflate") {
		t.Fatalf("offer %q answered with extensions %q; want permessage-deflate", offer, ws.extensions)
	}
	for _, p := range strings.Split(ws.extensions, ";")[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch name {
		case "server_no_context_takeover":
			c.serverTakeover = false
		case "client_no_context_takeover":
			c.clientTakeover = false
		case "server_max_window_bits":
			c.serverBits, _ = strconv.Atoi(value)
		default:
			t.Fatalf("offer %q: answer %q has parameter %q", offer, ws.extensions, p)
		}
	}
	if clientBits < 15 {
		c.w, _ = kflate.NewWriterWindow(&c.buf, 1<<clientBits)
	} else {
		c.w, _ = flate.NewWriter(&c.buf, 6)
	}
	return c
}

// send writes data as one compressed message, in frames of at most frag
// bytes of payload (0: one frame); RSV1 on the first (§6).
func (c *dfClient) send(op frame.Opcode, data []byte, frag int) error {
	c.buf.Reset()
	if !c.clientTakeover {
		c.w.Reset(&c.buf)
	}
	c.w.Write(data)
	c.w.Flush()
	payload := c.buf.Bytes()[:c.buf.Len()-4] // §7.2.1
	var out []byte
	for first := true; first || len(payload) > 0; first = false {
		n := len(payload)
		if frag > 0 {
			n = min(n, frag)
		}
		fop := op
		if !first {
			fop = frame.OpContinuation
		}
		at := len(out)
		out = frame.AppendMaskedFrame(out, n == len(payload), fop, [4]byte{1, 2, 3, 4}, payload[:n])
		if first {
			out[at] |= 0x40
		}
		payload = payload[n:]
	}
	_, err := c.ws.Write(out)
	return err
}

// recv reads one message and inflates it when RSV1 says it is compressed.
func (c *dfClient) recv() (op frame.Opcode, data []byte, compressed bool, err error) {
	var payload []byte
	for first := true; ; first = false {
		h, p, err := c.ws.readFrame()
		if err != nil {
			return 0, nil, false, err
		}
		if h.Opcode.IsControl() {
			if h.Opcode == frame.OpClose {
				return 0, nil, false, fmt.Errorf("server closed: % x", p)
			}
			first = true
			continue
		}
		if first {
			op, compressed = h.Opcode, h.Rsv&4 != 0
		}
		if !first && h.Rsv != 0 || h.Rsv&^4 != 0 {
			return 0, nil, false, fmt.Errorf("RSV %#x on frame %v (first %v)", h.Rsv, h.Opcode, first)
		}
		payload = append(payload, p...)
		if h.Fin {
			break
		}
	}
	if !compressed {
		return op, payload, false, nil
	}
	if !c.started || !c.serverTakeover {
		c.inf.Reset(c.serverBits)
		c.started = true
	}
	in := append(payload, 0, 0, 0xff, 0xff)
	out := make([]byte, 32<<10)
	for {
		if c.inf.Final() && len(in) > 0 {
			c.inf.Continue()
		}
		nOut, nIn, err := c.inf.Inflate(out, in)
		if err != nil {
			return 0, nil, true, fmt.Errorf("inflate (window %d bits): %w", c.serverBits, err)
		}
		data = append(data, out[:nOut]...)
		in = in[nIn:]
		if len(in) == 0 && nOut < len(out) {
			break
		}
	}
	c.inf.Continue()
	return op, data, true, nil
}

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

// dfPayload is n bytes of text (JSON-like) or binary (compressible, not
// UTF-8), different for each seed.
func dfPayload(op frame.Opcode, n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	var b bytes.Buffer
	if op == frame.OpText {
		for b.Len() < n {
			fmt.Fprintf(&b, `{"id":%d,"name":"κόσμε-%d","v":[%d,%d]},`, r.IntN(1000), r.IntN(50), r.IntN(10), r.IntN(100))
		}
		p := b.Bytes()[:n]
		for !utf8Complete(p) {
			p[len(p)-1] = '.'
		}
		return p
	}
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.IntN(16)) | 0x80
	}
	return p
}

// utf8Complete reports whether p does not end inside a code point.
func utf8Complete(p []byte) bool {
	for i := len(p) - 1; i >= 0 && i >= len(p)-4; i-- {
		c := p[i]
		if c < 0x80 {
			return true
		}
		if c >= 0xC0 {
			need := 2
			if c >= 0xF0 {
				need = 4
			} else if c >= 0xE0 {
				need = 3
			}
			return len(p)-i == need
		}
	}
	return true
}

func TestConformanceDeflate(t *testing.T) {
	t.Parallel()
	sizes := []int{16, 64, 256, 1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10}
	perSize := 3
	if testing.Short() {
		perSize = 1
	}
	for _, takeover := range []bool{false, true} {
		cfg := testConfig()
		cfg.Deflate = true
		cfg.DeflateContextTakeover = takeover
		addr := startServer(t, cfg)
		for _, o := range dfOffers {
			for _, frag := range []int{0, 256} {
				name := fmt.Sprintf("takeover=%v/%s/frames=%d", takeover, o.offer, frag)
				c := dfDial(t, addr, o.offer, o.clientBits)
				c.ws.SetDeadline(time.Now().Add(60 * time.Second))
				for _, size := range sizes {
					for i := 0; i < perSize; i++ {
						for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
							want := dfPayload(op, size, uint64(i))
							if err := c.send(op, want, frag); err != nil {
								t.Fatalf("%s: send %d bytes: %v", name, size, err)
							}
							gotOp, got, comp, err := c.recv()
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
				c.ws.Close()
			}
		}
	}
}
