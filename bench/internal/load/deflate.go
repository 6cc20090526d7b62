//go:build linux

package load

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"strconv"

	kflate "github.com/klauspost/compress/flate"
)

// The client side of permessage-deflate (RFC 7692), for wsload -deflate.
//
// What we send is compressed once, when the frames are built: every client
// message is compressed on its own (we offer client_no_context_takeover and
// keep to it, §7.1.1.2), with compress/flate, a different library from the
// servers' (wsreactor compresses with klauspost's), so a verifier bug is
// unlikely to mirror a server's. What comes back is gathered whole per
// message (the scenarios' messages are 1 KiB and 64 KiB) and inflated with
// klauspost's decoder, the cheaper one on the client's CPU, into a buffer of
// the loop; the inflated bytes are compared with what was sent. RSV1 is per
// message (§6): a reply may come compressed or not.

const (
	// offerNoTakeover asks for no context takeover both ways: each message
	// stands alone, and neither end keeps a window between messages.
	offerNoTakeover = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
	// offerTakeover lets the server keep its window between messages (its
	// replies may then refer to earlier ones); we still compress each
	// message alone.
	offerTakeover = "permessage-deflate; client_no_context_takeover"
	// historySize is the most a DEFLATE distance reaches back (RFC 1951
	// §3.2.5), so the most of the server's earlier messages a reply may
	// refer to under context takeover.
	historySize = 32 << 10
)

// deflateAnswer is what the server's Sec-WebSocket-Extensions settled.
type deflateAnswer struct {
	on             bool // permessage-deflate agreed
	serverTakeover bool // the server may keep its window between messages
}

// checkDeflateAnswer checks the value of the response's
// Sec-WebSocket-Extensions against our offer (takeover: offerTakeover, else
// offerNoTakeover), as a client must (RFC 7692 §5.1, §7.1): exactly one
// extension, permessage-deflate; each parameter known, at most once, with a
// valid value; server_no_context_takeover present if we asked for it
// (§7.1.1.1); no client_max_window_bits, which we did not offer (§7.1.2.2).
func checkDeflateAnswer(v []byte, takeover bool) (deflateAnswer, error) {
	ans := deflateAnswer{on: true, serverTakeover: true}
	if bytes.IndexByte(v, ',') >= 0 {
		return ans, fmt.Errorf("load: handshake: several extensions answered, %q; we offered one", v)
	}
	params := bytes.Split(v, []byte(";"))
	if name := bytes.TrimSpace(params[0]); !bytes.EqualFold(name, []byte("permessage-deflate")) {
		return ans, fmt.Errorf("load: handshake: extension %q was not offered", name)
	}
	seen := map[string]bool{}
	for _, p := range params[1:] {
		name, value, hasValue := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		key := string(bytes.ToLower(bytes.TrimSpace(name)))
		value = bytes.Trim(bytes.TrimSpace(value), `"`)
		if seen[key] {
			return ans, fmt.Errorf("load: handshake: permessage-deflate parameter %q repeated in %q (RFC 7692 §7.1)", key, v)
		}
		seen[key] = true
		switch key {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return ans, fmt.Errorf("load: handshake: %s takes no value, got %q (RFC 7692 §7.1.1)", key, p)
			}
			if key == "server_no_context_takeover" {
				ans.serverTakeover = false
			}
		case "server_max_window_bits":
			n, err := strconv.Atoi(string(value))
			if !hasValue || err != nil || n < 8 || n > 15 {
				return ans, fmt.Errorf("load: handshake: server_max_window_bits %q, want 8..15 (RFC 7692 §7.1.2.1)", p)
			}
		case "client_max_window_bits":
			return ans, fmt.Errorf("load: handshake: client_max_window_bits answered, %q, but not offered (RFC 7692 §7.1.2.2)", v)
		default:
			return ans, fmt.Errorf("load: handshake: unknown permessage-deflate parameter %q in %q", key, v)
		}
	}
	if !takeover && ans.serverTakeover {
		return ans, fmt.Errorf("load: handshake: %q lacks server_no_context_takeover, which we asked for (RFC 7692 §7.1.1.1)", v)
	}
	return ans, nil
}

// compressor compresses client messages, each on its own (no context
// takeover), as RFC 7692 §7.2.1 sends them: DEFLATE, a sync flush, and the
// flush's trailing 00 00 ff ff removed. Used while building frames only.
type compressor struct {
	buf bytes.Buffer
	w   *stdflate.Writer
}

func newCompressor() *compressor {
	c := &compressor{}
	c.w, _ = stdflate.NewWriter(&c.buf, stdflate.DefaultCompression)
	return c
}

// compress returns the compressed form of p, valid until the next call.
func (c *compressor) compress(p []byte) []byte {
	c.buf.Reset()
	c.w.Reset(&c.buf)
	c.w.Write(p)
	c.w.Flush()
	b := c.buf.Bytes()
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		panic("load: a sync flush did not end with 00 00 ff ff")
	}
	return b[:len(b)-4]
}

// inflater is a loop's decoder for compressed echoes, reused for every
// message. Loop goroutine only.
type inflater struct {
	fr  io.ReadCloser // klauspost's flate reader; a flate.Resetter
	src bytes.Reader
	out []byte // one message and one byte more, to see a longer one
}

func newInflater(size int) *inflater {
	z := &inflater{out: make([]byte, size+1)}
	z.fr = kflate.NewReader(&z.src)
	return z
}

// checkInflated inflates the compressed message gathered in c.zbuf (RFC
// 7692 §7.2.2: the trailing 00 00 ff ff put back) and compares it with
// exp, the payload sent; under context takeover the server's earlier
// compressed messages (c.hist) are the decoder's window. It reports whether
// the message is exactly exp.
func (c *conn) checkInflated(exp []byte) bool {
	l := c.l
	if l.zin == nil {
		l.zin = newInflater(l.r.fs.size)
	}
	z := l.zin
	c.zbuf = append(c.zbuf, 0, 0, 0xff, 0xff)
	z.src.Reset(c.zbuf)
	var dict []byte
	if c.takeover {
		dict = c.hist
	}
	if err := z.fr.(kflate.Resetter).Reset(&z.src, dict); err != nil {
		l.r.note(fmt.Sprintf("load: inflate reset: %v", err))
		return false
	}
	n, err := io.ReadFull(z.fr, z.out)
	if err != nil && err != io.ErrUnexpectedEOF {
		l.r.note(fmt.Sprintf("load: a compressed echo does not inflate: %v", err))
		return false
	}
	ok := n == len(exp) && bytes.Equal(z.out[:n], exp)
	if ok && c.takeover {
		c.remember(exp)
	}
	return ok
}

// remember appends p to the connection's last historySize bytes of the
// server's compressed messages (context takeover, RFC 7692 §7.2.3).
func (c *conn) remember(p []byte) {
	if len(p) >= historySize {
		c.hist = append(c.hist[:0], p[len(p)-historySize:]...)
		return
	}
	if drop := len(c.hist) + len(p) - historySize; drop > 0 {
		c.hist = c.hist[:copy(c.hist, c.hist[drop:])]
	}
	c.hist = append(c.hist, p...)
}
