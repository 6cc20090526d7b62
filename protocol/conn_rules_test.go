package protocol

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsreactor/wsreactor/frame"
)

// ruleCase is a client's frames after the seed's opening handshake and what
// the server must answer: the echoed messages, the pongs and the close code
// (0 for none). A case that ends in a close is followed by a text message
// and a ping that must not be processed.
type ruleCase struct {
	name  string
	cfg   func(*Config)
	in    []byte
	msgs  []message
	pongs []string
	code  frame.CloseCode
	peer  string // OnClose of a client-initiated close, "code reason"; "" means 1006 at ConnectionLost
}

const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // κόσμε

func ruleCases() []ruleCase {
	T, B, C := frame.OpText, frame.OpBinary, frame.OpContinuation
	txt := func(s string) message { return message{T, s} }
	bn := func(s string) message { return message{B, s} }
	maxMsg := func(n int64) func(*Config) { return func(c *Config) { c.MaxMessageSize = n } }
	big := strings.Repeat("0123456789abcdef", 20) // 320 bytes: 16-bit length
	reason123 := strings.Repeat("é", 61) + "x"    // 123 bytes

	cases := []ruleCase{
		// Echo (issue 2 "Echo").
		{name: "text", in: text("Hello"), msgs: []message{txt("Hello")}},
		{name: "binary", in: bin([]byte{0, 1, 2, 0xff}), msgs: []message{bn("\x00\x01\x02\xff")}},
		{name: "empty messages", in: cat(text(""), bin(nil)), msgs: []message{txt(""), bn("")}},
		{name: "several in one read", in: cat(text("a"), bin([]byte("b")), text(kosme)), msgs: []message{txt("a"), bn("b"), txt(kosme)}},
		{name: "16-bit length", in: text(big), msgs: []message{txt(big)}},
		{name: "fragmented text", in: cat(cf(false, T, []byte("Hel")), cf(false, C, []byte("lo, ")), cf(true, C, []byte("world"))),
			msgs: []message{txt("Hello, world")}},
		{name: "fragmented binary", in: cat(cf(false, B, []byte{1}), cf(true, C, []byte{2})), msgs: []message{bn("\x01\x02")}},
		{name: "empty fragments", in: cat(cf(false, T, nil), cf(false, C, []byte("ab")), cf(true, C, nil)), msgs: []message{txt("ab")}},
		{name: "code point split across fragments",
			in:   cat(cf(false, T, []byte("κ\xe1")), cf(false, C, []byte("\xbd")), cf(true, C, []byte("\xb9σμε"))),
			msgs: []message{txt(kosme)}},
		{name: "4-byte code point split", in: cat(cf(false, T, []byte("\xf0")), cf(true, C, []byte("\x9d\x84\x9e!"))), msgs: []message{txt("𝄞!")}},

		// Control frames (§5.5).
		{name: "ping", in: ping("hi"), pongs: []string{"hi"}},
		{name: "empty ping", in: ping(""), pongs: []string{""}},
		{name: "ping 125", in: ping(big[:125]), pongs: []string{big[:125]}},
		{name: "ping inside fragmented message",
			in:   cat(cf(false, T, []byte("Hel")), ping("p"), cf(true, C, []byte("lo"))),
			msgs: []message{txt("Hello")}, pongs: []string{"p"}},
		{name: "unsolicited pong ignored", in: cat(cf(true, frame.OpPong, []byte("x")), text("a")), msgs: []message{txt("a")}},
		{name: "ping 126", in: cat(text("a"), ping(big[:126])), msgs: []message{txt("a")}, code: 1002},
		{name: "fragmented ping", in: cf(false, frame.OpPing, []byte("x")), code: 1002},
		{name: "fragmented close", in: cf(false, frame.OpClose, closeBody(1000, "")), code: 1002},

		// Frame rules (§5.1, §5.2).
		{name: "unmasked", in: frame.AppendFrame(nil, true, T, []byte("x")), code: 1002},
		{name: "unmasked after a message", in: cat(text("a"), frame.AppendFrame(nil, true, T, []byte("x"))), msgs: []message{txt("a")}, code: 1002},
		{name: "RSV1", in: rawFrame(0x80|0x40|0x1, []byte("x")), code: 1002},
		{name: "RSV2", in: rawFrame(0x80|0x20|0x2, []byte("x")), code: 1002},
		{name: "RSV3", in: rawFrame(0x80|0x10|0x9, nil), code: 1002},
		{name: "64-bit length with top bit", in: []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, code: 1002},

		// Fragmentation (§5.4).
		{name: "continuation without message", in: cf(true, C, []byte("x")), code: 1002},
		{name: "continuation after a whole message", in: cat(text("a"), cf(true, C, []byte("x"))), msgs: []message{txt("a")}, code: 1002},
		{name: "text inside fragmented message", in: cat(cf(false, T, []byte("a")), cf(true, T, []byte("b"))), code: 1002},
		{name: "binary inside fragmented text", in: cat(cf(false, T, []byte("a")), cf(true, B, []byte("b"))), code: 1002},

		// UTF-8 (§5.6, §8.1).
		{name: "invalid UTF-8", in: text("\xce\xba\xff"), code: 1007},
		{name: "surrogate", in: text("\xed\xa0\x80"), code: 1007},
		{name: "overlong", in: text("\xc0\xaf"), code: 1007},
		{name: "over U+10FFFF", in: text("\xf4\x90\x80\x80"), code: 1007},
		{name: "invalid UTF-8 in a later fragment", in: cat(cf(false, T, []byte(kosme)), cf(true, C, []byte("\xce\xba\xff"))), code: 1007},
		{name: "ends inside a code point", in: text("κ\xe1\xbd"), code: 1007},
		{name: "ends inside a code point across fragments", in: cat(cf(false, T, []byte("κ\xe1")), cf(true, C, nil)), code: 1007},
		{name: "binary is not UTF-8", in: bin([]byte{0xff, 0xfe}), msgs: []message{bn("\xff\xfe")}},

		// Size limit (§7.4.1, 1009).
		{name: "at the limit", cfg: maxMsg(16), in: cat(bin(make([]byte, 16)), cf(false, T, []byte("12345678")), cf(true, C, []byte("12345678"))),
			msgs: []message{bn(string(make([]byte, 16))), txt("1234567812345678")}},
		{name: "over the limit", cfg: maxMsg(16), in: bin(make([]byte, 17)), code: 1009},
		{name: "over the limit in fragments", cfg: maxMsg(16), in: cat(cf(false, B, make([]byte, 10)), cf(true, C, make([]byte, 7))), code: 1009},
		{name: "control frames do not count", cfg: maxMsg(4), in: cat(cf(false, B, []byte("ab")), ping("pingpong"), cf(true, C, []byte("cd"))),
			msgs: []message{bn("abcd")}, pongs: []string{"pingpong"}},

		// Close (§5.5.1, §7.4).
		{name: "close empty", in: closeFrame(nil), code: 1000, peer: "1005 "},
		{name: "close 1000 with reason", in: closeFrame(closeBody(1000, "bye")), code: 1000, peer: "1000 bye"},
		{name: "close 123-byte reason", in: closeFrame(closeBody(1000, reason123)), code: 1000, peer: "1000 " + reason123},
		{name: "close after messages", in: cat(text("a"), ping("b"), closeFrame(closeBody(1001, ""))), msgs: []message{txt("a")}, pongs: []string{"b"}, code: 1001, peer: "1001 "},
		{name: "close inside fragmented message", in: cat(cf(false, T, []byte("ab")), closeFrame(closeBody(1000, ""))), code: 1000, peer: "1000 "},
		{name: "close 1-byte body", in: closeFrame([]byte{3}), code: 1002},
		{name: "close reason invalid UTF-8", in: closeFrame(closeBody(1000, "\xff")), code: 1007},
	}
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, ruleCase{name: fmt.Sprintf("close %d", code), in: closeFrame(closeBody(code, "")),
			code: frame.CloseCode(code), peer: fmt.Sprintf("%d ", code)})
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2000, 2999, 5000, 65535} {
		cases = append(cases, ruleCase{name: fmt.Sprintf("close invalid %d", code), in: closeFrame(closeBody(code, "")), code: 1002})
	}
	for _, op := range []byte{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		cases = append(cases, ruleCase{name: fmt.Sprintf("reserved opcode %#x", op), in: rawFrame(0x80|op, []byte("x")), code: 1002})
	}
	// Nothing after a close is processed.
	for i := range cases {
		if cases[i].code != 0 {
			cases[i].in = cat(cases[i].in, text("after"), ping("after"))
		}
	}
	return cases
}

// chunkSizes returns every size from 1 to n when n is small, else the
// small sizes, some around powers of two, and n.
func chunkSizes(n int) []int {
	var ks []int
	for k := 1; k <= n; k++ {
		if n <= 1200 || k <= 64 || k&(k-1) == 0 || (k+1)&k == 0 || k == n {
			ks = append(ks, k)
		}
	}
	return ks
}

// TestConnRules runs every rule case with the handshake and the frames fed
// at once (the frames in the same read as the head) and split at every
// chunk size from 1 byte up: the messages, pongs and close code must be the
// same, and nothing after a close is processed.
func TestConnRules(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			in := cat([]byte(seedRequest), tc.in)
			for _, k := range chunkSizes(len(in)) {
				h := newHarness(t, cfg, nil)
				h.feedChunks(in, k)
				if err := checkRuleOutput(h, tc, (len(in)+k-1)/k); err != nil {
					t.Fatalf("input in pieces of %d bytes: %v", k, err)
				}
			}
		})
	}
}

// checkRuleOutput compares what h's connection did with tc, then ends the
// connection and checks nothing is left behind.
func checkRuleOutput(h *harness, tc ruleCase, reads int) error {
	o := h.output()
	switch {
	case o.status != "HTTP/1.1 101 Switching Protocols":
		return fmt.Errorf("status %q", o.status)
	case len(o.problems) > 0:
		return fmt.Errorf("bad output: %v", o.problems)
	case !slices.Equal(o.msgs, tc.msgs):
		return fmt.Errorf("echoed %v; want %v", o.msgs, tc.msgs)
	case !slices.Equal(o.pongs, tc.pongs):
		return fmt.Errorf("pongs %q; want %q", o.pongs, tc.pongs)
	case tc.code == 0 && o.closed:
		return fmt.Errorf("closed with %v; want no close", o.code)
	case tc.code != 0 && o.code != tc.code:
		return fmt.Errorf("close code %v (closed %v, reason %q); want %v", o.code, o.closed, o.reason, tc.code)
	case h.tr.lost != (tc.code != 0) || h.tr.aborted:
		return fmt.Errorf("LoseConnection %v, AbortConnection %v; want %v, false", h.tr.lost, h.tr.aborted, tc.code != 0)
	case h.tr.late > 0:
		return fmt.Errorf("%d writes after LoseConnection", h.tr.late)
	case h.tr.writes > reads:
		return fmt.Errorf("%d writes for %d reads; want at most one per read", h.tr.writes, reads)
	case o.partial != nil && isText(o) && !utf8.Valid(o.partial):
		return fmt.Errorf("echoed invalid UTF-8 %q", o.partial)
	case h.c.out != nil || h.c.hp != nil:
		return fmt.Errorf("buffers held between reads")
	}
	if tc.peer != "" && !slices.Equal(h.rec.closes, []string{tc.peer}) {
		return fmt.Errorf("OnClose %q; want %q", h.rec.closes, tc.peer)
	}
	if tc.peer == "" && len(h.rec.closes) > 0 {
		return fmt.Errorf("OnClose %q before the connection was lost", h.rec.closes)
	}
	h.lost()
	want := "1006 "
	if tc.peer != "" {
		want = tc.peer
	}
	if !slices.Equal(h.rec.closes, []string{want}) {
		return fmt.Errorf("after ConnectionLost: OnClose %q; want %q", h.rec.closes, want)
	}
	if n := h.clk.Pending(); n != 0 {
		return fmt.Errorf("%d timers pending after ConnectionLost", n)
	}
	if n := h.srv.Open(); n != 0 {
		return fmt.Errorf("Server.Open() = %d after ConnectionLost", n)
	}
	return nil
}

// isText reports whether the unfinished echoed message is text.
func isText(o serverOutput) bool {
	for i := len(o.frames) - 1; i >= 0; i-- {
		if op := o.frames[i].op; op == frame.OpText || op == frame.OpBinary {
			return op == frame.OpText
		}
	}
	return false
}

// TestConnCloseReasons: the close frame that fails a connection says why,
// quoting the offending value where there is one.
func TestConnCloseReasons(t *testing.T) {
	for _, tc := range []struct {
		in     []byte
		reason string
	}{
		{frame.AppendFrame(nil, true, frame.OpText, nil), "client frame is not masked"},
		{closeFrame(closeBody(999, "")), "invalid close code 999"},
		{text("\xff"), "invalid UTF-8 in text message"},
	} {
		h := newHarness(t, testConfig(), nil).open()
		h.feed(tc.in)
		if o := h.output(); o.reason != tc.reason {
			t.Errorf("close reason %q; want %q", o.reason, tc.reason)
		}
		h.endClean()
	}
}
