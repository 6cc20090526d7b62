package conformance

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// Autobahn group 1: text and binary messages of each length that changes
// the length encoding (§5.2: 7-bit up to 125, 16-bit up to 65535, 64-bit
// beyond), echoed byte-exact; plus the single-frame rules of §5.1 and §5.2
// that Autobahn, being a client test suite here, does not cover.
func TestConformanceFraming(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	var cases []rfcCase
	for group, op := range []byte{rfcOpText, rfcOpBinary} {
		for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
			payload := rfcPayload(op, n)
			cases = append(cases, rfcCase{fmt.Sprintf("1.%d.%d %s %d bytes", group+1, i+1, rfcOpName(op), n), func(c *rfcConn) {
				c.send(rfcMsg(op, payload))
				c.expectMessage(op, payload)
				c.closeNormally()
			}})
		}
		payload := rfcPayload(op, 65536)
		cases = append(cases, rfcCase{fmt.Sprintf("1.%d.8 %s 65536 bytes in 997-byte writes", group+1, rfcOpName(op)), func(c *rfcConn) {
			c.sendChopped(997, 0, rfcMsg(op, payload))
			c.expectMessage(op, payload)
			c.closeNormally()
		}})
	}
	hello := rfcText("Hello")
	unmasked := func(f rfcFrame) rfcFrame { f.unmasked = true; return f }
	topBit := uint64(1) << 63
	cases = append(cases,
		rfcCase{"§5.1 unmasked text: 1002", func(c *rfcConn) {
			c.send(unmasked(hello))
			c.ExpectClose(1002)
		}},
		rfcCase{"§5.1 unmasked ping after an echo: 1002", func(c *rfcConn) {
			c.send(hello, unmasked(rfcPing("ping")))
			c.expectText("Hello")
			c.ExpectClose(1002)
		}},
		rfcCase{"§5.1 unmasked close: 1002", func(c *rfcConn) {
			c.send(unmasked(rfcCloseFrame(1000, "")))
			c.ExpectClose(1002)
		}},
		rfcCase{"§5.1 unmasked continuation: 1002", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, []byte("Hel"), false), unmasked(rfcFrag(rfcOpCont, []byte("lo"), true)))
			c.ExpectClose(1002)
		}},
		rfcCase{"§5.2 64-bit length with the top bit set: 1002", func(c *rfcConn) {
			f := rfcMsg(rfcOpBinary, []byte("0123456789"))
			f.declared = &topBit
			c.send(f)
			c.ExpectClose(1002)
		}},
		rfcCase{"§5.2 a second HTTP request where a frame belongs: 1002", func(c *rfcConn) {
			c.sendBytes(rfcRequest("/", rfcNewKey()))
			c.ExpectClose(1002)
		}},
		rfcCase{"§5.2 text and binary alternate in one write", func(c *rfcConn) {
			var frames []rfcFrame
			for i := range 20 {
				op := []byte{rfcOpText, rfcOpBinary}[i%2]
				frames = append(frames, rfcMsg(op, rfcPayload(op, i*13)))
			}
			c.send(frames...)
			for _, f := range frames {
				c.expectMessage(f.op, f.payload)
			}
			c.closeNormally()
		}},
	)
	runCases(t, addr, cases)
}

// Autobahn group 2: pings and pongs (§5.5.2, §5.5.3).
func TestConformancePings(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	binaryPayload := string([]byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff})
	p125 := string(bytes.Repeat([]byte{0xfe}, 125))
	tenPings := func() ([]rfcFrame, []string) {
		var frames []rfcFrame
		var payloads []string
		for i := range 10 {
			payloads = append(payloads, fmt.Sprintf("payload-%d", i))
			frames = append(frames, rfcPing(payloads[i]))
		}
		return frames, payloads
	}
	cases := []rfcCase{
		{"2.1 ping, no payload", func(c *rfcConn) {
			c.send(rfcPing(""))
			c.expectPong("")
			c.closeNormally()
		}},
		{"2.2 ping, text payload", func(c *rfcConn) {
			c.send(rfcPing("Hello, world!"))
			c.expectPong("Hello, world!")
			c.closeNormally()
		}},
		{"2.3 ping, binary payload", func(c *rfcConn) {
			c.send(rfcPing(binaryPayload))
			c.expectPong(binaryPayload)
			c.closeNormally()
		}},
		{"2.4 ping, 125 bytes", func(c *rfcConn) {
			c.send(rfcPing(p125))
			c.expectPong(p125)
			c.closeNormally()
		}},
		{"2.5 ping, 126 bytes: 1002", func(c *rfcConn) {
			c.send(rfcPing(p125 + "x"))
			c.ExpectClose(1002)
		}},
		{"2.6 ping, 125 bytes in 1-byte writes", func(c *rfcConn) {
			c.sendChopped(1, time.Millisecond, rfcPing(p125))
			c.expectPong(p125)
			c.closeNormally()
		}},
		{"2.7 unsolicited pong, no payload: ignored", func(c *rfcConn) {
			c.send(rfcPong(""))
			c.closeNormally()
		}},
		{"2.8 unsolicited pong with payload: ignored", func(c *rfcConn) {
			c.send(rfcPong("unsolicited pong payload"))
			c.closeNormally()
		}},
		{"2.9 unsolicited pong, then ping: one pong", func(c *rfcConn) {
			c.send(rfcPong("unsolicited pong payload"), rfcPing("ping payload"))
			c.expectPong("ping payload")
			c.closeNormally()
		}},
		{"2.10 10 pings in one write: 10 pongs in order", func(c *rfcConn) {
			frames, payloads := tenPings()
			c.send(frames...)
			for _, p := range payloads {
				c.expectPong(p)
			}
			c.closeNormally()
		}},
		{"2.11 10 pings in 1-byte writes: 10 pongs in order", func(c *rfcConn) {
			frames, payloads := tenPings()
			c.sendChopped(1, 200*time.Microsecond, frames...)
			for _, p := range payloads {
				c.expectPong(p)
			}
			c.closeNormally()
		}},
		{"2.x pong, 126 bytes: 1002", func(c *rfcConn) {
			c.send(rfcPong(p125 + "x"))
			c.ExpectClose(1002)
		}},
		{"2.x ping, 125 bytes in the 16-bit length form: 1002 or pong", func(c *rfcConn) {
			// §5.2 requires the minimal length encoding; a server may
			// fail the frame or tolerate it, but must not misread it.
			f := rfcPing(p125)
			f.wide = 2
			c.send(f, rfcPing("after"))
			ev, err := c.readEvent()
			switch {
			case err != nil:
				c.t.Fatal(err)
			case ev.op == rfcOpClose:
				if code, _ := rfcParseClose(ev.payload); code != 1002 {
					c.t.Fatalf("got %v; want close 1002 or pong", ev)
				}
				if err := c.checkTCPClosed("its close frame", true); err != nil {
					c.t.Fatal(err)
				}
			case ev.op == rfcOpPong && string(ev.payload) == p125:
				c.expectPong("after")
				c.closeNormally()
			default:
				c.t.Fatalf("got %v; want close 1002 or pong", ev)
			}
		}},
	}
	runCases(t, addr, cases)
}

// Autobahn group 3: RSV bits set with no extension negotiated fail the
// connection with 1002 (§5.2), on any kind of frame, and nothing after the
// bad frame is answered.
func TestConformanceReservedBits(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	hello := rfcText("Hello")
	cases := []rfcCase{
		{"3.1 text with RSV1: 1002", func(c *rfcConn) {
			c.send(hello.withRsv(4))
			c.ExpectClose(1002)
		}},
		{"3.2 RSV2 after a valid echo, frame-wise writes: 1002, no pong", func(c *rfcConn) {
			c.sendFramewise(hello, hello.withRsv(2), rfcPing("Hello"))
			c.expectText("Hello")
			c.ExpectClose(1002)
		}},
		{"3.3 RSV3 after a valid echo, one write: 1002, no pong", func(c *rfcConn) {
			c.send(hello, hello.withRsv(3), rfcPing("Hello"))
			c.expectText("Hello")
			c.ExpectClose(1002)
		}},
		{"3.4 RSV 4 after a valid echo, 1-byte writes: 1002, no pong", func(c *rfcConn) {
			c.sendChopped(1, 200*time.Microsecond, hello, hello.withRsv(4), rfcPing("Hello"))
			c.expectText("Hello")
			c.ExpectClose(1002)
		}},
		{"3.5 binary with RSV 5: 1002", func(c *rfcConn) {
			c.send(rfcMsg(rfcOpBinary, []byte{0, 1, 2, 0xff}).withRsv(5))
			c.ExpectClose(1002)
		}},
		{"3.6 ping with RSV 6: 1002, no pong", func(c *rfcConn) {
			c.send(rfcPing("Hello").withRsv(6))
			c.ExpectClose(1002)
		}},
		{"3.7 close with RSV 7: 1002", func(c *rfcConn) {
			c.send(rfcCloseFrame(1000, "").withRsv(7))
			c.ExpectClose(1002)
		}},
		{"3.x continuation with RSV1: 1002", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, []byte("Hel"), false), rfcFrag(rfcOpCont, []byte("lo"), true).withRsv(4))
			c.ExpectClose(1002)
		}},
		{"3.x pong with RSV2: 1002", func(c *rfcConn) {
			c.send(rfcPong("x").withRsv(2), rfcPing("after"))
			c.ExpectClose(1002)
		}},
	}
	runCases(t, addr, cases)
}

// Autobahn group 4: reserved opcodes, data (3-7) and control (11-15), fail
// the connection with 1002 (§5.2); what came before is still echoed and
// what comes after is not answered.
func TestConformanceReservedOpcodes(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	var cases []rfcCase
	for group, ops := range [][]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		for i, op := range ops {
			bad := rfcMsg(op, nil)
			if i > 0 {
				bad.payload = []byte("reserved opcode payload")
			}
			name := fmt.Sprintf("4.%d.%d opcode %d", group+1, i+1, op)
			if i < 2 {
				cases = append(cases, rfcCase{name + ": 1002", func(c *rfcConn) {
					c.send(bad)
					c.ExpectClose(1002)
				}})
				continue
			}
			cases = append(cases, rfcCase{name + " after a valid echo: 1002, no pong", func(c *rfcConn) {
				c.sendFramewise(rfcText("Hello"), bad, rfcPing("Hello"))
				c.expectText("Hello")
				c.ExpectClose(1002)
			}})
		}
	}
	cases = append(cases, rfcCase{"4.x reserved opcode between fragments: 1002", func(c *rfcConn) {
		c.send(rfcFrag(rfcOpText, []byte("Hel"), false), rfcMsg(3, []byte("x")), rfcFrag(rfcOpCont, []byte("lo"), true))
		c.ExpectClose(1002)
	}})
	runCases(t, addr, cases)
}
