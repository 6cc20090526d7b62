package conformance

import (
	"fmt"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// rfcEchoLarge sends a message of op and payload, cut into fragments of
// fragSize bytes (0: one frame), written in pieces of chop bytes while the
// echo is read: the server echoes as data arrives, and bounds what it
// buffers for a client that does not read. The echo is compared
// reassembled, since the server may fragment it differently.
func rfcEchoLarge(c *rfcConn, op byte, payload []byte, fragSize, chop int) {
	c.t.Helper()
	frames := []rfcFrame{rfcMsg(op, payload)}
	if fragSize > 0 {
		frames = rfcFragments(op, payload, fragSize)
	}
	done := c.writeAsync(rfcWire(frames...), chop)
	c.expectMessage(op, payload)
	c.writeErr(<-done)
	c.closeNormally()
}

// Autobahn group 9: large messages, whole and fragmented down to 64-byte
// frames, written whole and in small pieces, echoed byte-exact (the sizes
// are a subset of Autobahn's chosen to keep the race-enabled run short);
// and many small messages one after another. Autobahn group 10: the echo of
// a large message may come in other fragments than were sent.
func TestConformanceLarge(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	var cases []rfcCase
	ops := []byte{rfcOpText, rfcOpBinary}
	for group, op := range ops {
		// 9.1, 9.2: one frame each.
		for i, n := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20} {
			cases = append(cases, rfcCase{fmt.Sprintf("9.%d.%d %s %s in one frame", 1+group, i+1, rfcOpName(op), rfcSize(n)), func(c *rfcConn) {
				rfcEchoLarge(c, op, rfcPayload(op, n), 0, 1<<20)
			}})
		}
		// 9.3, 9.4: fragmented.
		for i, fc := range []struct{ msg, frag int }{
			{1 << 20, 64}, {1 << 20, 256}, {1 << 20, 1 << 10}, {1 << 20, 4 << 10},
			{4 << 20, 16 << 10}, {4 << 20, 64 << 10}, {4 << 20, 1 << 20}, {16 << 20, 64 << 10},
		} {
			if op == rfcOpText && fc.msg == 16<<20 {
				continue // 16 MiB of text is 9.1.5; validating it again in fragments only costs time
			}
			cases = append(cases, rfcCase{fmt.Sprintf("9.%d.%d %s %s in %s fragments", 3+group, i+1, rfcOpName(op), rfcSize(fc.msg), rfcSize(fc.frag)), func(c *rfcConn) {
				rfcEchoLarge(c, op, rfcPayload(op, fc.msg), fc.frag, 1<<20)
			}})
		}
		// 9.5, 9.6: 1 MiB in one frame, written in small pieces.
		for i, chop := range []int{64, 256, 1 << 10, 4 << 10} {
			cases = append(cases, rfcCase{fmt.Sprintf("9.%d.%d %s 1 MiB in %s writes", 5+group, i+1, rfcOpName(op), rfcSize(chop)), func(c *rfcConn) {
				rfcEchoLarge(c, op, rfcPayload(op, 1<<20), 0, chop)
			}})
		}
		// 9.7, 9.8: 1000 messages, each echoed before the next is sent.
		for i, n := range []int{0, 16, 64, 256, 1 << 10, 4 << 10} {
			cases = append(cases, rfcCase{fmt.Sprintf("9.%d.%d 1000 %s messages of %s, one at a time", 7+group, i+1, rfcOpName(op), rfcSize(n)), func(c *rfcConn) {
				payload := rfcPayload(op, n)
				wire := rfcWire(rfcMsg(op, payload))
				for range 1000 {
					c.sendBytes(wire)
					c.expectMessage(op, payload)
				}
				c.closeNormally()
			}})
		}
	}
	cases = append(cases,
		rfcCase{"9.x binary 4 MiB in 64 B fragments", func(c *rfcConn) {
			rfcEchoLarge(c, rfcOpBinary, rfcPayload(rfcOpBinary, 4<<20), 64, 1<<20)
		}},
		rfcCase{"9.x ping between the halves of a 4 MiB fragmented message: pong before the end", func(c *rfcConn) {
			payload := rfcPayload(rfcOpBinary, 4<<20)
			frames := rfcFragments(rfcOpBinary, payload, 64<<10)
			half := len(frames) / 2
			done := c.writeAsync(rfcWire(append(frames[:half:half], rfcPing("middle"))...), 1<<20)
			c.expectPong("middle")
			c.writeErr(<-done)
			done = c.writeAsync(rfcWire(frames[half:]...), 1<<20)
			c.expectMessage(rfcOpBinary, payload)
			c.writeErr(<-done)
			c.closeNormally()
		}},
		rfcCase{"10.1.1 text 64 KiB in 1300-byte fragments", func(c *rfcConn) {
			rfcEchoLarge(c, rfcOpText, rfcPayload(rfcOpText, 64<<10), 1300, 1<<20)
		}},
		rfcCase{"10.x 1000 messages of mixed sizes and fragmentation in one write: all in order", func(c *rfcConn) {
			var frames []rfcFrame
			type msg struct {
				op      byte
				payload []byte
			}
			var want []msg
			for i := range 1000 {
				op := ops[i%2]
				payload := rfcPayload(op, i*7%1500)
				if i%3 == 0 {
					payload = rfcBinaryPayload(i*7%1500, uint64(i))
					op = rfcOpBinary
				}
				want = append(want, msg{op, payload})
				frames = append(frames, rfcFragments(op, payload, 1+i%700)...)
			}
			done := c.writeAsync(rfcWire(frames...), 1<<20)
			for _, m := range want {
				c.expectMessage(m.op, m.payload)
			}
			c.writeErr(<-done)
			c.closeNormally()
		}},
	)
	runCases(t, addr, cases)
}

// rfcSize names a byte count the way case names do.
func rfcSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// With -max-message 1 MiB: a message of exactly the limit is echoed, one
// over it fails with 1009 (§7.4.1), whether in one frame or fragmented, and
// a frame that declares more than the limit fails at once, without the
// server waiting for (or buffering) a payload it will refuse.
func TestConformanceMaxMessage(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.MaxMessage = 1 << 20
	addr := testkit.StartAddr(t, cfg)
	// tooBig sends the message payload as frames while reading, and
	// expects 1009. The server may close while the client is still
	// writing, and may have echoed part of the message first: no more than
	// the limit, and byte-exact.
	tooBig := func(c *rfcConn, payload []byte, frames ...rfcFrame) {
		c.writeAsync(rfcWire(frames...), 64<<10)
		c.ExpectClose(1009)
		c.expectEchoPrefix(payload)
		if len(c.msg) > int(cfg.MaxMessage) {
			c.t.Fatalf("before closing, the server echoed %d bytes, over the limit of %d", len(c.msg), cfg.MaxMessage)
		}
	}
	huge := uint64(1) << 40
	cases := []rfcCase{
		{"9.x binary of exactly 1 MiB: echoed", func(c *rfcConn) {
			rfcEchoLarge(c, rfcOpBinary, rfcPayload(rfcOpBinary, 1<<20), 0, 1<<20)
		}},
		{"9.x text of exactly 1 MiB in 64 KiB fragments: echoed", func(c *rfcConn) {
			rfcEchoLarge(c, rfcOpText, rfcPayload(rfcOpText, 1<<20), 64<<10, 1<<20)
		}},
		{"9.x binary of 2 MiB in one frame: 1009", func(c *rfcConn) {
			p := rfcPayload(rfcOpBinary, 2<<20)
			tooBig(c, p, rfcMsg(rfcOpBinary, p))
		}},
		{"9.x text of 2 MiB in one frame: 1009", func(c *rfcConn) {
			p := rfcPayload(rfcOpText, 2<<20)
			tooBig(c, p, rfcMsg(rfcOpText, p))
		}},
		{"9.x binary of 2 MiB in 256 KiB fragments: 1009", func(c *rfcConn) {
			p := rfcPayload(rfcOpBinary, 2<<20)
			tooBig(c, p, rfcFragments(rfcOpBinary, p, 256<<10)...)
		}},
		{"9.x 1 MiB + 1 byte in two fragments: 1009", func(c *rfcConn) {
			p := rfcPayload(rfcOpBinary, 1<<20+1)
			tooBig(c, p, rfcFrag(rfcOpBinary, p[:1<<20], false), rfcFrag(rfcOpCont, p[1<<20:], true))
		}},
		{"9.x frame declaring 2^40 bytes, 10 sent: 1009 at once", func(c *rfcConn) {
			f := rfcMsg(rfcOpBinary, []byte("0123456789"))
			f.declared = &huge
			c.send(f)
			c.ExpectClose(1009)
		}},
	}
	runCases(t, addr, cases)
}
