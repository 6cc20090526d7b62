package conformance

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// rfcUTF8Case is a byte sequence of Autobahn group 6 (Markus Kuhn's UTF-8
// decoder stress test), valid or not per RFC 3629 as §8.1 requires.
type rfcUTF8Case struct {
	id    string
	name  string
	hex   string
	valid bool
}

// rfcUTF8Cases are the sequences, by Autobahn number.
var rfcUTF8Cases = func() []rfcUTF8Case {
	cases := []rfcUTF8Case{
		{"6.2.1", "mixed text", hex.EncodeToString([]byte("Hello-µ@ßöäüàá-UTF-8!!")), true},
		{"6.5.1", "kosme", "cebae1bdb9cf83cebcceb5", true},
		{"6.5.2", "kosme, hello", "cebae1bdb9cf83cebcceb5" + hex.EncodeToString([]byte(" hello")), true},
		{"6.5.3", "musical symbol G clef", "f09d849e", true},
		{"6.7.1", "first 1-byte code point", "00", true},
		{"6.7.2", "first 2-byte code point", "c280", true},
		{"6.7.3", "first 3-byte code point", "e0a080", true},
		{"6.7.4", "first 4-byte code point", "f0908080", true},
		{"6.8.1", "5-byte sequence", "f888808080", false},
		{"6.8.2", "6-byte sequence", "fc8480808080", false},
		{"6.9.1", "last 1-byte code point", "7f", true},
		{"6.9.2", "last 2-byte code point", "dfbf", true},
		{"6.9.3", "last 3-byte code point", "efbfbf", true},
		{"6.9.4", "last code point U+10FFFF", "f48fbfbf", true},
		{"6.10.1", "U+1FFFFF, beyond U+10FFFF", "f7bfbfbf", false},
		{"6.10.2", "5-byte U+3FFFFFF", "fbbfbfbfbf", false},
		{"6.10.3", "6-byte U+7FFFFFFF", "fdbfbfbfbfbf", false},
		{"6.11.1", "U+D7FF", "ed9fbf", true},
		{"6.11.2", "U+E000", "ee8080", true},
		{"6.11.3", "U+FFFD", "efbfbd", true},
		{"6.11.4", "U+10FFFF", "f48fbfbf", true},
		{"6.11.5", "U+110000", "f4908080", false},
		{"6.12.1", "lone continuation 80", "80", false},
		{"6.12.2", "lone continuation bf", "bf", false},
		{"6.12.3", "2 continuations", "80bf", false},
		{"6.12.4", "3 continuations", "80bf80", false},
		{"6.12.5", "4 continuations", "80bf80bf", false},
		{"6.12.6", "5 continuations", "80bf80bf80", false},
		{"6.12.7", "6 continuations", "80bf80bf80bf", false},
		{"6.12.8", "all 64 continuation bytes", rfcHexRange(0x80, 0xbf, ""), false},
		{"6.13.1", "lone 2-byte leads, each followed by space", rfcHexRange(0xc0, 0xdf, "20"), false},
		{"6.13.2", "lone 3-byte leads, each followed by space", rfcHexRange(0xe0, 0xef, "20"), false},
		{"6.13.3", "lone 4-byte leads, each followed by space", rfcHexRange(0xf0, 0xf7, "20"), false},
		{"6.13.4", "lone 5-byte leads, each followed by space", rfcHexRange(0xf8, 0xfb, "20"), false},
		{"6.13.5", "lone 6-byte leads, each followed by space", rfcHexRange(0xfc, 0xfd, "20"), false},
		{"6.14.1", "2-byte sequence, last byte missing", "c0", false},
		{"6.14.2", "3-byte sequence, last byte missing", "e080", false},
		{"6.14.3", "4-byte sequence, last byte missing", "f08080", false},
		{"6.14.4", "5-byte sequence, last byte missing", "f8808080", false},
		{"6.14.5", "6-byte sequence, last byte missing", "fc80808080", false},
		{"6.14.6", "U+07FF, last byte missing", "df", false},
		{"6.14.7", "U+FFFF, last byte missing", "efbf", false},
		{"6.14.8", "U+1FFFFF, last byte missing", "f7bfbf", false},
		{"6.14.9", "U+3FFFFFF, last byte missing", "fbbfbfbf", false},
		{"6.14.10", "U+7FFFFFFF, last byte missing", "fdbfbfbfbf", false},
		{"6.15.1", "incomplete sequences concatenated", "c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf", false},
		{"6.16.1", "impossible byte fe", "fe", false},
		{"6.16.2", "impossible byte ff", "ff", false},
		{"6.16.3", "impossible bytes fefeffff", "fefeffff", false},
		{"6.17.1", "overlong / in 2 bytes", "c0af", false},
		{"6.17.2", "overlong / in 3 bytes", "e080af", false},
		{"6.17.3", "overlong / in 4 bytes", "f08080af", false},
		{"6.17.4", "overlong / in 5 bytes", "f8808080af", false},
		{"6.17.5", "overlong / in 6 bytes", "fc80808080af", false},
		{"6.18.1", "largest overlong 2-byte", "c1bf", false},
		{"6.18.2", "largest overlong 3-byte", "e09fbf", false},
		{"6.18.3", "largest overlong 4-byte", "f08fbfbf", false},
		{"6.18.4", "largest overlong 5-byte", "f887bfbfbf", false},
		{"6.18.5", "largest overlong 6-byte", "fc83bfbfbfbf", false},
		{"6.19.1", "overlong NUL in 2 bytes", "c080", false},
		{"6.19.2", "overlong NUL in 3 bytes", "e08080", false},
		{"6.19.3", "overlong NUL in 4 bytes", "f0808080", false},
		{"6.19.4", "overlong NUL in 5 bytes", "f880808080", false},
		{"6.19.5", "overlong NUL in 6 bytes", "fc8080808080", false},
		{"6.20.1", "surrogate U+D800", "eda080", false},
		{"6.20.2", "surrogate U+DB7F", "edadbf", false},
		{"6.20.3", "surrogate U+DB80", "edae80", false},
		{"6.20.4", "surrogate U+DBFF", "edafbf", false},
		{"6.20.5", "surrogate U+DC00", "edb080", false},
		{"6.20.6", "surrogate U+DF80", "edbe80", false},
		{"6.20.7", "surrogate U+DFFF", "edbfbf", false},
		{"6.21.1", "surrogate pair U+D800 U+DC00", "eda080edb080", false},
		{"6.21.2", "surrogate pair U+D800 U+DFFF", "eda080edbfbf", false},
		{"6.21.3", "surrogate pair U+DB7F U+DC00", "edadbfedb080", false},
		{"6.21.4", "surrogate pair U+DB7F U+DFFF", "edadbfedbfbf", false},
		{"6.21.5", "surrogate pair U+DB80 U+DC00", "edae80edb080", false},
		{"6.21.6", "surrogate pair U+DB80 U+DFFF", "edae80edbfbf", false},
		{"6.21.7", "surrogate pair U+DBFF U+DC00", "edafbfedb080", false},
		{"6.21.8", "surrogate pair U+DBFF U+DFFF", "edafbfedbfbf", false},
		{"6.22.1", "noncharacter U+FFFE", "efbfbe", true},
		{"6.22.2", "noncharacter U+FFFF", "efbfbf", true},
		{"6.22.3", "noncharacter U+1FFFE", "f09fbfbe", true},
		{"6.22.4", "noncharacter U+10FFFF", "f48fbfbf", true},
		{"6.22.5", "noncharacters U+FDD0..U+FDEF", rfcNoncharacters(), true},
		{"6.23.1", "replacement character", "efbfbd", true},
		{"6.23.2", "kosme, then surrogate, then text", "cebae1bdb9cf83cebcceb5eda080656469746564", false},
		{"6.23.3", "text, then byte ff, then text", hex.EncodeToString([]byte("Hello\xffWorld")), false},
	}
	// 6.6: "κόσμε" cut after each byte: valid exactly when the cut falls
	// between code points; otherwise the message ends mid-code-point.
	kosme := "cebae1bdb9cf83cebcceb5"
	for n, boundaries := 1, "0100101010"; n <= 11; n++ {
		valid := n == 11 || boundaries[n-1] == '1'
		cases = append(cases, rfcUTF8Case{fmt.Sprintf("6.6.%d", n), fmt.Sprintf("kosme cut after %d bytes", n), kosme[:2*n], valid})
	}
	return cases
}()

// rfcHexRange is the bytes from lo to hi, each followed by the hex bytes sep.
func rfcHexRange(lo, hi int, sep string) string {
	var b strings.Builder
	for c := lo; c <= hi; c++ {
		fmt.Fprintf(&b, "%02x%s", c, sep)
	}
	return b.String()
}

// rfcNoncharacters is U+FDD0 to U+FDEF in UTF-8.
func rfcNoncharacters() string {
	var b strings.Builder
	for r := rune(0xFDD0); r <= 0xFDEF; r++ {
		b.WriteString(hex.EncodeToString([]byte(string(r))))
	}
	return b.String()
}

// Autobahn group 6: text messages must be UTF-8 (§8.1); invalid text fails
// the connection with 1007, also when the invalid sequence is split across
// fragments, cut at any fragment boundary, or the message ends in the
// middle of a code point. Each sequence is sent whole, embedded in valid
// text, split into two fragments at every byte, and in 1-byte fragments.
func TestConformanceUTF8(t *testing.T) {
	t.Parallel()
	addr := testkit.StartAddr(t, conformanceConfig())
	cases := []rfcCase{
		{"6.1.1 empty text", func(c *rfcConn) {
			c.send(rfcText(""))
			c.expectText("")
			c.closeNormally()
		}},
		{"6.1.2 three empty fragments", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, nil, false), rfcFrag(rfcOpCont, nil, false), rfcFrag(rfcOpCont, nil, true))
			c.expectText("")
			c.closeNormally()
		}},
		{"6.1.3 empty, non-empty and empty fragments", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, nil, false), rfcFrag(rfcOpCont, []byte("middle frame payload"), false), rfcFrag(rfcOpCont, nil, true))
			c.expectText("middle frame payload")
			c.closeNormally()
		}},
		{"6.x empty fragments inside a code point", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, []byte("a\xce"), false), rfcFrag(rfcOpCont, nil, false), rfcFrag(rfcOpCont, []byte("\xba"), false),
				rfcFrag(rfcOpCont, []byte("\xf0\x9d"), false), rfcFrag(rfcOpCont, nil, false), rfcFrag(rfcOpCont, []byte("\x84\x9e"), true))
			c.expectText("aκ𝄞")
			c.closeNormally()
		}},
		{"6.x code point split across 3 fragments with pings between", func(c *rfcConn) {
			c.send(rfcFrag(rfcOpText, []byte("a\xf0\x9d"), false), rfcPing("1"), rfcFrag(rfcOpCont, []byte("\x84"), false),
				rfcPing("2"), rfcFrag(rfcOpCont, []byte("\x9eb"), true))
			c.expectPong("1")
			c.expectPong("2")
			c.expectText("a𝄞b")
			c.closeNormally()
		}},
	}
	for _, u := range rfcUTF8Cases {
		seq, err := hex.DecodeString(u.hex)
		if err != nil {
			t.Fatalf("%s: %v", u.id, err)
		}
		verdict := "valid"
		if !u.valid {
			verdict = "1007"
		}
		// Each sender delivers the same text message in another shape.
		shapes := []struct {
			name    string
			payload []byte
			frames  func(p []byte) [][]rfcFrame // one frame list per connection
		}{
			{"whole", seq, func(p []byte) [][]rfcFrame { return [][]rfcFrame{{rfcMsg(rfcOpText, p)}} }},
			{"embedded in text", []byte("Hello-" + string(seq) + "-World"), func(p []byte) [][]rfcFrame {
				return [][]rfcFrame{{rfcMsg(rfcOpText, p)}}
			}},
			{"split at every byte", seq, func(p []byte) [][]rfcFrame {
				var each [][]rfcFrame
				for i := 1; i < len(p); i++ {
					each = append(each, []rfcFrame{rfcFrag(rfcOpText, p[:i], false), rfcFrag(rfcOpCont, p[i:], true)})
				}
				return each
			}},
			{"1-byte fragments", seq, func(p []byte) [][]rfcFrame { return [][]rfcFrame{rfcFragments(rfcOpText, p, 1)} }},
		}
		for _, s := range shapes {
			conns := s.frames(s.payload)
			if len(conns) == 0 || s.name == "1-byte fragments" && len(seq) == 1 {
				continue // nothing to split
			}
			cases = append(cases, rfcCase{fmt.Sprintf("%s %s, %s: %s", u.id, u.name, s.name, verdict), func(c *rfcConn) {
				for i, frames := range conns {
					if i > 0 {
						c = openConn(c.t, addr)
					}
					c.send(frames...)
					if u.valid {
						c.expectMessage(rfcOpText, s.payload)
						c.closeNormally()
					} else {
						c.ExpectClose(1007)
						c.expectEchoPrefix(s.payload)
					}
				}
			}})
		}
	}
	cases = append(cases, rfcFailFastCases()...)
	runCases(t, addr, cases)
}

// rfcFailFastCases are Autobahn 6.4 and more: the server must fail invalid
// text as soon as the invalid byte arrives, not when the message ends. The
// message is never finished, so a server that waits for the end fails the
// case by timing out.
func rfcFailFastCases() []rfcCase {
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			panic(err)
		}
		return b
	}
	// fragments sends each payload as a non-final fragment, in a write of
	// its own with a pause between, and expects 1007 without the rest.
	fragments := func(parts ...string) func(c *rfcConn) {
		return func(c *rfcConn) {
			for i, p := range parts {
				op := rfcOpCont
				if i == 0 {
					op = rfcOpText
				}
				if i > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				c.send(rfcFrag(op, unhex(p), false))
			}
			c.ExpectClose(1007)
			c.expectEchoPrefix(unhex(strings.Join(parts, "")))
		}
	}
	// chops sends one final text frame whose payload is whole, but writes
	// only the header and the first parts, and expects 1007 without the
	// rest of the frame.
	chops := func(whole string, parts ...string) func(c *rfcConn) {
		return func(c *rfcConn) {
			wire := rfcMsg(rfcOpText, unhex(whole)).encode(nil)
			start, end := 0, len(wire)-len(whole)/2 // the header and masking key go with the first part
			for i, p := range parts {
				if i > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				end += len(p) / 2
				c.sendBytes(wire[start:end])
				start = end
			}
			c.ExpectClose(1007)
			c.expectEchoPrefix(unhex(whole))
		}
	}
	const kosme = "cebae1bdb9cf83cebcceb5"
	big := uint64(1 << 20)
	return []rfcCase{
		{"6.4.1 invalid code point in the 2nd of 3 fragments, 3rd never sent: 1007", fragments(kosme, "f4908080")},
		{"6.4.2 invalid byte alone in the 2nd fragment, rest never sent: 1007", fragments(kosme+"f4", "90")},
		{"6.4.3 invalid code point inside one frame, rest never sent: 1007", chops(kosme+"f4908080656469746564", kosme, "f4908080")},
		{"6.4.4 invalid byte inside one frame, rest never sent: 1007", chops(kosme+"f4908080656469746564", kosme+"f4", "90")},
		{"6.4.x invalid byte in the first fragment, message never finished: 1007", fragments("ff")},
		{"6.4.x surrogate split across unfinished fragments: 1007", fragments("48656c6c6fed", "a080")},
		{"6.4.x invalid byte in a frame declaring 1 MiB: 1007", func(c *rfcConn) {
			f := rfcMsg(rfcOpText, []byte("ab\xffcd"))
			f.declared = &big
			c.send(f)
			c.ExpectClose(1007)
			c.expectEchoPrefix(f.payload)
		}},
	}
}
