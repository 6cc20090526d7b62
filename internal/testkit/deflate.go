package testkit

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/inflate"
)

// DeflateClient is a permessage-deflate client over a WSConn.
type DeflateClient struct {
	WS *WSConn
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

// DialDeflate opens a connection offering offer, and reads the answer; the
// client compresses with a window of clientBits.
func DialDeflate(t testing.TB, addr, offer string, clientBits int) *DeflateClient {
	t.Helper()
	ws, err := DialWSExt(addr, offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &DeflateClient{WS: ws, serverBits: 15, clientTakeover: true, serverTakeover: true}
	if !strings.HasPrefix(ws.Extensions, "permessage-deflate") {
		t.Fatalf("offer %q answered with extensions %q; want permessage-deflate", offer, ws.Extensions)
	}
	for _, p := range strings.Split(ws.Extensions, ";")[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch name {
		case "server_no_context_takeover":
			c.serverTakeover = false
		case "client_no_context_takeover":
			c.clientTakeover = false
		case "server_max_window_bits":
			c.serverBits, _ = strconv.Atoi(value)
		default:
			t.Fatalf("offer %q: answer %q has parameter %q", offer, ws.Extensions, p)
		}
	}
	if clientBits < 15 {
		c.w, _ = kflate.NewWriterWindow(&c.buf, 1<<clientBits)
	} else {
		c.w, _ = flate.NewWriter(&c.buf, 6)
	}
	return c
}

// Send writes data as one compressed message, in frames of at most frag
// bytes of payload (0: one frame); RSV1 on the first (§6).
func (c *DeflateClient) Send(op frame.Opcode, data []byte, frag int) error {
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
	_, err := c.WS.Write(out)
	return err
}

// Recv reads one message and inflates it when RSV1 says it is compressed.
func (c *DeflateClient) Recv() (op frame.Opcode, data []byte, compressed bool, err error) {
	var payload []byte
	for first := true; ; first = false {
		h, p, err := c.WS.ReadFrame()
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

// Payload is n bytes of text (JSON-like) or binary (compressible, not
// UTF-8), different for each seed.
func Payload(op frame.Opcode, n int, seed uint64) []byte {
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

// DropWriter lets go of the client's compressor and buffer (a client held
// idle keeps its memory small); the client cannot Send afterwards.
func (c *DeflateClient) DropWriter() { c.w, c.buf = nil, bytes.Buffer{} }
