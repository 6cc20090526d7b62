package proxyproto

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// AppendHeader appends h to dst in the format of h.Version (1: text, spec
// §2.1; anything else: binary, spec §2.2) and returns the extended slice:
// what a sender writes before relaying a connection's bytes.
//
// Version 1 says only TCP4, TCP6 and UNKNOWN: a Local command or a family
// or transport it cannot say is written as "PROXY UNKNOWN\r\n". Version 2
// writes the address block for the Proxy command over Inet or Inet6 (with a
// Stream or Dgram transport) and 216 zero bytes for Unix (this package
// carries no AF_UNIX addresses); the Local command and the Unspec family or
// transport get none (spec §2.2: "When a sender presents a LOCAL
// connection, it should not present any address"). No TLV is written.
//
// The addresses must be of h.Family (IPv4 for Inet, IPv6 for Inet6) where
// they are written.
func AppendHeader(dst []byte, h Header) []byte {
	if h.Version == 1 {
		return appendV1(dst, h)
	}
	return appendV2(dst, h)
}

func appendV1(dst []byte, h Header) []byte {
	if h.Command != Proxy || h.Transport != Stream || (h.Family != Inet && h.Family != Inet6) {
		return append(dst, "PROXY UNKNOWN\r\n"...)
	}
	if h.Family == Inet {
		dst = append(dst, "PROXY TCP4 "...)
	} else {
		dst = append(dst, "PROXY TCP6 "...)
	}
	dst = appendAddrV1(dst, h.Source.Addr())
	dst = append(dst, ' ')
	dst = appendAddrV1(dst, h.Destination.Addr())
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Source.Port()), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Destination.Port()), 10)
	return append(dst, "\r\n"...)
}

func appendV2(dst []byte, h Header) []byte {
	dst = append(dst, signature...)
	dst = append(dst, 0x20|byte(h.Command&0xf), byte(h.Family)<<4|byte(h.Transport&0xf))
	addrs := h.Command == Proxy && h.Transport != TransportUnspec
	switch {
	case addrs && h.Family == Inet:
		dst = binary.BigEndian.AppendUint16(dst, v2InetLength)
		s, d := h.Source.Addr().As4(), h.Destination.Addr().As4()
		dst = append(append(dst, s[:]...), d[:]...)
	case addrs && h.Family == Inet6:
		dst = binary.BigEndian.AppendUint16(dst, v2Inet6Length)
		s, d := h.Source.Addr().As16(), h.Destination.Addr().As16()
		dst = append(append(dst, s[:]...), d[:]...)
	case h.Command == Proxy && h.Family == Unix:
		dst = binary.BigEndian.AppendUint16(dst, v2UnixLength)
		return append(dst, make([]byte, v2UnixLength)...)
	default:
		return binary.BigEndian.AppendUint16(dst, 0)
	}
	dst = binary.BigEndian.AppendUint16(dst, h.Source.Port())
	return binary.BigEndian.AppendUint16(dst, h.Destination.Port())
}

// appendAddrV1 writes a in the text form of spec §2.1: an IPv4-mapped IPv6
// address in hexadecimal groups, not netip's "::ffff:192.0.2.1".
func appendAddrV1(dst []byte, a netip.Addr) []byte {
	if a.Is4In6() {
		return append(dst, a.StringExpanded()...)
	}
	return a.AppendTo(dst)
}
