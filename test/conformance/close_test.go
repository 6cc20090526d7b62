package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// Autobahn group 7: the close handshake (§5.5.1, §7). A close is answered
// with a close echoing its code (1000 for an empty body, as this project's
// contract says), after which nothing the client sends is processed and the
// server closes TCP without waiting for the client. Invalid codes and
// bodies fail with 1002, an invalid UTF-8 reason with 1007.
func TestConformanceClose(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	cases := []rfcCase{
		{"7.1.1 echo, then clean close", func(c *rfcConn) {
			c.send(rfcText("Hello World!"))
			c.expectText("Hello World!")
			c.closeNormally()
		}},
		{"7.1.2 close twice: one answer", func(c *rfcConn) {
			c.send(rfcCloseFrame(1000, ""), rfcCloseFrame(1000, ""))
			c.expectCloseFIN(1000)
		}},
		{"7.1.3 close, then ping: no pong", func(c *rfcConn) {
			c.send(rfcCloseFrame(1000, ""), rfcPing("Hello World!"))
			c.ExpectClose(1000)
		}},
		{"7.1.4 close, then text: not echoed", func(c *rfcConn) {
			c.send(rfcCloseFrame(1000, ""), rfcText("Hello World!"))
			c.ExpectClose(1000)
		}},
		{"7.1.5 close between fragments: the message is not finished", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, []byte("fragment1"), false), rfcCloseFrame(1000, ""), rfcFrag(rfcOpCont, []byte("fragment2"), true))
			c.ExpectClose(1000)
		}},
		{"7.1.6 256 KiB message, close, ping: echo, close, no pong", func(c *rfcConn) {
			payload := rfcTextPayload(256 << 10)
			done := c.writeAsync(rfcWire(rfcMsg(rfcOpText, payload), rfcCloseFrame(1000, ""), rfcPing("Hello World!")), 64<<10)
			c.expectMessage(rfcOpText, payload)
			c.ExpectClose(1000)
			c.writeErr(<-done)
		}},
		{"7.1.x close, then everything else in the same write: nothing processed", func(c *rfcConn) {
			c.send(rfcCloseFrame(1000, "bye"), rfcText("text"), rfcMsg(rfcOpBinary, []byte{1, 2}), rfcPing("p"),
				rfcMsg(5, nil), rfcCloseFrame(3000, "again"))
			c.ExpectClose(1000)
		}},
		{"7.1.x close in 1-byte writes", func(c *rfcConn) {
			c.sendChopped(1, time.Millisecond, rfcCloseFrame(1000, "Hello"))
			c.expectCloseFIN(1000)
		}},
	}
	// A single close frame and the code that must answer it. The close is
	// all the client sends, so the server reads it all and then must close
	// TCP cleanly, whether it echoes the close or fails the connection.
	type closeCase struct {
		name string
		body []byte
		want uint16
	}
	bodies := []closeCase{
		{"7.3.1 close with an empty body: 1000", nil, 1000},
		{"7.3.2 close with a 1-byte body: 1002", []byte{0x03}, 1002},
		{"7.3.3 close 1000, no reason", rfcCloseBody(1000, ""), 1000},
		{"7.3.4 close 1000 with a reason", rfcCloseBody(1000, "Hello World!"), 1000},
		{"7.3.5 close 1000 with a 123-byte reason (125-byte body)", rfcCloseBody(1000, strings.Repeat("*", 123)), 1000},
		{"7.3.6 close 1000 with a 124-byte reason (126-byte body): 1002", rfcCloseBody(1000, strings.Repeat("*", 124)), 1002},
		{"7.5.1 close reason not UTF-8: 1007", rfcCloseBody(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 1007},
		{"7.5.x close reason ends mid-code-point: 1007", rfcCloseBody(1000, "abc\xce"), 1007},
		{"7.5.x close reason multi-byte UTF-8: 1000", rfcCloseBody(1000, "κόσμε €𝄞"), 1000},
	}
	// 7.7: every code an endpoint may send is echoed.
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		bodies = append(bodies, closeCase{fmt.Sprintf("7.7.%d close %d: echoed", i+1, code), rfcCloseBody(code, "reason"), code})
	}
	// 7.9 and 7.13: codes that must not be on the wire (reserved, local
	// only, unassigned, or out of range) fail with 1002. This project
	// keeps to 1000-1003, 1007-1011 and 3000-4999, so 1012-1015 count as
	// invalid here.
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		bodies = append(bodies, closeCase{fmt.Sprintf("7.9.%d close %d: 1002", i+1, code), rfcCloseBody(code, ""), 1002})
	}
	for _, tc := range bodies {
		cases = append(cases, rfcCase{tc.name, func(c *rfcConn) {
			c.send(rfcMsg(rfcOpClose, tc.body))
			c.expectCloseFIN(tc.want)
		}})
	}
	runCases(t, addr, cases)
}
