package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// Autobahn group 5: fragmentation (§5.4). Control frames cannot be
// fragmented but may come between the fragments of a message, where they
// are answered at once; a continuation needs a message to continue; a new
// data frame cannot start inside a message. Violations fail with 1002.
func TestConformanceFragmentation(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	frag := func(op byte, s string, fin bool) rfcFrame { return rfcFrag(op, []byte(s), fin) }
	f1, f2 := frag(rfcOpText, "fragment1", false), frag(rfcOpCont, "fragment2", true)
	// Each way of writing, as Autobahn: all in one write, a write per
	// frame, a write per byte.
	writes := []struct {
		name string
		send func(c *rfcConn, frames ...rfcFrame)
	}{
		{"one write", (*rfcConn).send},
		{"frame-wise writes", (*rfcConn).sendFramewise},
		{"1-byte writes", func(c *rfcConn, frames ...rfcFrame) { c.sendChopped(1, 100*time.Microsecond, frames...) }},
	}
	var cases []rfcCase
	cases = append(cases,
		rfcCase{"5.1 ping in 2 fragments: 1002", func(c *rfcConn) {
			c.send(frag(rfcOpPing, "fragment1", false), frag(rfcOpCont, "fragment2", true))
			c.ExpectClose(1002)
		}},
		rfcCase{"5.2 pong in 2 fragments: 1002", func(c *rfcConn) {
			c.send(frag(rfcOpPong, "fragment1", false), frag(rfcOpCont, "fragment2", true))
			c.ExpectClose(1002)
		}},
	)
	for i, w := range writes {
		cases = append(cases,
			rfcCase{fmt.Sprintf("5.%d text in 2 fragments, %s", 3+i, w.name), func(c *rfcConn) {
				w.send(c, f1, f2)
				c.expectText("fragment1fragment2")
				c.closeNormally()
			}},
			rfcCase{fmt.Sprintf("5.%d ping between fragments, %s: pong at once", 6+i, w.name), func(c *rfcConn) {
				// The pong must come before the message is finished.
				w.send(c, f1, rfcPing("pongme!"))
				c.expectPong("pongme!")
				w.send(c, f2)
				c.expectText("fragment1fragment2")
				c.closeNormally()
			}},
			rfcCase{fmt.Sprintf("5.%d continuation with FIN and nothing to continue, %s: 1002", 9+i, w.name), func(c *rfcConn) {
				w.send(c, frag(rfcOpCont, "non-continuation payload", true), rfcText("Hello, world!"))
				c.ExpectClose(1002)
			}},
			rfcCase{fmt.Sprintf("5.%d continuation without FIN and nothing to continue, %s: 1002", 12+i, w.name), func(c *rfcConn) {
				w.send(c, frag(rfcOpCont, "non-continuation payload", false), rfcText("Hello, world!"))
				c.ExpectClose(1002)
			}},
		)
	}
	cases = append(cases,
		rfcCase{"5.15 message, then continuation with nothing to continue: echo, then 1002", func(c *rfcConn) {
			c.send(f1, f2, frag(rfcOpCont, "fragment3", false), frag(rfcOpText, "fragment4", true))
			c.expectText("fragment1fragment2")
			c.ExpectClose(1002)
		}},
		rfcCase{"5.16 continuation without FIN before a fragmented message, twice: 1002", func(c *rfcConn) {
			bad := frag(rfcOpCont, "fragment1", false)
			c.send(bad, frag(rfcOpText, "fragment2", false), frag(rfcOpCont, "fragment3", true),
				bad, frag(rfcOpText, "fragment2", false), frag(rfcOpCont, "fragment3", true))
			c.ExpectClose(1002)
		}},
		rfcCase{"5.17 continuation with FIN before a fragmented message, twice: 1002", func(c *rfcConn) {
			bad := frag(rfcOpCont, "fragment1", true)
			c.send(bad, frag(rfcOpText, "fragment2", false), frag(rfcOpCont, "fragment3", true),
				bad, frag(rfcOpText, "fragment2", false), frag(rfcOpCont, "fragment3", true))
			c.ExpectClose(1002)
		}},
		rfcCase{"5.18 second fragment with the text opcode: 1002", func(c *rfcConn) {
			c.send(f1, frag(rfcOpText, "fragment2", true))
			c.ExpectClose(1002)
		}},
		rfcCase{"5.19 text in 5 fragments with pings between and pauses: pongs first", func(c *rfcConn) {
			c.send(frag(rfcOpText, "fragment1", false), frag(rfcOpCont, "fragment2", false), rfcPing("pongme 1!"))
			c.expectPong("pongme 1!")
			time.Sleep(50 * time.Millisecond)
			c.send(frag(rfcOpCont, "fragment3", false), frag(rfcOpCont, "fragment4", false), rfcPing("pongme 2!"))
			c.expectPong("pongme 2!")
			time.Sleep(50 * time.Millisecond)
			c.send(frag(rfcOpCont, "fragment5", true))
			c.expectText("fragment1fragment2fragment3fragment4fragment5")
			c.closeNormally()
		}},
		rfcCase{"5.20 text in 5 fragments with pings between, 1-byte writes", func(c *rfcConn) {
			c.sendChopped(1, 100*time.Microsecond, frag(rfcOpText, "fragment1", false), frag(rfcOpCont, "fragment2", false), rfcPing("pongme 1!"),
				frag(rfcOpCont, "fragment3", false), frag(rfcOpCont, "fragment4", false), rfcPing("pongme 2!"), frag(rfcOpCont, "fragment5", true))
			c.expectPong("pongme 1!")
			c.expectPong("pongme 2!")
			c.expectText("fragment1fragment2fragment3fragment4fragment5")
			c.closeNormally()
		}},
		rfcCase{"5.x binary frame inside a text message: 1002", func(c *rfcConn) {
			c.send(f1, rfcMsg(rfcOpBinary, []byte("binary")), f2)
			c.ExpectClose(1002)
		}},
		rfcCase{"5.x unfragmented text inside a fragmented binary message: 1002", func(c *rfcConn) {
			c.send(frag(rfcOpBinary, "part1", false), rfcText("whole"), frag(rfcOpCont, "part2", true))
			c.ExpectClose(1002)
		}},
		rfcCase{"5.x unsolicited pong between fragments: ignored", func(c *rfcConn) {
			c.send(f1, rfcPong("unsolicited"), f2)
			c.expectText("fragment1fragment2")
			c.closeNormally()
		}},
		rfcCase{"5.x binary in 1-byte fragments", func(c *rfcConn) {
			payload := rfcBinaryPayload(300, 5)
			c.send(rfcFragments(rfcOpBinary, payload, 1)...)
			c.expectMessage(rfcOpBinary, payload)
			c.closeNormally()
		}},
		rfcCase{"5.x text in 1-byte fragments, each fragment a 1-byte write", func(c *rfcConn) {
			payload := rfcTextPayload(100)
			c.sendFramewise(rfcFragments(rfcOpText, payload, 1)...)
			c.expectMessage(rfcOpText, payload)
			c.closeNormally()
		}},
		rfcCase{"5.x empty fragments around data", func(c *rfcConn) {
			c.send(frag(rfcOpBinary, "", false), frag(rfcOpCont, "", false), frag(rfcOpCont, "data", false),
				frag(rfcOpCont, "", false), frag(rfcOpCont, "", true))
			c.expectMessage(rfcOpBinary, []byte("data"))
			c.closeNormally()
		}},
		rfcCase{"5.x 50 fragmented messages with pings between, one write: all in order", func(c *rfcConn) {
			var frames []rfcFrame
			for i := range 50 {
				op := []byte{rfcOpText, rfcOpBinary}[i%2]
				frames = append(frames, rfcFragments(op, rfcPayload(op, 10*i+3), 7)...)
				frames = append(frames, rfcPing(fmt.Sprint(i)))
			}
			c.send(frames...)
			for i := range 50 {
				op := []byte{rfcOpText, rfcOpBinary}[i%2]
				c.expectMessage(op, rfcPayload(op, 10*i+3))
				c.expectPong(fmt.Sprint(i))
			}
			c.closeNormally()
		}},
	)
	runCases(t, addr, cases)
}

// rfcFragments cuts payload into a message of fragments of size bytes (the
// last may be shorter; an empty payload is one empty frame).
func rfcFragments(op byte, payload []byte, size int) []rfcFrame {
	var frames []rfcFrame
	for first := true; first || len(payload) > 0; first = false {
		n := min(size, len(payload))
		fop := rfcOpCont
		if first {
			fop = op
		}
		frames = append(frames, rfcFrag(fop, payload[:n], n == len(payload)))
		payload = payload[n:]
	}
	return frames
}
