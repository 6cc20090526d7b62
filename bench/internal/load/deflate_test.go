//go:build linux

package load

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	kflate "github.com/klauspost/compress/flate"
)

// The JSON-like payload is exactly the size asked, valid UTF-8 and valid
// JSON, the same for the same seed, and compresses like JSON with varied
// values (about 2× at 1 KiB, 5× at 64 KiB, level 1), not like one repeated
// byte.
func TestFillJSON(t *testing.T) {
	sizes := []int{1 << 10, 64 << 10}
	for n := 0; n <= 600; n++ {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		p := make([]byte, n)
		fillJSON(p, rand.New(rand.NewPCG(7, uint64(n))))
		q := make([]byte, n)
		fillJSON(q, rand.New(rand.NewPCG(7, uint64(n))))
		if !bytes.Equal(p, q) {
			t.Fatalf("fillJSON(%d) differs between two runs with one seed", n)
		}
		if !utf8.Valid(p) || (n >= 2 && !json.Valid(p)) {
			t.Fatalf("fillJSON(%d) = %q: not valid UTF-8 and JSON", n, p)
		}
	}
	for _, n := range []int{1 << 10, 64 << 10} {
		p := make([]byte, n)
		fillJSON(p, rand.New(rand.NewPCG(1, 2)))
		var b bytes.Buffer
		w, _ := stdflate.NewWriter(&b, 1)
		w.Write(p)
		w.Flush()
		if r := float64(b.Len()) / float64(n); r < 1.0/8 || r > 1.0/2 {
			t.Fatalf("%d B of JSON-like text compress to %d B (%.2f); want a JSON-like 1/8..1/2", n, b.Len(), r)
		}
	}
}

func TestCheckDeflateAnswer(t *testing.T) {
	for _, tc := range []struct {
		v        string
		takeover bool // offered takeover
		err      string
		serverTO bool
	}{
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", false, "", false},
		{"permessage-deflate;server_no_context_takeover", false, "", false},
		{"Permessage-Deflate; SERVER_NO_CONTEXT_TAKEOVER; server_max_window_bits=10", false, "", false},
		{`permessage-deflate; server_no_context_takeover; server_max_window_bits="15"`, false, "", false},
		{"permessage-deflate; client_no_context_takeover", true, "", true},
		{"permessage-deflate", true, "", true},
		{"permessage-deflate; server_no_context_takeover", true, "", false},
		{"permessage-deflate; client_no_context_takeover", false, "lacks server_no_context_takeover", true},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false, "repeated", false},
		{"permessage-deflate; server_no_context_takeover=1", false, "takes no value", false},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=7", false, "8..15", false},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits", false, "8..15", false},
		{"permessage-deflate; server_no_context_takeover; client_max_window_bits=10", false, "not offered", false},
		{"permessage-deflate; server_no_context_takeover; foo", false, "unknown", false},
		{"x-webkit-deflate-frame", false, "not offered", false},
		{"permessage-deflate; server_no_context_takeover, permessage-deflate", false, "several", false},
	} {
		ans, err := checkDeflateAnswer([]byte(tc.v), tc.takeover)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("checkDeflateAnswer(%q, %v) = %v; want error containing %q", tc.v, tc.takeover, err, tc.err)
			continue
		}
		if err == nil && (!ans.on || ans.serverTakeover != tc.serverTO) {
			t.Errorf("checkDeflateAnswer(%q, %v) = %+v; want on, server takeover %v", tc.v, tc.takeover, ans, tc.serverTO)
		}
	}
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	const ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	if _, err := checkUpgradeResponse([]byte(ok), key, true, false); err == nil || !strings.Contains(err.Error(), "declined") {
		t.Errorf("an answer without the extension to a deflate offer: %v; want declined", err)
	}
	ext := "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"
	if _, err := checkUpgradeResponse([]byte(ok+ext+ext), key, true, false); err == nil {
		t.Errorf("two extension answers accepted")
	}
	if ans, err := checkUpgradeResponse([]byte(ok+ext), key, true, false); err != nil || !ans.on {
		t.Errorf("checkUpgradeResponse with the extension = %+v, %v; want on", ans, err)
	}
}

// deflateConn is testConn sending k JSON messages of size bytes compressed,
// permessage-deflate agreed (with the server keeping its window if takeover).
func deflateConn(t testing.TB, size, k int, takeover bool) *conn {
	t.Helper()
	cfg := Config{Size: size, Inflight: k, Conns: 1, JSON: true, Deflate: true, Takeover: takeover}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, base: time.Now()}
	r.fs = buildFrameSet(size, k, 1, payloadJSON, true, 1<<30, rand.New(rand.NewPCG(1, 2)))
	l := &loop{r: r, hist: newHist(), rng: rand.New(rand.NewPCG(3, 4))}
	return reopenDeflate(l.newConn(target{}), takeover)
}

func reopenDeflate(c *conn, takeover bool) *conn {
	c = reopen(c)
	c.deflate, c.takeover = true, takeover
	return c
}

// deflateEchoes is what a compressing server returns for c's batch:
// message j compressed unless plain[j], fragmented into frag-byte frames
// (RSV1 on the first only, RFC 7692 §6.1), one compressor kept across
// messages when takeover (RFC 7692 §7.2.3), a fresh one each otherwise.
func deflateEchoes(c *conn, frag int, plain map[int]bool, takeover bool) []byte {
	fs := c.l.r.fs
	var out []byte
	var z bytes.Buffer
	w, _ := kflate.NewWriter(&z, 1)
	for j := 0; j < fs.k; j++ {
		p := c.b.payload[j*fs.size : (j+1)*fs.size]
		first := fs.op
		if !plain[j] {
			z.Reset()
			if !takeover {
				w.Reset(&z)
			}
			w.Write(p)
			w.Flush()
			p = bytes.Clone(z.Bytes()[:z.Len()-4])
			first |= rsv1
		}
		if frag <= 0 {
			frag = len(p) + 1
		}
		for op := first; ; op = opContinuation {
			n := min(frag, len(p))
			out = appendServerFrame(out, n == len(p), op, p[:n])
			if p = p[n:]; len(p) == 0 {
				break
			}
		}
	}
	return out
}

// Compressed echoes, whole or fragmented, mixed with uncompressed ones,
// with or without context takeover, split at every chunk size: every
// message verifies.
func TestConsumeDeflateChunked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size, k  int
		frag     int
		plain    map[int]bool
		takeover bool
	}{
		{"whole", 600, 3, 0, nil, false},
		{"fragmented", 600, 3, 17, nil, false},
		{"mixed", 600, 4, 0, map[int]bool{1: true, 2: true}, false},
		{"takeover", 600, 4, 0, map[int]bool{2: true}, true},
		{"takeover fragmented", 600, 3, 50, nil, true},
		{"64KiB", 64 << 10, 2, 0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := deflateConn(t, tc.size, tc.k, tc.takeover)
			wire := deflateEchoes(c, tc.frag, tc.plain, tc.takeover)
			step := 1
			for chunk := 1; chunk <= len(wire)+1; chunk += step {
				if chunk > 300 {
					step = 97
				}
				c = reopenDeflate(c, tc.takeover)
				c.l.meas = true
				for p := bytes.Clone(wire); len(p) > 0 && c.state != stDone; {
					n := min(chunk, len(p))
					c.consume(p[:n])
					p = p[n:]
				}
				if c.l.st.wireIn != int64(len(wire)) || c.l.st.wireOut != int64(len(c.b.req)) {
					t.Fatalf("chunk %d: wire in %d out %d; want %d, %d", chunk, c.l.st.wireIn, c.l.st.wireOut, len(wire), len(c.b.req))
				}
				if c.state == stDone || c.l.st.mismatches != 0 || c.l.st.msgs != int64(tc.k) || c.l.st.zmsgs != int64(tc.k-len(tc.plain)) {
					t.Fatalf("chunk %d: state %d msgs %d compressed %d mismatches %d errors %v; want %d messages, %d compressed",
						chunk, c.state, c.l.st.msgs, c.l.st.zmsgs, c.l.st.mismatches, c.l.r.firstErrs, tc.k, tc.k-len(tc.plain))
				}
			}
		})
	}
}

// A reply that refers to an earlier message (context takeover) does not
// verify without that history: the history is what makes takeover work.
func TestConsumeDeflateNeedsHistory(t *testing.T) {
	c := deflateConn(t, 600, 3, false)
	wire := deflateEchoes(c, 0, nil, true)
	c.l.meas = true
	c.consume(wire)
	if c.l.st.mismatches == 0 {
		t.Fatalf("takeover echoes verified without the history: the test's compressor did not refer back")
	}
}

// Flipped bytes of compressed echoes are caught: a mismatch, a failed
// inflate (counted as a mismatch) or a protocol error. Two bits of a
// compressed message may flip harmlessly: BFINAL in its first byte (a final
// block is allowed, RFC 7692 §7.2.3.4) and padding in its last (after the
// empty stored block's header, RFC 1951 §3.2.4), so those bytes are spared.
func TestConsumeDeflateDetectsCorruption(t *testing.T) {
	c := deflateConn(t, 300, 2, false)
	wire := deflateEchoes(c, 0, nil, false)
	spared := map[int]bool{}
	for off := 0; off < len(wire); {
		h, n := 2, int(wire[off+1]&0x7F)
		if n == 126 {
			h, n = 4, int(wire[off+2])<<8|int(wire[off+3])
		}
		spared[off+h], spared[off+h+n-1] = true, true
		off += h + n
	}
	for i := range wire {
		if spared[i] {
			continue
		}
		c = reopenDeflate(c, false)
		data := bytes.Clone(wire)
		data[i] ^= 0x01
		c.consume(data)
		if c.l.st.mismatches == 0 && c.state != stDone && c.rseq == 2 {
			t.Fatalf("byte %d of %d flipped went unnoticed", i, len(wire))
		}
	}
}

// RSV1 only on the first frame of a data message once agreed (RFC 7692 §6,
// §6.1); other reserved bits never.
func TestConsumeDeflateFrameRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
	}{
		{"rsv1 continuation", []byte{0x41, 0x01, 0x00, 0xC0, 0x01, 0x00}},
		{"rsv1 ping", []byte{0xC9, 0x00}},
		{"rsv1 close", []byte{0xC8, 0x02, 0x03, 0xE8}},
		{"rsv2", []byte{0xA1, 0x00}},
		{"rsv3", []byte{0x91, 0x00}},
		{"rsv1+rsv2", []byte{0xE1, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := deflateConn(t, 4, 1, false)
			c.fd = -1
			c.consume(tc.wire)
			if c.state != stDone || c.l.st.errs[kindProtocol] != 1 {
				t.Fatalf("consume(%x): state %d errors %v; want one protocol error", tc.wire, c.state, c.l.st.errs)
			}
		})
	}
}

// The steady-state compressed echo allocates nothing per message once the
// loop's inflater exists and the connection's buffers have grown.
func TestConsumeDeflateAllocs(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		c := deflateConn(t, 1024, 16, takeover)
		c.l.meas = true
		data := deflateEchoes(c, 0, nil, false)
		c.consume(data)
		allocs := testing.AllocsPerRun(50, func() {
			c.iseq += 16
			c.wseq += 16
			c.consume(data)
		})
		if allocs != 0 || c.l.st.mismatches != 0 {
			t.Fatalf("takeover %v: %v allocations per batch, %d mismatches; want 0, 0", takeover, allocs, c.l.st.mismatches)
		}
	}
}

// Compressed frames go out whole however the socket splits the writes.
func TestDeflateFramesWritten(t *testing.T) {
	c := deflateConn(t, 1000, 5, false)
	fs := c.l.r.fs
	start, end := c.b.span(0)
	if start != 0 || c.b.req[0] != 0x80|rsv1|opText || end >= clientFrameLen(1000)/2 {
		t.Fatalf("first frame [%d,%d) header %x: want RSV1 text, compressed below half of %d", start, end, c.b.req[0], clientFrameLen(1000))
	}
	for n := 1; n < 200; n += 7 {
		c = reopenDeflate(c, false)
		c.wseq, c.woff = 0, 0
		total := 0
		for c.wseq < uint64(fs.k) {
			c.wrote(n)
			total += n
		}
		if want := len(c.b.req); total < want || total-n >= want || c.woff != total-want {
			t.Fatalf("writes of %d: %d bytes for %d frames of %d bytes, woff %d", n, total, fs.k, want, c.woff)
		}
	}
}

// Over loopback against gorilla with compression: every echo comes back
// compressed and verifies, whole or fragmented, and the wire carries far
// fewer bytes than the messages.
func TestEchoDeflateGorilla(t *testing.T) {
	for _, o := range []wsServerOpts{{compress: true}, {compress: true, writeBuffer: 64}} {
		addr := startWSEcho(t, o)
		for _, size := range []int{1 << 10, 64 << 10} {
			for _, k := range []int{1, 16} {
				t.Run(fmt.Sprintf("buffer=%d/size=%d/inflight=%d", o.writeBuffer, size, k), func(t *testing.T) {
					cfg := quick(addr)
					cfg.Size, cfg.Inflight, cfg.JSON, cfg.Deflate = size, k, true, true
					res := mustRun(t, cfg)
					if res.Msgs < 1 || res.CompressedMsgs != res.Msgs {
						t.Fatalf("%d messages, %d compressed; want all compressed", res.Msgs, res.CompressedMsgs)
					}
					if res.WireOutPerMsg <= 0 || res.WireOutPerMsg > float64(size)/2 || res.WireInPerMsg <= 0 || res.WireInPerMsg > float64(size)/2 {
						t.Fatalf("wire bytes per message out %.0f in %.0f for %d B messages; want compressed", res.WireOutPerMsg, res.WireInPerMsg, size)
					}
				})
			}
		}
	}
}

// A server that declines compression fails every handshake of a -deflate run.
func TestEchoDeflateDeclined(t *testing.T) {
	cfg := quick(startWSEcho(t, wsServerOpts{}))
	cfg.Deflate, cfg.Retries = true, -1
	res, err := Run(cfg)
	if err == nil || res.ErrorKinds["handshake"] != int64(cfg.Conns) {
		t.Fatalf("Run against a server without compression = %v, %v; want every handshake failed", err, res.ErrorKinds)
	}
	if !errors.Is(err, ErrFailed) && !strings.Contains(fmt.Sprint(err, res.FirstErrors), "declined") {
		t.Fatalf("error %v %v does not say the server declined", err, res.FirstErrors)
	}
}
