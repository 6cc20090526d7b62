package protocol

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/wsreactor/wsreactor/frame"
)

// FuzzConn drives the connection state machine after the seed's opening
// handshake and checks what it writes against a reference model of RFC 6455
// §5 and §7 written here from the RFC (fzExpect), which shares no code with
// the state machine or its decoder.
//
// The input is a program (fzGen) that builds client frames, so the fuzzer
// reaches deep states: each frame's opcode, FIN, RSV bits, MASK bit and key,
// length (with lies and non-minimal encodings) and payload (valid UTF-8 cut
// anywhere, or raw bytes) come from its bytes. The mode bits feed the input
// as raw bytes instead (fzRaw), send the frames in the same read as the
// request head (fzSameRead), call GoingAway after a fuzz-chosen number of
// bytes (fzAway) and use the Messages handler instead of Echo
// (fzMessages). The stream is fed whole, then again in chunks of a
// fuzz-chosen size, and each time:
//   - nothing panics, and each DataReceived makes at most one Transport.Write;
//   - the output is well-formed server frames (frame.Decoder, and
//     parseOutput as a second reader): unmasked, no RSV, minimal lengths,
//     data frames in fragment order, control frames unfragmented and at
//     most 125 bytes, at most one close frame, with a code valid on the
//     wire, and nothing after it;
//   - the echoed messages and pongs are the model's, in order; a message
//     left unfinished was echoed as far as the model allows (all of it, or
//     for a text message that failed, a prefix of its valid part); the
//     close code is the one for the first rule broken (or the echo of the
//     client's close, or 1001 after GoingAway); LoseConnection is called
//     when the model says the connection ends;
//   - OnClose runs once, with the client's close or 1006; after
//     ConnectionLost no timer is pending, the pooled buffers, the handshake
//     parser and Messages' buffer are given back and the connection is
//     uncounted.
//
// Chunked and whole must give the same messages, pongs and close code. The
// seeds (fzSeeds) cover each rule of issue 2; the corpus the fuzzer kept is
// committed in testdata/fuzz/FuzzConn.
func FuzzConn(f *testing.F) {
	for _, s := range fzSeeds() {
		f.Add(s.prog, s.chunk, s.mode, s.away)
	}
	f.Fuzz(func(t *testing.T, prog []byte, chunk uint16, mode uint8, away uint16) {
		var wire []byte
		if mode&fzRaw != 0 {
			wire = prog[:min(len(prog), fzMaxWire)]
		} else {
			wire = fzGenerate(prog)
		}
		r := fzCase{wire: wire, mode: mode, away: -1}
		if mode&fzAway != 0 {
			r.away = int(away) % (len(wire) + 1)
		}
		want := fzExpect(wire, r.away)
		if mode&fzMessages != 0 {
			want.min = 0 // Messages echoes nothing of an unfinished message
		}
		whole := r.run(t, want)
		r.size = 1
		if n := len(wire) + len(seedRequest); n > 0 {
			r.size = int(chunk)%n + 1
		}
		chunked := r.run(t, want)
		if !slices.Equal(chunked.events, whole.events) || chunked.code != whole.code {
			t.Fatalf("%v: events %v close %d; whole: %v close %d", r, chunked.events, chunked.code, whole.events, whole.code)
		}
	})
}

// Modes of FuzzConn.
const (
	fzRaw      = 1 << iota // the input is the wire, not a program
	fzSameRead             // the frames come in the same read as the request head
	fzAway                 // GoingAway is called after a fuzz-chosen number of bytes of the wire
	fzMessages             // the handler is Messages echoing each whole message, not Echo
)

const (
	fzMaxMessage = 1024     // Config.MaxMessageSize of the fuzzed server
	fzMaxWire    = 64 << 10 // the generated wire is cut past this: one write per read holds
)

// fzEvent is something the client sees: a whole echoed message ("text",
// "binary") or a pong.
type fzEvent struct {
	kind string
	data string
}

func (e fzEvent) String() string { return fmt.Sprintf("%s %q", e.kind, e.data) }

// fzOutcome is what the server answers a stream of client frames with.
type fzOutcome struct {
	events []fzEvent
	// The message in progress when the input ended or the server failed:
	// its opcode and data as far as the server may have echoed it (data),
	// and at least how much of it (min).
	partOp frame.Opcode
	part   string
	min    int
	code   frame.CloseCode // close frame sent; 0 for none
	peer   string          // OnClose: "code reason"
	ended  bool            // the server closes TCP (LoseConnection)
}

// fzExpect is the reference model: what the server must answer to wire,
// when GoingAway is called after its first away bytes (never when away is
// out of range). Until then, the server answers as if the input had ended
// there; then it sends close 1001 (RFC 6455 §7.4.1), echoes and answers
// nothing more (§5.5.1: "After sending a Close frame, the endpoint MUST NOT
// send any more data frames"), and ends the connection at the client's
// close (§7.1.3: the handshake is complete) or at a broken rule.
func fzExpect(w []byte, away int) fzOutcome {
	if away < 0 || away > len(w) {
		return fzModel(w, false)
	}
	o := fzModel(w[:away], false)
	if o.code != 0 {
		return o // GoingAway comes too late: the connection is closing
	}
	after := fzModel(w, true)
	o.code, o.peer, o.ended = frame.CloseGoingAway, after.peer, after.ended
	return o
}

// fzModel reads the whole wire at once, with none of the state machine's
// code (nor frame.Decoder), and returns what the server must answer,
// applying the rules in the order they can be seen on the wire (RFC 6455
// §5.2 header, §5.1 masking, §5.2 RSV and opcodes, §5.5 control frames,
// §5.4 fragment order, §7.4.1 message size, then the payload: §5.6/§8.1
// UTF-8 of text, fail-fast at the first invalid byte, §5.5.1/§7.4 close
// body). With closeSent, the server has sent its close before the first
// byte: only when the connection ends, and the OnClose it gets, matter;
// data is discarded unread, so not checked for UTF-8.
func fzModel(w []byte, closeSent bool) (o fzOutcome) {
	o.peer = fmt.Sprintf("%d ", frame.CloseAbnormal)
	var msgOp frame.Opcode // 0 between messages
	var msg []byte         // the current message's data so far
	var declared uint64    // the lengths its frames declared
	valid := 0             // msg[:valid] is valid UTF-8 (text)
	// part sets the unfinished message's expected echo.
	part := func(minLen int) {
		o.partOp = msgOp
		o.part = string(msg)
		if msgOp == frame.OpText {
			o.part = string(msg[:fzBoundary(msg[:fzValidPrefix(msg)])])
		}
		o.min = len(o.part)
		if minLen >= 0 {
			o.min = minLen
		}
	}
	fail := func(code frame.CloseCode, minLen int) fzOutcome {
		part(minLen)
		o.code, o.ended = code, true
		return o
	}
	for {
		if len(w) < 2 {
			break
		}
		fin, rsv, op := w[0]&0x80 != 0, w[0]&0x70, frame.Opcode(w[0]&0x0f)
		masked, n := w[1]&0x80 != 0, uint64(w[1]&0x7f)
		hl := 2
		switch n {
		case 126:
			hl = 4
		case 127:
			hl = 10
		}
		if masked {
			hl += 4
		}
		if len(w) < hl {
			break
		}
		switch n {
		case 126:
			n = uint64(binary.BigEndian.Uint16(w[2:]))
		case 127:
			n = binary.BigEndian.Uint64(w[2:])
			if n>>63 != 0 {
				return fail(frame.CloseProtocolError, -1)
			}
		}
		var key []byte
		if masked {
			key = w[hl-4 : hl]
		}
		w = w[hl:]
		control := op >= 8
		data := op <= 2
		switch {
		case !masked, rsv != 0, !control && !data, op > 0xa,
			control && (n > 125 || !fin),
			op == frame.OpContinuation && msgOp == 0,
			op != frame.OpContinuation && data && msgOp != 0:
			return fail(frame.CloseProtocolError, -1)
		}
		if data {
			if op != frame.OpContinuation {
				msgOp, msg, declared, valid = op, nil, 0, 0
			}
			if declared+n > fzMaxMessage {
				return fail(frame.CloseTooBig, -1)
			}
			declared += n
		}
		avail := int(min(n, uint64(len(w))))
		payload := bytes.Clone(w[:avail])
		w = w[avail:]
		for i := range payload {
			payload[i] ^= key[i%4]
		}
		complete := avail == int(n)
		if control {
			if !complete {
				break
			}
			switch op {
			case frame.OpPing:
				o.events = append(o.events, fzEvent{"pong", string(payload)})
			case frame.OpClose:
				part(-1)
				o.ended = true
				return fzExpectClose(o, payload)
			}
			continue
		}
		msg = append(msg, payload...)
		if msgOp == frame.OpText && !closeSent {
			// msg[:valid] was checked and ends on a boundary: the rest
			// follows from there.
			rest := msg[valid:]
			if fzValidPrefix(rest) < len(rest) || complete && fin && fzBoundary(rest) < len(rest) {
				return fail(frame.CloseInvalidPayload, valid)
			}
			valid += fzBoundary(rest)
		}
		if !complete {
			break
		}
		if fin {
			kind := "binary"
			if msgOp == frame.OpText {
				kind = "text"
			}
			o.events = append(o.events, fzEvent{kind, string(msg)})
			msgOp, msg = 0, nil
		}
	}
	part(-1)
	return o
}

// fzExpectClose is the model's answer to a whole close frame (RFC 6455
// §5.5.1, §7.1.5, §7.4): the client's code echoed (1000 for an empty
// body), or 1002 for a 1-byte body or a code not allowed on the wire, or
// 1007 for a reason that is not UTF-8.
func fzExpectClose(o fzOutcome, body []byte) fzOutcome {
	switch {
	case len(body) == 0:
		o.code, o.peer = frame.CloseNormal, fmt.Sprintf("%d ", frame.CloseNoStatus)
	case len(body) == 1:
		o.code = frame.CloseProtocolError
	case !fzCodeOnWire(binary.BigEndian.Uint16(body)):
		o.code = frame.CloseProtocolError
	case !utf8.Valid(body[2:]):
		o.code = frame.CloseInvalidPayload
	default:
		code := binary.BigEndian.Uint16(body)
		o.code, o.peer = frame.CloseCode(code), fmt.Sprintf("%d %s", code, body[2:])
	}
	return o
}

// fzCodeOnWire: the codes a close frame may carry (RFC 6455 §7.4.1 defined
// ones but 1004-1006, §7.4.2 3000-4999), as issue 2 lists them.
func fzCodeOnWire(c uint16) bool {
	return c >= 1000 && c <= 1003 || c >= 1007 && c <= 1011 || c >= 3000 && c <= 4999
}

// fzValidPrefix returns the length of the longest prefix of b that some
// valid UTF-8 text starts with: the index of the first byte at which a
// validator must fail (len(b) if none).
func fzValidPrefix(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		k := 0
		for k < min(3, len(b)-i) && fzCompletable(b[i:i+k+1]) {
			k++
		}
		return i + k
	}
	return len(b)
}

// fzCompletable reports whether p, 1 to 3 bytes, is the start of a
// longer valid code point: some continuation bytes complete it.
func fzCompletable(p []byte) bool {
	for x := byte(0x80); x <= 0xbf; x++ {
		q := append(bytes.Clone(p), x, x, x)[:4]
		if r, size := utf8.DecodeRune(q); (r != utf8.RuneError || size > 1) && size > len(p) {
			return true
		}
	}
	return false
}

// fzBoundary returns the length of the longest prefix of b, a valid prefix
// of UTF-8 text, that ends on a code point boundary.
func fzBoundary(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// fzCase is one run of FuzzConn: wire fed in chunks of size bytes (whole
// when 0), in mode, with GoingAway after away bytes of the wire (never when
// negative).
type fzCase struct {
	wire []byte
	mode uint8
	size int
	away int
}

func (r fzCase) String() string {
	return fmt.Sprintf("wire %q (mode %#x, GoingAway at %d) in chunks of %d", r.wire, r.mode, r.away, r.size)
}

// run feeds the seed's request and the wire to a new connection, checks
// the output and the connection's end against want, and returns what the
// client read.
func (r fzCase) run(t *testing.T, want fzOutcome) fzOutcome {
	t.Helper()
	cfg := testConfig()
	cfg.MaxMessageSize = fzMaxMessage
	var app func() Handler
	if r.mode&fzMessages != 0 {
		app = func() Handler {
			return Messages(func(c *Conn, op frame.Opcode, msg []byte) { c.WriteMessage(op, msg) })
		}
	}
	h := newHarness(t, cfg, app)
	stream, head := r.wire, 0 // head: bytes of the request in stream
	if r.mode&fzSameRead != 0 {
		stream, head = append([]byte(seedRequest), r.wire...), len(seedRequest)
	} else {
		h.open()
	}
	feed := func(b []byte) {
		size := r.size
		if size == 0 {
			size = max(len(b), 1)
		}
		for ; len(b) > 0; b = b[min(size, len(b)):] {
			writes := h.tr.writes
			h.feed(b[:min(size, len(b))])
			if n := h.tr.writes - writes; n > 1 {
				t.Fatalf("%v: %d writes in one DataReceived", r, n)
			}
		}
	}
	if r.away >= 0 {
		feed(stream[:head+r.away])
		writes := h.tr.writes
		h.c.GoingAway()
		if n := h.tr.writes - writes; n > 1 {
			t.Fatalf("%v: %d writes in GoingAway", r, n)
		}
		feed(stream[head+r.away:])
	} else {
		feed(stream)
	}
	out := h.tr.out
	if head > 0 {
		if !bytes.HasPrefix(out, []byte(seedResponse)) {
			t.Fatalf("%v after the head in the same read: response %q", r, out)
		}
		out = out[len(seedResponse):]
	}
	got, problem := fzParse(out)
	if problem == "" {
		if po := parseOutput(out); len(po.problems) > 0 {
			problem = fmt.Sprint(po.problems)
		}
	}
	if problem == "" && r.mode&fzMessages != 0 && got.partOp != 0 {
		problem = "Messages echoed part of a message"
	}
	if problem != "" {
		t.Fatalf("%v: output %q: %s", r, out, problem)
	}
	fzCompare(t, r, got, want)
	if h.tr.lost != want.ended || h.tr.late != 0 || h.tr.aborted {
		t.Fatalf("%v: close %d; LoseConnection %v (want %v), %d writes after it, aborted %v",
			r, got.code, h.tr.lost, want.ended, h.tr.late, h.tr.aborted)
	}
	if n := h.clk.Pending(); n != 1 {
		t.Fatalf("%v: %d timers pending; want 1 (ping or close timeout)", r, n)
	}
	h.lost()
	c := h.c
	if n := h.clk.Pending(); n != 0 || c.timer != nil || c.out != nil || c.ctl != nil || c.hp != nil || h.srv.Open() != 0 {
		t.Fatalf("%v: after ConnectionLost %d timers pending (timer %v), out %v, ctl %v, parser %v, open %d",
			r, n, c.timer != nil, c.out != nil, c.ctl != nil, c.hp != nil, h.srv.Open())
	}
	if m, ok := h.rec.inner.(*messages); ok && m.buf != nil {
		t.Fatalf("%v: Messages holds its buffer after ConnectionLost", r)
	}
	if !slices.Equal(h.rec.closes, []string{want.peer}) {
		t.Fatalf("%v: OnClose %q; want %q", r, h.rec.closes, want.peer)
	}
	return got
}

// fzCompare checks the server's answer (got, from fzParse) against the
// model's.
func fzCompare(t *testing.T, r fzCase, got, want fzOutcome) {
	t.Helper()
	bad := ""
	switch {
	case !slices.Equal(got.events, want.events):
		bad = "events"
	case got.code != want.code:
		bad = "close code"
	case got.partOp != 0 && got.partOp != want.partOp:
		bad = "opcode of the unfinished message"
	case len(got.part) < want.min || !bytes.HasPrefix([]byte(want.part), []byte(got.part)):
		bad = "echo of the unfinished message"
	}
	if bad != "" {
		t.Fatalf("%v: wrong %s:\n got %v, unfinished %v %q, close %d\nwant %v, unfinished %v %q (at least %d bytes), close %d",
			r, bad, got.events, got.partOp, got.part, got.code, want.events, want.partOp, want.part, want.min, want.code)
	}
}

// fzParse reads the server's frames with frame.Decoder and returns what a
// client sees, or the first thing a client must reject (RFC 6455 §5.1:
// "A server MUST NOT mask any frames"; §5.2 RSV; §5.4 fragment order; §5.5
// control frames; §5.5.1 nothing after a close; §7.4 codes on the wire).
func fzParse(out []byte) (o fzOutcome, problem string) {
	var d frame.Decoder
	var h frame.Header
	var payload, part []byte
	closed := false
	defer func() { o.part = string(part) }()
	for p := bytes.Clone(out); len(p) > 0; {
		ev, n, err := d.Next(p)
		p = p[n:]
		if err != nil {
			return o, err.Error()
		}
		switch ev.Kind {
		case frame.KindNone:
			return o, "truncated frame header"
		case frame.KindHeader:
			h, payload = ev.Header, nil
		case frame.KindPayload:
			payload = append(payload, ev.Data...)
		}
		if !ev.End {
			if len(p) == 0 {
				return o, "truncated frame"
			}
			continue
		}
		switch {
		case closed:
			return o, fmt.Sprintf("%v frame after the close frame", h.Opcode)
		case h.Masked || h.Rsv != 0 || h.Opcode.IsReserved():
			return o, fmt.Sprintf("header %+v", h)
		case h.Opcode.IsControl() && (!h.Fin || len(payload) > 125):
			return o, fmt.Sprintf("control frame %+v", h)
		case h.Opcode == frame.OpContinuation && o.partOp == 0:
			return o, "continuation without a message"
		case !h.Opcode.IsControl() && h.Opcode != frame.OpContinuation && o.partOp != 0:
			return o, "new message inside a fragmented one"
		}
		switch h.Opcode {
		case frame.OpPong:
			o.events = append(o.events, fzEvent{"pong", string(payload)})
		case frame.OpPing:
			return o, "unexpected ping"
		case frame.OpClose:
			closed = true
			o.code = frame.CloseNoStatus
			if len(payload) == 1 {
				return o, "close body of 1 byte"
			}
			if len(payload) >= 2 {
				o.code = frame.CloseCode(binary.BigEndian.Uint16(payload))
				if !fzCodeOnWire(uint16(o.code)) || !utf8.Valid(payload[2:]) {
					return o, fmt.Sprintf("close body %q", payload)
				}
			}
		default:
			if h.Opcode != frame.OpContinuation {
				o.partOp = h.Opcode
			}
			part = append(part, payload...)
			if h.Fin {
				kind := "binary"
				if o.partOp == frame.OpText {
					kind = "text"
				}
				o.events = append(o.events, fzEvent{kind, string(part)})
				o.partOp, part = 0, part[:0]
			}
		}
	}
	return o, ""
}

// fzText is the valid UTF-8 that text payloads are cut from: code points of
// every length, at the edges of their ranges.
const fzText = "aé€𐍈 ßü中文😀\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffffz~"

// fzCodes are close codes a program may pick: valid and invalid.
var fzCodes = []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999,
	0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2999, 5000, 65535}

// fzKinds are the opcodes of the frame kinds of a program (see fzGen).
var fzKinds = [8]frame.Opcode{frame.OpText, frame.OpText, frame.OpBinary, frame.OpContinuation,
	frame.OpPing, frame.OpPong, frame.OpClose, 0}

// fzGen turns a program into client frames. Each frame is one byte
//
//	bits 0-2 kind: 0, 1 text; 2 binary; 3 continuation; 4 ping; 5 pong;
//	         6 close; 7 the next byte x: x&0x80: n raw bytes of the program
//	         go on the wire as they are, else a frame of opcode x&0x0f
//	bit 3    not FIN
//	bit 4    a flags byte follows: bits 0-2 RSV; 3 unmasked; 4 payload is
//	         n raw bytes of the program; 5 non-minimal length; 6 the header
//	         lies about the length (next byte: 0x80 sets the top bit of a
//	         64-bit length, 0x40 declares 2^40, else 1 to 64 more than sent);
//	         7 the masking key is the next 4 bytes
//	bits 5-7 the payload length n (fzGen.length)
//
// A text payload (or a continuation of a text message) is cut from fzText
// where the last one stopped, so code points are split across frames; a
// FIN frame's is extended to end on a code point boundary. A close
// payload of n >= 2 bytes is a code from fzCodes (next byte) and a valid
// reason, cut from fzText the same way.
type fzGen struct {
	in      []byte
	out     []byte
	text    int // offset in fzText of the next text payload
	reason  int // offset in fzText of the next close reason
	nframe  int
	msgText bool
}

// fzGenerate runs the program prog.
func fzGenerate(prog []byte) []byte {
	g := &fzGen{in: prog}
	for len(g.in) > 0 && len(g.out) < fzMaxWire {
		g.frame()
	}
	return g.out[:min(len(g.out), fzMaxWire)]
}

// next returns the program's next byte, 0 past its end.
func (g *fzGen) next() byte {
	if len(g.in) == 0 {
		return 0
	}
	b := g.in[0]
	g.in = g.in[1:]
	return b
}

// raw returns the program's next n bytes (fewer at its end).
func (g *fzGen) raw(n int) []byte {
	n = min(n, len(g.in))
	b := g.in[:n]
	g.in = g.in[n:]
	return b
}

// length returns a payload length by selector sel.
func (g *fzGen) length(sel byte) int {
	switch sel {
	case 1:
		return 1 + int(g.next()%4)
	case 2:
		return int(g.next() % 32)
	case 3:
		return int(g.next())
	case 4:
		return 124 + int(g.next()%4) // the control frame limit
	case 5:
		return fzMaxMessage - 2 + int(g.next()%5) // the message limit
	case 6:
		return int(g.next())<<8 | int(g.next())
	case 7:
		return 126 + int(g.next()) // 16-bit lengths
	}
	return 0
}

// utf8Text returns n bytes of fzText from *at on, and moves *at past them;
// more to end on a code point boundary when whole.
func utf8Text(at *int, n int, whole bool) []byte {
	b := make([]byte, 0, n+3)
	for len(b) < n || whole && !utf8.RuneStart(fzText[*at%len(fzText)]) {
		b = append(b, fzText[*at%len(fzText)])
		*at++
	}
	return b
}

// frame appends one frame (or raw bytes) to g.out.
func (g *fzGen) frame() {
	g.nframe++
	b := g.next()
	kind, fin, sel := b&7, b&8 == 0, b>>5
	var flags byte
	if b&0x10 != 0 {
		flags = g.next()
	}
	n := g.length(sel)
	op := fzKinds[kind]
	if kind == 7 {
		x := g.next()
		if x&0x80 != 0 {
			g.out = append(g.out, g.raw(n)...)
			return
		}
		op = frame.Opcode(x & 0x0f)
	}
	if op == frame.OpText || op == frame.OpBinary {
		g.msgText = op == frame.OpText
	}
	var payload []byte
	switch {
	case flags&0x10 != 0:
		payload = g.raw(n)
	case op == frame.OpClose && n == 1:
		payload = []byte{g.next()}
	case op == frame.OpClose && n >= 2:
		code := fzCodes[int(g.next())%len(fzCodes)]
		payload = binary.BigEndian.AppendUint16(nil, code)
		payload = append(payload, utf8Text(&g.reason, n-2, true)...)
	case op == frame.OpText || op == frame.OpContinuation && g.msgText:
		payload = utf8Text(&g.text, n, fin)
	default:
		payload = make([]byte, n)
		for i := range payload {
			payload[i] = byte(i*7 + g.nframe)
		}
	}
	declared := uint64(len(payload))
	if flags&0x40 != 0 {
		switch x := g.next(); {
		case x&0x80 != 0:
			declared |= 1 << 63
		case x&0x40 != 0:
			declared = 1 << 40
		default:
			declared += uint64(x&0x3f) + 1
		}
	}
	key := [4]byte{byte(g.nframe), 0x5a, 0xc3, byte(g.nframe * 7)}
	if flags&0x80 != 0 {
		copy(key[:], g.raw(4))
	}
	g.out = fzAppendFrame(g.out, fin, flags&7, op, flags&0x08 == 0, key, declared, flags&0x20 != 0, payload)
}

// fzAppendFrame appends a client frame with any header (RFC 6455 §5.2):
// declared may differ from len(payload); long uses the next longer length
// encoding than the minimal one.
func fzAppendFrame(dst []byte, fin bool, rsv byte, op frame.Opcode, masked bool, key [4]byte, declared uint64, long bool, payload []byte) []byte {
	b0 := rsv<<4 | byte(op)
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if masked {
		b1 = 0x80
	}
	enc := 0 // 7-bit length; 1: 16-bit; 2: 64-bit
	switch {
	case declared >= 1<<16:
		enc = 2
	case declared >= 126:
		enc = 1
	}
	if long {
		enc = min(enc+1, 2)
	}
	switch enc {
	case 0:
		dst = append(dst, b0, b1|byte(declared))
	case 1:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(declared))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, declared)
	}
	if !masked {
		return append(dst, payload...)
	}
	dst = append(dst, key[:]...)
	for i, c := range payload {
		dst = append(dst, c^key[i%4])
	}
	return dst
}

// Program bytes for the seeds (see fzGen): kinds, flags and length
// selectors.
const (
	fzT, fzB, fzC, fzPing, fzPong, fzClose, fzOther = 0, 2, 3, 4, 5, 6, 7
	fzMore                                          = 0x08 // not FIN
	fzFlags                                         = 0x10 // a flags byte follows
	fzL1, fzL2, fzL3, fzL4, fzL5, fzL6, fzL7        = 1 << 5, 2 << 5, 3 << 5, 4 << 5, 5 << 5, 6 << 5, 7 << 5
)

// fzSeed is one seed input of FuzzConn.
type fzSeed struct {
	prog  []byte
	chunk uint16
	mode  uint8
	away  uint16
}

// fzSeeds covers each rule of issue 2, as programs (fed whole and in
// chunks of 1, 2, 3 and 7 bytes, some after the head in the same read) and
// as raw frames.
func fzSeeds() []fzSeed {
	b := func(x ...byte) []byte { return x }
	progs := [][]byte{
		// Echo: text, binary, empty, 16-bit length, a long mixed message.
		b(fzT|fzL1, 3),
		b(fzB|fzL3, 200, fzT, fzB),
		b(fzT|fzL6, 0x03, 0xff),
		b(fzB|fzL7, 10, fzT|fzL3, 130),
		// Fragments: text cut inside code points, empty fragments, pings
		// between fragments, an unsolicited pong.
		b(fzT|fzMore|fzL2, 2, fzC|fzMore|fzL2, 5, fzC|fzMore, fzC|fzL2, 7),
		b(fzT|fzMore|fzL2, 3, fzPing|fzL1, 2, fzC|fzMore|fzL1, 0, fzPong|fzL2, 9, fzC|fzL2, 4),
		b(fzB|fzMore|fzL2, 3, fzPing|fzL4, 1, fzC|fzL2, 4, fzPing),
		// Fragments that arrive in one read go back merged, the header
		// growing from 7-bit to 16-bit lengths; a pong is ignored.
		b(fzT|fzMore|fzL3, 100, fzC|fzMore|fzL3, 100, fzC|fzL6, 0x01, 0x10),
		b(fzB|fzMore|fzL7, 10, fzPong|fzL2, 9, fzC|fzMore|fzL3, 200, fzC|fzL6, 0x01, 0x00),
		// Control frames: 125, 126, fragmented, close bodies.
		b(fzPing|fzL4, 1),
		b(fzPing|fzL4, 2),
		b(fzPing|fzMore|fzL1, 1),
		b(fzClose | fzMore),
		b(fzClose, fzT|fzL1, 1, fzPing|fzL1, 1),
		b(fzClose|fzL1, 0, 0x03),
		b(fzClose|fzL2, 10, 0),
		b(fzClose|fzL2, 2, 9),
		b(fzClose|fzL1, 1, 12),
		b(fzClose|fzL1, 1, 14),
		b(fzClose|fzL1, 1, 22),
		b(fzClose|fzL4, 1, 3),
		b(fzClose|fzL4, 3, 3),
		b(fzClose|fzFlags|fzL1, 0x10, 2, 0x03, 0xe8, 0xff),
		b(fzT|fzMore|fzL1, 1, fzClose|fzL1, 1, 1),
		// Frame rules: unmasked, RSV, reserved opcodes, zero key,
		// non-minimal lengths.
		b(fzT|fzFlags|fzL1, 0x08, 1),
		b(fzT|fzL1, 1, fzB|fzFlags|fzL1, 0x04, 1),
		b(fzPing|fzFlags, 0x02),
		b(fzC|fzFlags|fzL1, 0x01, 1),
		b(fzOther|fzL1, 1, 0x03),
		b(fzOther|fzL1, 1, 0x0b),
		b(fzOther|fzL1, 1, 0x0f),
		b(fzT|fzFlags|fzL2, 0x80, 10, 0, 0, 0, 0),
		b(fzT|fzFlags|fzL2, 0x20, 10, fzB|fzFlags|fzL7, 0x20, 5),
		// Lengths: top bit set, 2^40, a lie that swallows the next frame.
		b(fzB|fzFlags|fzL1, 0x40, 1, 0x80),
		b(fzB|fzFlags|fzL1, 0x40, 1, 0x40),
		b(fzB|fzFlags|fzL1, 0x40, 3, 5, fzT|fzL1, 1),
		b(fzPing|fzFlags|fzL1, 0x40, 1, 0x02, fzPing|fzL1, 1),
		// Fragment order.
		b(fzC|fzL1, 1),
		b(fzT|fzL1, 1, fzC|fzL1, 1),
		b(fzT|fzMore|fzL1, 1, fzT|fzL1, 1),
		b(fzB|fzMore|fzL1, 1, fzT|fzL1, 1),
		// UTF-8: invalid bytes, overlong, surrogate, over U+10FFFF, split
		// across fragments, in an unfinished frame (fail fast), a message
		// ending inside a code point.
		b(fzT|fzFlags|fzL1, 0x10, 0, 0xff),
		b(fzT|fzFlags|fzL1, 0x10, 1, 0xc0, 0xaf),
		b(fzT|fzFlags|fzL1, 0x10, 2, 0xed, 0xa0, 0x80),
		b(fzT|fzFlags|fzL1, 0x10, 3, 0xf4, 0x90, 0x80, 0x80),
		b(fzT|fzMore|fzFlags|fzL1, 0x10, 1, 0xe2, 0x82, fzC|fzFlags|fzL1, 0x10, 0, 0x28),
		b(fzT|fzFlags|fzL1, 0x50, 1, 0xed, 0xa0, 0x05),
		b(fzT|fzMore|fzL1, 0, fzC|fzFlags|fzL1, 0x10, 0, 0xe2),
		b(fzT|fzMore|fzL2, 9, fzC|fzFlags, 0x10),
		// Message size: at the limit, over it, over it in fragments.
		b(fzB|fzL5, 2, fzT|fzL5, 2),
		b(fzB|fzL5, 3),
		b(fzT|fzMore|fzL6, 2, 0, fzC|fzL6, 2, 1),
		b(fzB|fzMore|fzL6, 2, 0, fzPing|fzL1, 0, fzC|fzL6, 2, 0, fzT|fzL1, 0),
		// Raw bytes between frames.
		b(fzT|fzL1, 1, fzOther|fzL1, 0, 0x80, 0x81, fzT|fzL1, 1),
	}
	var seeds []fzSeed
	for i, p := range progs {
		mode := []uint8{0, fzSameRead, 0, fzMessages, 0, fzAway}[i%6]
		seeds = append(seeds, fzSeed{p, uint16([]int{0, 1, 2, 6}[i%4]), mode, uint16(i * 5)})
	}
	// GoingAway: before anything, inside a fragmented message (no more
	// echo, no pong), then the client's close or a broken rule; Messages
	// with a message left unfinished.
	for i, p := range [][]byte{
		b(fzT|fzL1, 1),
		b(fzT|fzMore|fzL2, 9, fzPing|fzL1, 1, fzC|fzL2, 9, fzClose|fzL2, 5, 3),
		b(fzB|fzMore|fzL3, 40, fzC|fzL3, 40, fzT|fzFlags|fzL1, 0x10, 0, 0xff, fzClose|fzL1, 0, 7),
		b(fzB|fzL3, 100, fzC|fzL1, 0),
		b(fzT|fzMore|fzL3, 100, fzPing|fzL1, 1),
	} {
		seeds = append(seeds, fzSeed{p, uint16(i), fzAway | uint8(i%2)*fzMessages, uint16([]int{0, 20, 60, 200, 30}[i])})
	}
	// A ping split across reads when the connection is lost (the pooled
	// control buffer must go back).
	seeds = append(seeds, fzSeed{b(fzPing|fzFlags|fzL1, 0x40, 3, 0x05), 2, 0, 0})
	raws := [][]byte{
		cat(text("Hello"), ping("x"), bin([]byte{0, 0xff}), closeFrame(closeBody(1000, "bye")), text("after")),
		cat(cf(false, frame.OpText, []byte("κ\xe1")), ping(""), cf(true, frame.OpContinuation, []byte("\xbd\xb9σμε"))),
		frame.AppendFrame(nil, true, frame.OpText, []byte("unmasked")),
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4},
	}
	for i, w := range raws {
		seeds = append(seeds, fzSeed{w, uint16(i), fzRaw | uint8(i%2)*fzSameRead, 0})
	}
	return seeds
}

// TestFuzzConnModel checks FuzzConn's reference model against the
// hand-written rule table (those cases that use the default message size).
func TestFuzzConnModel(t *testing.T) {
	for _, tc := range ruleCases() {
		if tc.cfg != nil {
			continue
		}
		got := fzExpect(tc.in, -1)
		var want []fzEvent
		for _, m := range tc.msgs {
			want = append(want, fzEvent{map[frame.Opcode]string{frame.OpText: "text", frame.OpBinary: "binary"}[m.op], m.data})
		}
		var pongs []fzEvent
		for _, e := range got.events {
			if e.kind == "pong" {
				pongs = append(pongs, e)
			}
		}
		msgs := slices.DeleteFunc(slices.Clone(got.events), func(e fzEvent) bool { return e.kind == "pong" })
		peer := tc.peer
		if peer == "" {
			peer = "1006 "
		}
		if !slices.Equal(msgs, want) || len(pongs) != len(tc.pongs) || got.code != tc.code || got.peer != peer {
			t.Errorf("%s: model says %v, close %d, OnClose %q; the table says %v, pongs %q, close %d, OnClose %q",
				tc.name, got.events, got.code, got.peer, tc.msgs, tc.pongs, tc.code, peer)
		}
	}
}
