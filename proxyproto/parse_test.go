package proxyproto

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unsafe"
)

// ppResult is what feeding one input gives: where the header ended (the
// offset just past it, -1 if it did not), the header, and the error.
type ppResult struct {
	end int
	h   Header
	err string
	is  error // ErrNotProxy or ErrInvalid
}

// ppFeed feeds in to a new Parser in chunks of size bytes, stopping at the
// header's end or the first error.
func ppFeed(in []byte, size int) ppResult {
	var p Parser
	for off := 0; off < len(in); off += size {
		chunk := in[off:min(off+size, len(in))]
		n, done, h, err := p.Feed(chunk)
		if err != nil {
			r := ppResult{end: -1, err: err.Error()}
			for _, k := range []error{ErrNotProxy, ErrInvalid} {
				if errors.Is(err, k) {
					r.is = k
				}
			}
			if _, _, _, again := p.Feed([]byte("x")); again != err {
				r.err += " (not sticky: " + again.Error() + ")"
			}
			return r
		}
		if done {
			if p != (Parser{}) {
				return ppResult{end: -1, err: "parser not reset after the header"}
			}
			return ppResult{end: off + n, h: h}
		}
		if n != len(chunk) {
			return ppResult{end: -1, err: "not done but did not take the whole chunk"}
		}
	}
	return ppResult{end: -1}
}

// ppFeedSplit feeds in as two pieces, in[:at] and in[at:].
func ppFeedSplit(in []byte, at int) ppResult {
	var p Parser
	n, done, h, err := p.Feed(in[:at])
	switch {
	case err != nil || done:
		return ppResultOf(n, done, h, err)
	case n != at:
		return ppResult{end: -1, err: "not done but did not take the whole first piece"}
	}
	n, done, h, err = p.Feed(in[at:])
	return ppResultOf(at+n, done, h, err)
}

func ppResultOf(n int, done bool, h Header, err error) ppResult {
	r := ppResult{end: -1, h: h}
	if done {
		r.end = n
	}
	if err != nil {
		r.err = err.Error()
		for _, k := range []error{ErrNotProxy, ErrInvalid} {
			if errors.Is(err, k) {
				r.is = k
			}
		}
	}
	return r
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// v2 builds a version 2 header: the signature, ver/cmd, fam, then body with
// its length.
func v2(verCmd, fam byte, body ...byte) []byte {
	b := append([]byte(signature), verCmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// v2Len is v2 with a length field that need not match the body.
func v2Len(verCmd, fam byte, length uint16, body ...byte) []byte {
	b := append([]byte(signature), verCmd, fam)
	b = binary.BigEndian.AppendUint16(b, length)
	return append(b, body...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	inet4Body = []byte{192, 0, 2, 1, 198, 51, 100, 7, 0xdc, 0x04, 0x01, 0xbb} // 192.0.2.1:56324 -> 198.51.100.7:443
	inet6Body = cat(netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr("2001:db8::2").AsSlice(), []byte{0xdc, 0x04, 0x01, 0xbb})
	tlvs      = []byte{0x01, 0x00, 0x08, 'h', 't', 't', 'p', '/', '1', '.', '1', 0x04, 0x00, 0x00, 0x02, 0x00, 0x03, 'a', '.', 'b'} // ALPN, NOOP, AUTHORITY
)

type ppCase struct {
	name string
	in   []byte
	want Header
	err  error  // ErrNotProxy or ErrInvalid; nil: a header
	msg  string // substring of the error message
}

func ppCases() []ppCase {
	tcp4 := Header{Version: 1, Command: Proxy, Family: Inet, Transport: Stream, Source: ap("192.0.2.1:56324"), Destination: ap("198.51.100.7:443")}
	tcp6 := Header{Version: 1, Command: Proxy, Family: Inet6, Transport: Stream, Source: ap("[2001:db8::1]:56324"), Destination: ap("[2001:db8::2]:443")}
	v2tcp4 := tcp4
	v2tcp4.Version = 2
	v2tcp6 := tcp6
	v2tcp6.Version = 2
	udp4 := v2tcp4
	udp4.Transport = Dgram
	long6 := "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
	return []ppCase{
		// Version 1, good.
		{name: "v1 tcp4", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n"), want: tcp4},
		{name: "v1 tcp6", in: []byte("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n"), want: tcp6},
		{name: "v1 tcp6 upper case full form", in: []byte("PROXY TCP6 2001:0DB8:0:0:0:0:0:1 2001:db8::2 56324 443\r\n"), want: tcp6},
		{name: "v1 tcp4 widest", in: []byte("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n"), want: Header{Version: 1, Command: Proxy, Family: Inet, Transport: Stream, Source: ap("255.255.255.255:65535"), Destination: ap("0.0.0.0:0")}},
		{name: "v1 unknown short", in: []byte("PROXY UNKNOWN\r\n"), want: Header{Version: 1, Command: Proxy}},
		{name: "v1 unknown with anything", in: []byte("PROXY UNKNOWN whatever \x01 here\r\n"), want: Header{Version: 1, Command: Proxy}},
		{name: "v1 unknown at 107 bytes", in: []byte(long6), want: Header{Version: 1, Command: Proxy}},

		// Version 1, bad.
		{name: "http request", in: []byte("GET / HTTP/1.1\r\n"), err: ErrNotProxy, msg: `starts with "G"`},
		{name: "tls hello", in: []byte{0x16, 0x03, 0x01, 0x02, 0x00}, err: ErrNotProxy, msg: `starts with "\x16"`},
		{name: "v1 prefix wrong", in: []byte("PROXX TCP4\r\n"), err: ErrNotProxy, msg: `starts with "PROXX"`},
		{name: "v1 no space after PROXY", in: []byte("PROXY\r\n"), err: ErrNotProxy, msg: `"PROXY\r"`},
		{name: "v1 lowercase", in: []byte("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n"), err: ErrNotProxy},
		{name: "v1 108 bytes", in: []byte(long6[:105] + "x\r\n"), err: ErrInvalid, msg: "no CRLF in its first 107 bytes"},
		{name: "v1 no CRLF at all", in: []byte("PROXY TCP4 " + strings.Repeat("1", 200)), err: ErrInvalid, msg: "no CRLF"},
		{name: "v1 lone LF", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\n"), err: ErrInvalid, msg: "lone LF"},
		{name: "v1 lone CR", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\rGET"), err: ErrInvalid, msg: "CR not followed by LF"},
		{name: "v1 protocol unknown", in: []byte("PROXY UDP4 192.0.2.1 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `protocol "UDP4"`},
		{name: "v1 protocol lowercase", in: []byte("PROXY tcp4 192.0.2.1 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `protocol "tcp4"`},
		{name: "v1 UNKNOWN suffix", in: []byte("PROXY UNKNOWNX\r\n"), err: ErrInvalid, msg: `protocol "UNKNOWNX"`},
		{name: "v1 empty protocol", in: []byte("PROXY \r\n"), err: ErrInvalid, msg: `protocol ""`},
		{name: "v1 two spaces", in: []byte("PROXY TCP4  192.0.2.1 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: "single spaces"},
		{name: "v1 missing port", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324\r\n"), err: ErrInvalid, msg: "single spaces"},
		{name: "v1 trailing space", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443 \r\n"), err: ErrInvalid, msg: `"" after the destination port`},
		{name: "v1 extra field", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443 9\r\n"), err: ErrInvalid, msg: `"9" after`},
		{name: "v1 octet 256", in: []byte("PROXY TCP4 192.0.2.256 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `"192.0.2.256" is not a canonical TCP4 address`},
		{name: "v1 heading zero in address", in: []byte("PROXY TCP4 192.0.2.01 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `"192.0.2.01"`},
		{name: "v1 three octets", in: []byte("PROXY TCP4 192.0.2 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `"192.0.2"`},
		{name: "v1 five octets", in: []byte("PROXY TCP4 192.0.2.1.5 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `"192.0.2.1.5"`},
		{name: "v1 ipv6 under TCP4", in: []byte("PROXY TCP4 2001:db8::1 198.51.100.7 56324 443\r\n"), err: ErrInvalid, msg: `"2001:db8::1"`},
		{name: "v1 ipv4 under TCP6", in: []byte("PROXY TCP6 192.0.2.1 2001:db8::2 56324 443\r\n"), err: ErrInvalid, msg: `"192.0.2.1" is not a canonical TCP6 address`},
		{name: "v1 ipv6 with zone", in: []byte("PROXY TCP6 fe80::1%eth0 2001:db8::2 56324 443\r\n"), err: ErrInvalid, msg: `"fe80::1%eth0"`},
		{name: "v1 ipv6 dotted tail", in: []byte("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 56324 443\r\n"), err: ErrInvalid, msg: `"::ffff:192.0.2.1"`},
		{name: "v1 ipv6 two double colons", in: []byte("PROXY TCP6 2001::db8::1 2001:db8::2 56324 443\r\n"), err: ErrInvalid, msg: `"2001::db8::1"`},
		{name: "v1 port 65536", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 65536 443\r\n"), err: ErrInvalid, msg: `port "65536"`},
		{name: "v1 port heading zero", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 0443\r\n"), err: ErrInvalid, msg: `port "0443"`},
		{name: "v1 port sign", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 +1 443\r\n"), err: ErrInvalid, msg: `port "+1"`},
		{name: "v1 port six digits", in: []byte("PROXY TCP4 192.0.2.1 198.51.100.7 000001 443\r\n"), err: ErrInvalid, msg: `port "000001"`},

		// Version 2, good.
		{name: "v2 tcp4", in: v2(0x21, 0x11, inet4Body...), want: v2tcp4},
		{name: "v2 tcp6", in: v2(0x21, 0x21, inet6Body...), want: v2tcp6},
		{name: "v2 tcp4 with TLVs", in: v2(0x21, 0x11, cat(inet4Body, tlvs)...), want: v2tcp4},
		{name: "v2 tcp6 with TLVs", in: v2(0x21, 0x21, cat(inet6Body, tlvs)...), want: v2tcp6},
		{name: "v2 udp4", in: v2(0x21, 0x12, inet4Body...), want: udp4},
		{name: "v2 local no address", in: v2(0x20, 0x00), want: Header{Version: 2, Command: Local}},
		{name: "v2 local with an address to skip", in: v2(0x20, 0x11, inet4Body...), want: Header{Version: 2, Command: Local, Family: Inet, Transport: Stream}},
		{name: "v2 local with a short block", in: v2(0x20, 0x21, 1, 2, 3), want: Header{Version: 2, Command: Local, Family: Inet6, Transport: Stream}},
		{name: "v2 proxy unspec", in: v2(0x21, 0x00), want: Header{Version: 2, Command: Proxy}},
		{name: "v2 proxy inet unspec transport", in: v2(0x21, 0x10, 9, 9), want: Header{Version: 2, Command: Proxy, Family: Inet}},
		{name: "v2 unix stream", in: v2(0x21, 0x31, make([]byte, 216)...), want: Header{Version: 2, Command: Proxy, Family: Unix, Transport: Stream}},
		{name: "v2 at the length cap", in: v2(0x21, 0x11, cat(inet4Body, make([]byte, MaxV2Length-12))...), want: v2tcp4},

		// Version 2, bad.
		{name: "v2 signature wrong", in: []byte("\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c"), err: ErrNotProxy, msg: `"\r\n\r\n\x00\r\nQUIX"`},
		{name: "v2 empty lines then GET", in: []byte("\r\n\r\nGET / HTTP/1.1\r\n"), err: ErrNotProxy, msg: `"\r\n\r\nG"`},
		{name: "v2 version 1 nibble", in: v2(0x11, 0x11, inet4Body...), err: ErrInvalid, msg: "version 1 (byte 0x11)"},
		{name: "v2 version 3", in: v2(0x31, 0x11, inet4Body...), err: ErrInvalid, msg: "version 3"},
		{name: "v2 command 2", in: v2(0x22, 0x11, inet4Body...), err: ErrInvalid, msg: "command 0x2"},
		{name: "v2 command f", in: v2(0x2f, 0x11, inet4Body...), err: ErrInvalid, msg: "command 0xf"},
		{name: "v2 family 4", in: v2(0x21, 0x41, inet4Body...), err: ErrInvalid, msg: "byte 0x41"},
		{name: "v2 protocol 3", in: v2(0x21, 0x13, inet4Body...), err: ErrInvalid, msg: "byte 0x13"},
		{name: "v2 inet too short", in: v2(0x21, 0x11, inet4Body[:11]...), err: ErrInvalid, msg: "has 11 address bytes; it needs 12"},
		{name: "v2 inet6 with an inet block", in: v2(0x21, 0x21, inet4Body...), err: ErrInvalid, msg: "has 12 address bytes; it needs 36"},
		{name: "v2 unix too short", in: v2(0x21, 0x31, make([]byte, 215)...), err: ErrInvalid, msg: "needs 216"},
		{name: "v2 one past the length cap", in: v2Len(0x21, 0x11, MaxV2Length+1), err: ErrInvalid, msg: "announces 4097 bytes"},
		{name: "v2 far past the length cap", in: v2Len(0x21, 0x11, 0xffff), err: ErrInvalid, msg: "announces 65535 bytes"},
	}
}

// TestParser runs every case whole, in chunks of every size, and split in
// two at every byte, with and without bytes after the header.
func TestParser(t *testing.T) {
	trailing := []byte("GET / HTTP/1.1\r\n\r\n")
	for _, c := range ppCases() {
		t.Run(c.name, func(t *testing.T) {
			whole := ppFeed(c.in, len(c.in))
			switch {
			case c.err == nil && whole.err != "":
				t.Fatalf("Feed(%q) error %s; want %v", c.in, whole.err, c.want)
			case c.err == nil && (whole.end != len(c.in) || whole.h != c.want):
				t.Fatalf("Feed(%q) = end %d, %+v; want end %d, %+v", c.in, whole.end, whole.h, len(c.in), c.want)
			case c.err != nil && whole.is != c.err:
				t.Fatalf("Feed(%q) = %+v; want an error wrapping %v", c.in, whole, c.err)
			case c.err != nil && (!strings.Contains(whole.err, c.msg) || !strings.HasPrefix(whole.err, "proxyproto: ")):
				t.Fatalf("Feed(%q) error %q; want one starting \"proxyproto: \" containing %q", c.in, whole.err, c.msg)
			}
			in := append(append([]byte(nil), c.in...), trailing...)
			if c.err != nil {
				in = c.in // an error may only show at the end of the input
			}
			want := ppFeed(in, len(in))
			if c.err == nil && want != whole {
				t.Fatalf("Feed(%q) with the request after it = %+v; want %+v", in, want, whole)
			}
			for size := 1; size < len(in); size++ {
				if got := ppFeed(in, size); got != want {
					t.Fatalf("Feed(%q) in chunks of %d = %+v; want %+v", in, size, got, want)
				}
			}
			for at := 1; at < len(in); at++ {
				if got := ppFeedSplit(in, at); got != want {
					t.Fatalf("Feed(%q) split at %d = %+v; want %+v", in, at, got, want)
				}
			}
		})
	}
}

// TestParserReset checks that a Reset parser is as good as new after an
// error.
func TestParserReset(t *testing.T) {
	var p Parser
	if _, _, _, err := p.Feed([]byte("GET /")); !errors.Is(err, ErrNotProxy) {
		t.Fatalf("Feed(GET) error %v; want ErrNotProxy", err)
	}
	p.Reset()
	n, done, h, err := p.Feed([]byte("PROXY UNKNOWN\r\nrest"))
	if err != nil || !done || n != 15 || h.Version != 1 {
		t.Fatalf("after Reset, Feed = %d, %v, %+v, %v; want 15, true, a version 1 header", n, done, h, err)
	}
}

// TestClient checks which headers name the client and which leave the real
// peer in place.
func TestClient(t *testing.T) {
	src := ap("192.0.2.1:56324")
	for _, c := range []struct {
		h  Header
		ok bool
	}{
		{Header{Version: 2, Command: Proxy, Family: Inet, Transport: Stream, Source: src}, true},
		{Header{Version: 1, Command: Proxy, Family: Inet6, Transport: Stream, Source: ap("[2001:db8::1]:1")}, true},
		{Header{Version: 2, Command: Local, Family: Inet, Transport: Stream, Source: src}, false},
		{Header{Version: 2, Command: Proxy, Family: Inet, Transport: Dgram, Source: src}, false},
		{Header{Version: 2, Command: Proxy, Family: Unix, Transport: Stream}, false},
		{Header{Version: 1, Command: Proxy}, false},
	} {
		a, ok := c.h.Client()
		if ok != c.ok || (ok && a != c.h.Source) {
			t.Errorf("%+v.Client() = %v, %v; want %v", c.h, a, ok, c.ok)
		}
	}
}

// TestParserSize pins the parser's size: it is pooled while a header is
// read, but a connection that stalls in its header holds one.
func TestParserSize(t *testing.T) {
	if size := unsafe.Sizeof(Parser{}); size > 128 {
		t.Fatalf("Parser is %d bytes; want at most 128", size)
	}
}
