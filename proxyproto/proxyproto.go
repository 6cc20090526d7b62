// Package proxyproto reads the PROXY protocol header that a load balancer
// (HAProxy, a cloud TCP balancer, stunnel) sends at the start of each
// connection it relays, to tell the server who the client really is.
// The specification is HAProxy's "The PROXY protocol, Versions 1 & 2"
// (doc/proxy-protocol.txt in HAProxy's sources, revision 2020/03/05);
// comments cite its sections as "spec §2.1".
//
// A Parser is fed whatever bytes have arrived, in pieces of any size down to
// one byte, like the WebSocket handshake parser next door: it keeps at most
// one header's worth of state (a fixed 107-byte buffer) and never holds on to
// a slice it was given. AppendHeader writes a header, for senders and tests.
//
// The package imports only the standard library.
package proxyproto

import (
	"errors"
	"net/netip"
)

// Sizes of the spec.
const (
	// MaxV1Length is the longest version 1 line, CRLF included (spec §2.1:
	// "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n" is
	// 107 characters). A line without CRLF in its first 107 bytes is
	// rejected.
	MaxV1Length = 107

	// V2FixedLength is the fixed part of a version 2 header: the 12-byte
	// signature, the version-and-command byte, the family-and-protocol byte
	// and the 16-bit length of what follows (spec §2.2).
	V2FixedLength = 16

	// MaxV2Length caps the length field of a version 2 header (the address
	// block plus TLVs). The spec allows up to 65535. What senders put there
	// is far less: the largest address block (AF_UNIX) is 216 bytes and the
	// registered TLVs (ALPN, authority, CRC32C, unique ID of at most 128
	// bytes, SSL version, cipher, client certificate CN) add a few hundred
	// more. Past 4096 a header is refused. Bytes beyond the address block
	// are skipped, never stored, so the cap bounds work, not memory.
	MaxV2Length = 4096
)

// signature is the 12 bytes that start a version 2 header (spec §2.2).
const signature = "\r\n\r\n\x00\r\nQUIT\n"

// v1Prefix starts a version 1 line (spec §2.1).
const v1Prefix = "PROXY "

// Command says whether a connection is relayed (spec §2.2, the low four bits
// of the 13th byte).
type Command uint8

const (
	// Local: the balancer opened the connection itself (a health check);
	// the connection's own endpoints are the real ones.
	Local Command = 0x0
	// Proxy: the connection is relayed on behalf of the client in the
	// header. Every version 1 header is a Proxy command.
	Proxy Command = 0x1
)

// Family is the address family of the relayed connection (spec §2.2, the
// high four bits of the 14th byte; version 1's TCP4, TCP6 and UNKNOWN map
// to Inet, Inet6 and Unspec).
type Family uint8

const (
	Unspec Family = 0x0 // unknown or unsupported: use the real endpoints
	Inet   Family = 0x1 // IPv4
	Inet6  Family = 0x2 // IPv6
	Unix   Family = 0x3 // AF_UNIX (not decoded: the real endpoints are used)
)

// Transport is the socket type of the relayed connection (spec §2.2, the low
// four bits of the 14th byte; version 1 is always Stream, TCP).
type Transport uint8

const (
	TransportUnspec Transport = 0x0
	Stream          Transport = 0x1 // TCP
	Dgram           Transport = 0x2 // UDP
)

// Header is a parsed PROXY protocol header.
type Header struct {
	Version   uint8 // 1 (text) or 2 (binary)
	Command   Command
	Family    Family
	Transport Transport
	// Source and Destination are the relayed connection's endpoints: the
	// client, and the address the client connected to on the balancer.
	// They are set for the Proxy command over Inet or Inet6 with a Stream
	// or Dgram transport, and are the zero AddrPort otherwise.
	Source, Destination netip.AddrPort
}

// Client returns the address the connection is to be taken as coming from:
// h.Source when the header relays a TCP connection over IPv4 or IPv6 (ok is
// true); otherwise ok is false and the connection's own peer address is the
// real one: a LOCAL command (spec §2.2: "the receiver must use the real
// connection endpoints"), version 1 UNKNOWN (spec §2.1: "use the real
// connection's parameters as if there were no PROXY protocol header"), an
// unspecified, AF_UNIX or datagram relay (spec §2.2: a receiver that does
// not support them "falls back to the UNSPEC mode").
func (h Header) Client() (addr netip.AddrPort, ok bool) {
	if h.Command == Proxy && h.Transport == Stream && (h.Family == Inet || h.Family == Inet6) {
		return h.Source, true
	}
	return netip.AddrPort{}, false
}

// Errors. Every error a Parser returns wraps one of these (use errors.Is);
// its message starts with "proxyproto: " and quotes the offending bytes.
var (
	// ErrNotProxy: the connection does not start with either signature, so
	// its sender does not speak the PROXY protocol at all (a client that
	// connected directly, say). Spec §2.2: "otherwise the protocol is not
	// covered by this specification and the connection must be dropped".
	ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")
	// ErrInvalid: the header starts like one but breaks the spec. Spec
	// §2.1: "Any sequence which does not exactly match the protocol must be
	// discarded and cause the receiver to abort the connection."
	ErrInvalid = errors.New("proxyproto: invalid PROXY protocol header")
)
