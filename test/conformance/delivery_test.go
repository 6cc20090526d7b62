package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// Frames arrive in whatever pieces TCP delivers (§5.2 puts no bound on how
// a frame is cut): one byte per read, cut at any byte, or many frames in
// one read. The echo is the same and in order whatever the cut.
func TestConformanceDelivery(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	long := rfcTextPayload(200) // a 16-bit length
	bin := rfcBinaryPayload(70, 1)
	frames := []rfcFrame{
		rfcMsg(rfcOpText, long),
		rfcFrag(rfcOpBinary, bin[:30], false), rfcPing("between"), rfcFrag(rfcOpCont, bin[30:], true),
		rfcText(""),
	}
	expect := func(c *rfcConn) {
		c.t.Helper()
		c.expectMessage(rfcOpText, long)
		c.expectPong("between")
		c.expectMessage(rfcOpBinary, bin)
		c.expectText("")
	}
	cases := []rfcCase{
		{"frames one byte per write", func(c *rfcConn) {
			c.sendChopped(1, 100*time.Microsecond, frames...)
			expect(c)
			c.closeNormally()
		}},
		{"frames and close one byte per write", func(c *rfcConn) {
			c.sendChopped(1, 100*time.Microsecond, append(frames, rfcCloseFrame(1000, ""))...)
			expect(c)
			c.ExpectClose(1000)
		}},
		{"frames in 3-byte writes", func(c *rfcConn) {
			c.sendChopped(3, 100*time.Microsecond, frames...)
			expect(c)
			c.closeNormally()
		}},
		{"frames cut in two at every byte", func(c *rfcConn) {
			wire := rfcWire(frames...)
			for i := 1; i < len(wire); i++ {
				if i > 1 {
					c = openConn(c.t, addr)
				}
				c.sendBytes(wire[:i])
				time.Sleep(500 * time.Microsecond)
				c.sendBytes(wire[i:])
				expect(c)
				c.closeNormally()
			}
		}},
		{"1000 messages in one write: echoed in order", func(c *rfcConn) {
			var frames []rfcFrame
			for i := range 1000 {
				frames = append(frames, rfcText(fmt.Sprintf("message %04d", i)))
			}
			c.send(frames...)
			for i := range 1000 {
				c.expectText(fmt.Sprintf("message %04d", i))
			}
			c.closeNormally()
		}},
		{"200 pings in one write: 200 pongs in order", func(c *rfcConn) {
			var frames []rfcFrame
			for i := range 200 {
				frames = append(frames, rfcPing(fmt.Sprint(i)))
			}
			c.send(frames...)
			for i := range 200 {
				c.expectPong(fmt.Sprint(i))
			}
			c.closeNormally()
		}},
	}
	runCases(t, addr, cases)
}
