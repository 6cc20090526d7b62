package proxyproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
)

// randHeader returns a PROXY-command header relaying TCP between random
// addresses of a random family, in a random version.
func randHeader(r *rand.Rand) Header {
	h := Header{Version: uint8(1 + r.IntN(2)), Command: Proxy, Family: Inet, Transport: Stream}
	addr := func() netip.Addr {
		if h.Family == Inet {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], r.Uint32())
			return netip.AddrFrom4(b)
		}
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], r.Uint64())
		binary.BigEndian.PutUint64(b[8:], r.Uint64())
		switch r.IntN(4) { // runs of zeroes, for "::"
		case 0:
			clear(b[2:12])
		case 1:
			clear(b[:14])
		}
		return netip.AddrFrom16(b)
	}
	if r.IntN(2) == 0 {
		h.Family = Inet6
	}
	h.Source = netip.AddrPortFrom(addr(), uint16(r.Uint32()))
	h.Destination = netip.AddrPortFrom(addr(), uint16(r.Uint32()))
	return h
}

// TestAppendHeaderRoundTrip encodes random headers and parses them back,
// whole and one byte at a time.
func TestAppendHeaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		h := randHeader(r)
		b := AppendHeader(nil, h)
		for _, size := range []int{len(b), 1} {
			if got := ppFeed(b, size); got.err != "" || got.end != len(b) || got.h != h {
				t.Fatalf("AppendHeader(%+v) = %q, parsed in chunks of %d as %+v", h, b, size, got)
			}
		}
	}
}

// TestAgreeIndependentEncoders checks the parser against headers written
// another way: version 1 with fmt and net.IP's own text form, version 2 with
// encoding/binary writing the spec's proxy_hdr_v2 struct and the fields of
// proxy_addr in order (spec §2.2).
func TestAgreeIndependentEncoders(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		h := randHeader(r)
		if h.Family == Inet6 && (h.Source.Addr().Is4In6() || h.Destination.Addr().Is4In6()) {
			continue // net.IP prints these dotted, which TCP6 does not allow
		}
		var b []byte
		if h.Version == 1 {
			proto := map[Family]string{Inet: "TCP4", Inet6: "TCP6"}[h.Family]
			b = fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", proto,
				net.IP(h.Source.Addr().AsSlice()), net.IP(h.Destination.Addr().AsSlice()), h.Source.Port(), h.Destination.Port())
		} else {
			var w bytes.Buffer
			fixed := struct {
				Sig    [12]byte
				VerCmd byte
				Fam    byte
				Len    uint16
			}{VerCmd: 0x21, Fam: byte(h.Family)<<4 | 1}
			copy(fixed.Sig[:], "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A")
			src, dst := h.Source.Addr().AsSlice(), h.Destination.Addr().AsSlice()
			fixed.Len = uint16(2*len(src) + 4)
			binary.Write(&w, binary.BigEndian, fixed)
			w.Write(src)
			w.Write(dst)
			binary.Write(&w, binary.BigEndian, [2]uint16{h.Source.Port(), h.Destination.Port()})
			b = w.Bytes()
		}
		if got := ppFeed(b, len(b)); got.err != "" || got.end != len(b) || got.h != h {
			t.Fatalf("header %q (written for %+v) parsed as %+v", b, h, got)
		}
		if again := AppendHeader(nil, h); h.Version == 2 && !bytes.Equal(again, b) {
			t.Fatalf("AppendHeader(%+v) = %q; encoding/binary wrote %q", h, again, b)
		}
	}
}

// TestAppendHeaderUnsayable checks what each version writes for headers it
// cannot carry.
func TestAppendHeaderUnsayable(t *testing.T) {
	for _, c := range []struct {
		h    Header
		want string
	}{
		{Header{Version: 1, Command: Local}, "PROXY UNKNOWN\r\n"},
		{Header{Version: 1, Command: Proxy, Family: Unix, Transport: Stream}, "PROXY UNKNOWN\r\n"},
		{Header{Version: 2, Command: Local}, signature + "\x20\x00\x00\x00"},
		{Header{Version: 2, Command: Proxy}, signature + "\x21\x00\x00\x00"},
		{Header{Version: 1, Command: Proxy, Family: Inet6, Transport: Stream, Source: ap("[::ffff:192.0.2.1]:1"), Destination: ap("[::1]:2")},
			"PROXY TCP6 0000:0000:0000:0000:0000:ffff:c000:0201 ::1 1 2\r\n"},
	} {
		if got := string(AppendHeader(nil, c.h)); got != c.want {
			t.Errorf("AppendHeader(%+v) = %q; want %q", c.h, got, c.want)
		}
	}
}
